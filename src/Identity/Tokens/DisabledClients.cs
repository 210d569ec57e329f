using System.Collections.Frozen;
using Npgsql;

namespace Outpost.Identity.Tokens;

/// <summary>
/// The clients that are disabled, as every process that verifies tokens sees them: a snapshot read from
/// <c>outpost_clients</c> with the signing keys (every <c>SigningKeys:RefreshInterval</c>, 30 s by default) and updated
/// at once when this process disables a client. A token whose <c>client_id</c> is in it is refused, so disabling a
/// client revokes its live tokens everywhere within one refresh interval.
/// </summary>
public sealed class DisabledClients(NpgsqlDataSource dataSource)
{
    private FrozenSet<string> _disabled = FrozenSet<string>.Empty;

    public bool Contains(string clientId) => Volatile.Read(ref _disabled).Contains(clientId);

    /// <summary>Reads the disabled clients again.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken = default)
    {
        var disabled = new HashSet<string>(StringComparer.Ordinal);
        await using var command = dataSource.CreateCommand("SELECT client_id FROM outpost_clients WHERE disabled_at IS NOT NULL");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            disabled.Add(reader.GetString(0));
        }

        Volatile.Write(ref _disabled, disabled.ToFrozenSet(StringComparer.Ordinal));
    }

    /// <summary>Takes a change this process just made, without waiting for the next refresh.</summary>
    public void Set(string clientId, bool disabled)
    {
        ArgumentNullException.ThrowIfNull(clientId);
        FrozenSet<string> current, next;
        do
        {
            current = Volatile.Read(ref _disabled);
            next = disabled ? current.Append(clientId).ToFrozenSet(StringComparer.Ordinal) : current.Where(id => id != clientId).ToFrozenSet(StringComparer.Ordinal);
        }
        while (Interlocked.CompareExchange(ref _disabled, next, current) != current);
    }
}
