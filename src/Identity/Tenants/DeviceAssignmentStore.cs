using Npgsql;

namespace Outpost.Identity.Tenants;

/// <summary>Assignments of edge devices to tenants. A device without a row is shared.</summary>
public sealed class DeviceAssignmentStore(NpgsqlDataSource dataSource, TimeProvider timeProvider)
{
    public const int MaxDeviceIdLength = 200;

    /// <summary>Assigns the device to <paramref name="tenantId"/>, or makes it shared when that is null.</summary>
    public async Task<DeviceAssignment> SetAsync(string deviceId, string? tenantId, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(deviceId) || deviceId.Length > MaxDeviceIdLength)
        {
            throw new IdentityStoreException(IdentityError.Invalid, $"the device id must be 1-{MaxDeviceIdLength} characters.");
        }

        await using var command = dataSource.CreateCommand("""
            INSERT INTO outpost_device_assignments (device_id, tenant_id, updated_at) VALUES (@device, @tenant, @now)
            ON CONFLICT (device_id) DO UPDATE SET tenant_id = EXCLUDED.tenant_id, updated_at = EXCLUDED.updated_at
            """);
        command.Parameters.AddWithValue("device", deviceId);
        command.Parameters.Add(new NpgsqlParameter<string?>("tenant", tenantId) { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        var now = timeProvider.GetUtcNow();
        command.Parameters.AddWithValue("now", now);
        try
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.ForeignKeyViolation)
        {
            throw new IdentityStoreException(IdentityError.NotFound, $"tenant '{tenantId}' does not exist.");
        }

        return new DeviceAssignment(deviceId, tenantId, now);
    }

    /// <summary>The device's assignment; a device never assigned is shared.</summary>
    public async Task<DeviceAssignment?> FindAsync(string deviceId, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT device_id, tenant_id, updated_at FROM outpost_device_assignments WHERE device_id = @device");
        command.Parameters.AddWithValue("device", deviceId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    public async Task<IReadOnlyList<DeviceAssignment>> ListAsync(CancellationToken cancellationToken = default)
    {
        var assignments = new List<DeviceAssignment>();
        await using var command = dataSource.CreateCommand(
            "SELECT device_id, tenant_id, updated_at FROM outpost_device_assignments ORDER BY device_id");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            assignments.Add(Read(reader));
        }

        return assignments;
    }

    /// <summary>Device id to owning tenant, for the devices assigned to one tenant (a shared device is absent).</summary>
    public async Task<IReadOnlyDictionary<string, string>> OwnersAsync(CancellationToken cancellationToken = default)
    {
        var assignments = await ListAsync(cancellationToken);
        return assignments.Where(a => a.TenantId is not null).ToDictionary(a => a.DeviceId, a => a.TenantId!, StringComparer.Ordinal);
    }

    private static DeviceAssignment Read(NpgsqlDataReader reader) =>
        new(reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2));
}
