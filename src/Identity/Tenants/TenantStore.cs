using System.Text.RegularExpressions;
using Npgsql;

namespace Outpost.Identity.Tenants;

/// <summary>Tenants in PostgreSQL. The <c>system</c> tenant exists from the schema's creation on.</summary>
public sealed partial class TenantStore(NpgsqlDataSource dataSource, TimeProvider timeProvider)
{
    public const int MaxDisplayNameLength = 200;

    /// <summary>Lower-case letters, digits and inner hyphens, 1-63 characters (a DNS label): safe in keys and URLs.</summary>
    public static bool IsValidId(string? tenantId) => tenantId is not null && TenantIdPattern().IsMatch(tenantId);

    public async Task<Tenant> CreateAsync(string tenantId, string? displayName, CancellationToken cancellationToken = default)
    {
        if (!IsValidId(tenantId))
        {
            throw new IdentityStoreException(
                IdentityError.Invalid,
                $"'{tenantId}' is not a valid tenant id: use 1-63 lower-case letters, digits and inner hyphens.");
        }

        displayName = string.IsNullOrWhiteSpace(displayName) ? tenantId : displayName.Trim();
        if (displayName.Length > MaxDisplayNameLength)
        {
            throw new IdentityStoreException(IdentityError.Invalid, $"the display name is longer than {MaxDisplayNameLength} characters.");
        }

        await using var command = dataSource.CreateCommand("""
            INSERT INTO outpost_tenants (tenant_id, display_name, created_at) VALUES (@id, @name, @now)
            ON CONFLICT (tenant_id) DO NOTHING
            RETURNING created_at
            """);
        command.Parameters.AddWithValue("id", tenantId);
        command.Parameters.AddWithValue("name", displayName);
        command.Parameters.AddWithValue("now", timeProvider.GetUtcNow());
        if (await command.ExecuteScalarAsync(cancellationToken) is null)
        {
            throw new IdentityStoreException(IdentityError.Conflict, $"tenant '{tenantId}' already exists.");
        }

        return (await FindAsync(tenantId, cancellationToken))!;
    }

    public async Task<Tenant?> FindAsync(string tenantId, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT tenant_id, display_name, created_at FROM outpost_tenants WHERE tenant_id = @id");
        command.Parameters.AddWithValue("id", tenantId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    public async Task<IReadOnlyList<Tenant>> ListAsync(CancellationToken cancellationToken = default)
    {
        var tenants = new List<Tenant>();
        await using var command = dataSource.CreateCommand(
            "SELECT tenant_id, display_name, created_at FROM outpost_tenants ORDER BY tenant_id");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            tenants.Add(Read(reader));
        }

        return tenants;
    }

    private static Tenant Read(NpgsqlDataReader reader) =>
        new(reader.GetString(0), reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2));

    [GeneratedRegex("^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")]
    private static partial Regex TenantIdPattern();
}
