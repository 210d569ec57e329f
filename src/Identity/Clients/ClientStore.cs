using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.IdentityModel.Tokens;
using Npgsql;

namespace Outpost.Identity.Clients;

/// <summary>
/// OAuth clients in PostgreSQL. Secrets are 256 random bits, shown once and stored as SHA-256: a hash of that much
/// entropy cannot be reversed by guessing, so a slow password hash would add cost and no safety.
/// </summary>
public sealed partial class ClientStore(NpgsqlDataSource dataSource, TimeProvider timeProvider)
{
    public const int MaxNameLength = 200;

    private const string ClientIdPrefix = "oc_";
    private const string SecretPrefix = "ocs_";
    private const string Columns =
        "client_id, tenant_id, name, kind, allowed_scopes, certificate_thumbprint, created_at, disabled_at";

    // Compared against when the client does not exist, so that unknown and known ids take the same time.
    private static readonly byte[] DummyHash = SHA256.HashData("outpost-no-such-client"u8);

    public async Task<CreatedClient> CreateAsync(
        string tenantId,
        string name,
        ClientKind kind,
        IEnumerable<string> allowedScopes,
        string? certificateThumbprint = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(allowedScopes);
        if (string.IsNullOrWhiteSpace(name) || name.Trim().Length > MaxNameLength)
        {
            throw new IdentityStoreException(IdentityError.Invalid, $"the client name must be 1-{MaxNameLength} characters.");
        }

        var scopes = ScopeList.Validate(allowedScopes);
        if (scopes.Count == 0)
        {
            throw new IdentityStoreException(IdentityError.Invalid, "a client needs at least one allowed scope.");
        }

        var thumbprint = certificateThumbprint is null ? null : NormalizeThumbprint(certificateThumbprint);
        var clientId = ClientIdPrefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
        var secret = kind == ClientKind.Confidential
            ? SecretPrefix + Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32))
            : null;

        await using var command = dataSource.CreateCommand($"""
            INSERT INTO outpost_clients (client_id, tenant_id, name, kind, secret_hash, allowed_scopes, certificate_thumbprint, created_at)
            VALUES (@id, @tenant, @name, @kind, @hash, @scopes, @thumbprint, @now)
            RETURNING {Columns}
            """);
        command.Parameters.AddWithValue("id", clientId);
        command.Parameters.AddWithValue("tenant", tenantId);
        command.Parameters.AddWithValue("name", name.Trim());
        command.Parameters.AddWithValue("kind", KindName(kind));
        command.Parameters.Add(new NpgsqlParameter<byte[]?>("hash", secret is null ? null : HashSecret(secret)));
        command.Parameters.AddWithValue("scopes", scopes.ToArray());
        command.Parameters.Add(new NpgsqlParameter<string?>("thumbprint", thumbprint));
        command.Parameters.AddWithValue("now", timeProvider.GetUtcNow());
        try
        {
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            return new CreatedClient(Read(reader), secret);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.ForeignKeyViolation)
        {
            throw new IdentityStoreException(IdentityError.NotFound, $"tenant '{tenantId}' does not exist.");
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            throw new IdentityStoreException(IdentityError.Conflict, "another client already uses this certificate thumbprint.");
        }
    }

    public async Task<OAuthClient?> FindAsync(string clientId, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand($"SELECT {Columns} FROM outpost_clients WHERE client_id = @id");
        command.Parameters.AddWithValue("id", clientId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    public async Task<IReadOnlyList<OAuthClient>> ListAsync(string tenantId, CancellationToken cancellationToken = default)
    {
        var clients = new List<OAuthClient>();
        await using var command = dataSource.CreateCommand(
            $"SELECT {Columns} FROM outpost_clients WHERE tenant_id = @tenant ORDER BY created_at, client_id");
        command.Parameters.AddWithValue("tenant", tenantId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            clients.Add(Read(reader));
        }

        return clients;
    }

    /// <summary>The enabled client whose certificate (SHA-256 of its DER bytes) has this thumbprint, for mTLS.</summary>
    public async Task<OAuthClient?> FindByCertificateThumbprintAsync(string thumbprint, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(thumbprint);
        string normalized;
        try
        {
            normalized = NormalizeThumbprint(thumbprint);
        }
        catch (IdentityStoreException)
        {
            return null;
        }

        await using var command = dataSource.CreateCommand(
            $"SELECT {Columns} FROM outpost_clients WHERE certificate_thumbprint = @thumbprint AND disabled_at IS NULL");
        command.Parameters.AddWithValue("thumbprint", normalized);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    /// <summary>
    /// The client when <paramref name="secret"/> is its secret and it is enabled and confidential; null otherwise,
    /// without saying which (the caller answers <c>invalid_client</c> either way). Compares in constant time.
    /// </summary>
    public async Task<OAuthClient?> ValidateSecretAsync(string clientId, string secret, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(clientId);
        ArgumentNullException.ThrowIfNull(secret);
        byte[]? stored = null;
        OAuthClient? client = null;
        await using (var command = dataSource.CreateCommand(
            $"SELECT {Columns}, secret_hash FROM outpost_clients WHERE client_id = @id"))
        {
            command.Parameters.AddWithValue("id", clientId);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken))
            {
                client = Read(reader);
                stored = reader.IsDBNull(8) ? null : reader.GetFieldValue<byte[]>(8);
            }
        }

        var matches = CryptographicOperations.FixedTimeEquals(HashSecret(secret), stored ?? DummyHash);
        return matches && stored is not null && client is { IsDisabled: false, Kind: ClientKind.Confidential } ? client : null;
    }

    /// <summary>Replaces the allowed scopes and/or enables or disables the client; null leaves a field as it is.</summary>
    public async Task<OAuthClient?> UpdateAsync(
        string tenantId,
        string clientId,
        IEnumerable<string>? allowedScopes,
        bool? disabled,
        CancellationToken cancellationToken = default)
    {
        var scopes = allowedScopes is null ? null : ScopeList.Validate(allowedScopes);
        if (scopes is { Count: 0 })
        {
            throw new IdentityStoreException(IdentityError.Invalid, "a client needs at least one allowed scope.");
        }

        await using var command = dataSource.CreateCommand($"""
            UPDATE outpost_clients
               SET allowed_scopes = coalesce(@scopes, allowed_scopes),
                   disabled_at = CASE WHEN @disabled IS NULL THEN disabled_at
                                      WHEN @disabled THEN coalesce(disabled_at, @now)
                                      ELSE NULL END
             WHERE tenant_id = @tenant AND client_id = @id
            RETURNING {Columns}
            """);
        command.Parameters.Add(new NpgsqlParameter<string[]?>("scopes", scopes?.ToArray()) { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<bool?>("disabled", disabled) { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Boolean });
        command.Parameters.AddWithValue("now", timeProvider.GetUtcNow());
        command.Parameters.AddWithValue("tenant", tenantId);
        command.Parameters.AddWithValue("id", clientId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    /// <summary>Accepts hex with or without colons or spaces, either case; returns 64 upper-case hex digits.</summary>
    public static string NormalizeThumbprint(string thumbprint)
    {
        ArgumentNullException.ThrowIfNull(thumbprint);
        var hex = Separators().Replace(thumbprint, "").ToUpperInvariant();
        if (!Sha256Hex().IsMatch(hex))
        {
            throw new IdentityStoreException(
                IdentityError.Invalid, "the certificate thumbprint must be the SHA-256 of the certificate: 64 hex digits.");
        }

        return hex;
    }

    private static byte[] HashSecret(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    private static string KindName(ClientKind kind) => kind == ClientKind.Public ? "public" : "confidential";

    private static OAuthClient Read(NpgsqlDataReader reader) => new(
        reader.GetString(0),
        reader.GetString(1),
        reader.GetString(2),
        string.Equals(reader.GetString(3), "public", StringComparison.Ordinal) ? ClientKind.Public : ClientKind.Confidential,
        reader.GetFieldValue<string[]>(4),
        reader.IsDBNull(5) ? null : reader.GetString(5),
        reader.GetFieldValue<DateTimeOffset>(6),
        reader.IsDBNull(7) ? null : reader.GetFieldValue<DateTimeOffset>(7));

    [GeneratedRegex("[:\\s]")]
    private static partial Regex Separators();

    [GeneratedRegex("^[0-9A-F]{64}$")]
    private static partial Regex Sha256Hex();
}
