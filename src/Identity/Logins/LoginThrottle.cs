using System.Globalization;
using System.Net;
using Npgsql;

namespace Outpost.Identity.Logins;

/// <summary>
/// Slows and then stops password guessing, per account and per address, before any password hash is computed. The
/// first <see cref="FreeFailures"/> consecutive failures of a key cost nothing; each further one locks the key for
/// twice as long as the last (1 s, 2 s, 4 s, ... up to <see cref="MaxBackoff"/>); at <see cref="LockoutFailures"/> an
/// account is locked for <see cref="AccountLockout"/> (an address for <see cref="AddressLockout"/>) unless an admin
/// clears it (<c>outpost admin unlock</c>). A success clears the account's count. State is in PostgreSQL, shared by
/// every gateway.
/// </summary>
public sealed class LoginThrottle(NpgsqlDataSource dataSource, TimeProvider time)
{
    public const int FreeFailures = 3;
    public const int LockoutFailures = 10;
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan AccountLockout = TimeSpan.FromHours(1);
    public static readonly TimeSpan AddressLockout = TimeSpan.FromMinutes(15);

    /// <summary>How long the caller must wait before this account or address may try again, or null when it may now.</summary>
    public async Task<TimeSpan?> WaitAsync(string tenant, string username, IPAddress? address, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT max(locked_until) FROM outpost_login_throttle WHERE throttle_key = ANY(@keys)");
        command.Parameters.AddWithValue("keys", Keys(tenant, username, address));
        var lockedUntil = await command.ExecuteScalarAsync(cancellationToken) is DateTime until ? new DateTimeOffset(until, TimeSpan.Zero) : (DateTimeOffset?)null;
        var now = time.GetUtcNow();
        return lockedUntil > now ? lockedUntil - now : null;
    }

    /// <summary>Counts a failed sign-in against the account and the address, and locks them as the rules say.</summary>
    public async Task RecordFailureAsync(string tenant, string username, IPAddress? address, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        foreach (var key in Keys(tenant, username, address))
        {
            await using var command = dataSource.CreateCommand("""
                INSERT INTO outpost_login_throttle AS t (throttle_key, failures, locked_until, updated_at)
                VALUES (@key, 1, NULL, @now)
                ON CONFLICT (throttle_key) DO UPDATE SET failures = t.failures + 1, updated_at = @now
                RETURNING failures
                """);
            command.Parameters.AddWithValue("key", key);
            command.Parameters.AddWithValue("now", now);
            var failures = (int)(await command.ExecuteScalarAsync(cancellationToken))!;
            if (LockFor(key, failures) is { } lockFor)
            {
                await using var lockCommand = dataSource.CreateCommand("UPDATE outpost_login_throttle SET locked_until = @until WHERE throttle_key = @key");
                lockCommand.Parameters.AddWithValue("key", key);
                lockCommand.Parameters.AddWithValue("until", now + lockFor);
                await lockCommand.ExecuteNonQueryAsync(cancellationToken);
            }
        }
    }

    /// <summary>A successful sign-in: the account starts afresh (the address keeps its count).</summary>
    public Task RecordSuccessAsync(string tenant, string username, CancellationToken cancellationToken = default) =>
        ClearAsync(tenant, username, cancellationToken);

    /// <summary>Clears an account's failures and lockout; true when there was something to clear.</summary>
    public async Task<bool> ClearAsync(string tenant, string username, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("DELETE FROM outpost_login_throttle WHERE throttle_key = @key");
        command.Parameters.AddWithValue("key", AccountKey(tenant, username));
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    private static TimeSpan? LockFor(string key, int failures)
    {
        if (failures >= LockoutFailures)
        {
            return key.StartsWith("account:", StringComparison.Ordinal) ? AccountLockout : AddressLockout;
        }

        if (failures <= FreeFailures)
        {
            return null;
        }

        var seconds = Math.Pow(2, failures - FreeFailures - 1);
        return seconds >= MaxBackoff.TotalSeconds ? MaxBackoff : TimeSpan.FromSeconds(seconds);
    }

    private static string AccountKey(string tenant, string username) =>
        $"account:{tenant}/{username.ToLowerInvariant()}";

    private static string[] Keys(string tenant, string username, IPAddress? address) =>
        address is null
            ? [AccountKey(tenant, username)]
            : [AccountKey(tenant, username), "address:" + address.ToString().ToLower(CultureInfo.InvariantCulture)];
}
