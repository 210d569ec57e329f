using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using Npgsql;

namespace Outpost.Identity.DeviceFlow;

/// <summary>
/// Device authorization requests (RFC 8628) in PostgreSQL, so that any gateway can answer any poll. Device codes are
/// bearer secrets of 256 bits and only their SHA-256 is stored. User codes are 8 characters from 20 consonants
/// (RFC 8628 §6.1: no vowels, so no words, and nothing to confuse: no 0/O, 1/I/L ambiguity), about 34.5 bits.
/// </summary>
public sealed class DeviceCodeStore(NpgsqlDataSource dataSource, IOptions<DeviceFlowOptions> options, TimeProvider timeProvider)
{
    public const string UserCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ";
    public const int UserCodeLength = 8;

    /// <summary>RFC 8628 §3.5: each <c>slow_down</c> makes the device wait this much longer.</summary>
    public const int SlowDownIncrementSeconds = 5;

    private const int CreateAttempts = 5;

    // Expired requests are kept a while, so that a late poll hears expired_token rather than invalid_grant.
    private static readonly TimeSpan ExpiredRetention = TimeSpan.FromHours(1);

    public async Task<DeviceAuthorization> CreateAsync(string clientId, IReadOnlyCollection<string> scopes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(scopes);
        var settings = options.Value;
        var now = timeProvider.GetUtcNow();
        var expiresAt = now + settings.CodeLifetime;

        await using (var sweep = dataSource.CreateCommand("DELETE FROM outpost_device_codes WHERE expires_at < @cutoff"))
        {
            sweep.Parameters.AddWithValue("cutoff", now - ExpiredRetention);
            await sweep.ExecuteNonQueryAsync(cancellationToken);
        }

        for (var attempt = 1; ; attempt++)
        {
            var deviceCode = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
            var userCode = RandomNumberGenerator.GetString(UserCodeAlphabet, UserCodeLength);
            await using var command = dataSource.CreateCommand("""
                INSERT INTO outpost_device_codes (device_code_hash, user_code, client_id, scopes, status, created_at, expires_at, interval_seconds)
                VALUES (@hash, @user_code, @client, @scopes, 'pending', @now, @expires, @interval)
                """);
            command.Parameters.AddWithValue("hash", Hash(deviceCode));
            command.Parameters.AddWithValue("user_code", userCode);
            command.Parameters.AddWithValue("client", clientId);
            command.Parameters.AddWithValue("scopes", ScopeList.Normalize(scopes).ToArray());
            command.Parameters.AddWithValue("now", now);
            command.Parameters.AddWithValue("expires", expiresAt);
            command.Parameters.AddWithValue("interval", settings.IntervalSeconds);
            try
            {
                await command.ExecuteNonQueryAsync(cancellationToken);
                return new DeviceAuthorization(deviceCode, FormatUserCode(userCode), expiresAt, settings.CodeLifetime, settings.IntervalSeconds);
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation && attempt < CreateAttempts)
            {
                // A live user code was drawn twice: draw again.
            }
        }
    }

    /// <summary>The request behind a user code as typed by a person (any case, with or without the hyphen).</summary>
    public async Task<DeviceCodeInfo?> FindByUserCodeAsync(string? userCode, CancellationToken cancellationToken = default)
    {
        if (NormalizeUserCode(userCode) is not { } normalized)
        {
            return null;
        }

        await using var command = dataSource.CreateCommand(
            "SELECT user_code, client_id, scopes, status, expires_at FROM outpost_device_codes WHERE user_code = @user_code");
        command.Parameters.AddWithValue("user_code", normalized);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new DeviceCodeInfo(
                FormatUserCode(reader.GetString(0)),
                reader.GetString(1),
                reader.GetFieldValue<string[]>(2),
                ParseStatus(reader.GetString(3)),
                reader.GetFieldValue<DateTimeOffset>(4))
            : null;
    }

    /// <summary>
    /// Approves the pending, unexpired request for <paramref name="tenantId"/> (binding the token to that tenant) or
    /// denies it. False when there is no such pending request any more.
    /// </summary>
    public async Task<bool> DecideAsync(string userCode, string tenantId, string decidedBy, bool approve, CancellationToken cancellationToken = default)
    {
        if (NormalizeUserCode(userCode) is not { } normalized)
        {
            return false;
        }

        await using var command = dataSource.CreateCommand("""
            UPDATE outpost_device_codes SET status = @status, tenant_id = @tenant, approved_by = @by
             WHERE user_code = @user_code AND status = 'pending' AND expires_at > @now
            """);
        command.Parameters.AddWithValue("status", approve ? "approved" : "denied");
        command.Parameters.AddWithValue("tenant", tenantId);
        command.Parameters.AddWithValue("by", decidedBy);
        command.Parameters.AddWithValue("user_code", normalized);
        command.Parameters.AddWithValue("now", timeProvider.GetUtcNow());
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    /// <summary>
    /// One poll by <paramref name="clientId"/> for <paramref name="deviceCode"/>, applying RFC 8628 §3.5: too fast is
    /// <c>slow_down</c> (and the interval grows), expiry beats everything but misuse, and an approved code is handed out once.
    /// </summary>
    public async Task<DevicePollResult> PollAsync(string deviceCode, string clientId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(deviceCode);
        var now = timeProvider.GetUtcNow();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        string clientOfCode;
        string? tenantId;
        string[] scopes;
        DeviceCodeStatus status;
        DateTimeOffset expiresAt;
        int interval;
        DateTimeOffset? lastPolledAt;
        string? approvedBy;
        var hash = Hash(deviceCode);
        await using (var select = new NpgsqlCommand("""
            SELECT client_id, tenant_id, scopes, status, expires_at, interval_seconds, last_polled_at, approved_by
              FROM outpost_device_codes WHERE device_code_hash = @hash FOR UPDATE
            """, connection, transaction))
        {
            select.Parameters.AddWithValue("hash", hash);
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken))
            {
                return new DevicePollResult(DevicePollOutcome.InvalidGrant);
            }

            clientOfCode = reader.GetString(0);
            tenantId = reader.IsDBNull(1) ? null : reader.GetString(1);
            scopes = reader.GetFieldValue<string[]>(2);
            status = ParseStatus(reader.GetString(3));
            expiresAt = reader.GetFieldValue<DateTimeOffset>(4);
            interval = reader.GetInt32(5);
            lastPolledAt = reader.IsDBNull(6) ? null : reader.GetFieldValue<DateTimeOffset>(6);
            approvedBy = reader.IsDBNull(7) ? null : reader.GetString(7);
        }

        if (!string.Equals(clientOfCode, clientId, StringComparison.Ordinal) || status == DeviceCodeStatus.Consumed)
        {
            return new DevicePollResult(DevicePollOutcome.InvalidGrant);
        }

        if (now >= expiresAt)
        {
            return new DevicePollResult(DevicePollOutcome.ExpiredToken);
        }

        var tooFast = lastPolledAt is { } last && now - last < TimeSpan.FromSeconds(interval);
        var outcome = tooFast ? DevicePollOutcome.SlowDown : status switch
        {
            DeviceCodeStatus.Approved => DevicePollOutcome.Granted,
            DeviceCodeStatus.Denied => DevicePollOutcome.AccessDenied,
            _ => DevicePollOutcome.AuthorizationPending,
        };

        await using (var update = new NpgsqlCommand("""
            UPDATE outpost_device_codes
               SET last_polled_at = @now,
                   interval_seconds = interval_seconds + @increment,
                   status = CASE WHEN @consume THEN 'consumed' ELSE status END
             WHERE device_code_hash = @hash
            """, connection, transaction))
        {
            update.Parameters.AddWithValue("now", now);
            update.Parameters.AddWithValue("increment", tooFast ? SlowDownIncrementSeconds : 0);
            update.Parameters.AddWithValue("consume", outcome == DevicePollOutcome.Granted);
            update.Parameters.AddWithValue("hash", hash);
            await update.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return outcome == DevicePollOutcome.Granted
            ? new DevicePollResult(outcome, tenantId, scopes, approvedBy)
            : new DevicePollResult(outcome);
    }

    /// <summary>Upper-case, hyphens and spaces dropped; null when it cannot be a user code.</summary>
    public static string? NormalizeUserCode(string? userCode)
    {
        if (userCode is null || userCode.Length > 32)
        {
            return null;
        }

        var builder = new StringBuilder(UserCodeLength);
        foreach (var c in userCode)
        {
            if (c is '-' or ' ')
            {
                continue;
            }

            var upper = char.ToUpperInvariant(c);
            if (!UserCodeAlphabet.Contains(upper, StringComparison.Ordinal) || builder.Length == UserCodeLength)
            {
                return null;
            }

            builder.Append(upper);
        }

        return builder.Length == UserCodeLength ? builder.ToString() : null;
    }

    public static string FormatUserCode(string normalized)
    {
        ArgumentNullException.ThrowIfNull(normalized);
        return normalized.Length == UserCodeLength ? $"{normalized[..4]}-{normalized[4..]}" : normalized;
    }

    private static byte[] Hash(string deviceCode) => SHA256.HashData(Encoding.UTF8.GetBytes(deviceCode));

    private static DeviceCodeStatus ParseStatus(string status) => status switch
    {
        "approved" => DeviceCodeStatus.Approved,
        "denied" => DeviceCodeStatus.Denied,
        "consumed" => DeviceCodeStatus.Consumed,
        _ => DeviceCodeStatus.Pending,
    };
}
