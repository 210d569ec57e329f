using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Npgsql;

namespace Outpost.Identity.Tenants;

/// <summary>
/// The people who may approve device sign-ins for a tenant. Passwords are human secrets, so they get a slow hash:
/// PBKDF2-HMAC-SHA256 with <see cref="Iterations"/> iterations (OWASP's figure) and a 128-bit salt; the stored string
/// names the algorithm and count, so that a later build can raise it.
/// </summary>
public sealed partial class TenantAdminStore(NpgsqlDataSource dataSource, TimeProvider timeProvider)
{
    public const int Iterations = 600_000;
    public const int MinPasswordLength = 12;
    public const int MaxPasswordLength = 1024;

    private const string Scheme = "pbkdf2-sha256";
    private const int SaltSize = 16;
    private const int HashSize = 32;

    // Verified against when the user does not exist, so that unknown names take as long as wrong passwords.
    private static readonly Lazy<string> DummyHash = new(() => Hash("outpost-no-such-admin", Iterations));

    /// <summary>
    /// How many password verifications may run at once in this process: half the cores (at least one), so that
    /// anonymous sign-in attempts can never occupy every core with PBKDF2.
    /// </summary>
    public static readonly int ConcurrentVerifications = Math.Max(1, Environment.ProcessorCount / 2);

    /// <summary>How long a verification waits for a slot before the sign-in is refused as busy.</summary>
    public static readonly TimeSpan VerificationWait = TimeSpan.FromSeconds(10);

    private static readonly SemaphoreSlim VerificationSlots = new(ConcurrentVerifications, ConcurrentVerifications);
    private static readonly System.Diagnostics.Metrics.Meter Meter = new("Outpost.Identity");
    private static readonly System.Diagnostics.Metrics.Counter<long> Verifications =
        Meter.CreateCounter<long>("outpost.identity.password_verifications", description: "Password hashes computed to verify a sign-in.");

    public static bool IsValidUsername(string? username) => username is not null && UsernamePattern().IsMatch(username);

    public async Task CreateAsync(string tenantId, string username, string password, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(password);
        if (!IsValidUsername(username))
        {
            throw new IdentityStoreException(
                IdentityError.Invalid, "the username must be 1-100 letters, digits, '.', '_', '@' or '-'.");
        }

        if (password.Length < MinPasswordLength || password.Length > MaxPasswordLength)
        {
            throw new IdentityStoreException(
                IdentityError.Invalid, $"the password must be {MinPasswordLength} to {MaxPasswordLength} characters long.");
        }

        await using var command = dataSource.CreateCommand("""
            INSERT INTO outpost_tenant_admins (tenant_id, username, password_hash, created_at) VALUES (@tenant, @username, @hash, @now)
            """);
        command.Parameters.AddWithValue("tenant", tenantId);
        command.Parameters.AddWithValue("username", username);
        command.Parameters.AddWithValue("hash", Hash(password, Iterations));
        command.Parameters.AddWithValue("now", timeProvider.GetUtcNow());
        try
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.ForeignKeyViolation)
        {
            throw new IdentityStoreException(IdentityError.NotFound, $"tenant '{tenantId}' does not exist.");
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            throw new IdentityStoreException(IdentityError.Conflict, $"tenant '{tenantId}' already has an admin named '{username}'.");
        }
    }

    /// <summary>True when the tenant has this admin and the password is theirs. Takes as long for unknown names.</summary>
    public async Task<bool> VerifyAsync(string tenantId, string username, string password, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(password);
        string? stored = null;
        if (TenantStore.IsValidId(tenantId) && IsValidUsername(username) && password.Length <= MaxPasswordLength)
        {
            await using var command = dataSource.CreateCommand(
                "SELECT password_hash FROM outpost_tenant_admins WHERE tenant_id = @tenant AND username = @username");
            command.Parameters.AddWithValue("tenant", tenantId);
            command.Parameters.AddWithValue("username", username);
            stored = await command.ExecuteScalarAsync(cancellationToken) as string;
        }

        if (!await VerificationSlots.WaitAsync(VerificationWait, cancellationToken))
        {
            throw new IdentityStoreException(IdentityError.Busy, "Too many sign-ins are being checked right now; try again in a few seconds.");
        }

        try
        {
            Verifications.Add(1);
            var matches = Verify(password.Length <= MaxPasswordLength ? password : "", stored ?? DummyHash.Value);
            return matches && stored is not null;
        }
        finally
        {
            VerificationSlots.Release();
        }
    }

    public async Task<IReadOnlyList<string>> ListAsync(string tenantId, CancellationToken cancellationToken = default)
    {
        var names = new List<string>();
        await using var command = dataSource.CreateCommand(
            "SELECT username FROM outpost_tenant_admins WHERE tenant_id = @tenant ORDER BY username");
        command.Parameters.AddWithValue("tenant", tenantId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            names.Add(reader.GetString(0));
        }

        return names;
    }

    private static string Hash(string password, int iterations)
    {
        var salt = RandomNumberGenerator.GetBytes(SaltSize);
        var hash = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, HashSize);
        return string.Join('$', Scheme, iterations.ToString(CultureInfo.InvariantCulture), Convert.ToBase64String(salt), Convert.ToBase64String(hash));
    }

    private static bool Verify(string password, string stored)
    {
        var parts = stored.Split('$');
        if (parts.Length != 4
            || !string.Equals(parts[0], Scheme, StringComparison.Ordinal)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var iterations)
            || iterations < 1)
        {
            return false;
        }

        var salt = Convert.FromBase64String(parts[2]);
        var expected = Convert.FromBase64String(parts[3]);
        var actual = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, expected.Length);
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }

    [GeneratedRegex("^[A-Za-z0-9._@-]{1,100}$")]
    private static partial Regex UsernamePattern();
}
