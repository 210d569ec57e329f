using System.Globalization;
using System.Text.Json;
using Outpost.Grains.AuditLogs;

namespace Outpost.AuditLog.Verification;

/// <summary>
/// The JSON a witness keeps of each signed checkpoint (one line each in <c>Audit:WitnessFile</c>, the body of each POST
/// to <c>Audit:WitnessUrl</c>): everything needed to check the signature with the key from <c>/v1/audit/keys</c>, and
/// to check the stored log against it later (<c>audit verify --witness</c>).
/// </summary>
public static class WitnessRecord
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>The witness's JSON for one checkpoint, on one line.</summary>
    public static string Format(AuditCheckpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        return JsonSerializer.Serialize(new
        {
            checkpoint.Tenant,
            checkpoint.TreeSize,
            RootHash = Convert.ToBase64String(checkpoint.RootHash),
            SignedAt = checkpoint.SignedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture),
            checkpoint.KeyId,
            Signature = Convert.ToBase64String(checkpoint.Signature),
        }, Json);
    }

    /// <summary>Reads back one line of <see cref="Format"/>; throws <see cref="FormatException"/> naming what is wrong.</summary>
    public static AuditCheckpoint Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            return new AuditCheckpoint(
                root.GetProperty("tenant").GetString() ?? throw new FormatException("tenant is null."),
                root.GetProperty("tree_size").GetInt64(),
                Convert.FromBase64String(root.GetProperty("root_hash").GetString() ?? ""),
                DateTimeOffset.Parse(root.GetProperty("signed_at").GetString() ?? "", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal),
                root.GetProperty("key_id").GetString() ?? throw new FormatException("key_id is null."),
                Convert.FromBase64String(root.GetProperty("signature").GetString() ?? ""));
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new FormatException($"not a witnessed checkpoint ({ex.Message})", ex);
        }
    }

    /// <summary>
    /// Every checkpoint in a witness file, whichever tenant it is of (verification keeps the tenant's own); blank lines
    /// are skipped. Throws <see cref="FormatException"/> naming the line that is not a checkpoint.
    /// </summary>
    public static async Task<IReadOnlyList<AuditCheckpoint>> ReadFileAsync(string path, CancellationToken cancellationToken = default)
    {
        var lines = await File.ReadAllLinesAsync(path, cancellationToken);
        var checkpoints = new List<AuditCheckpoint>(lines.Length);
        for (var i = 0; i < lines.Length; i++)
        {
            if (string.IsNullOrWhiteSpace(lines[i]))
            {
                continue;
            }

            try
            {
                checkpoints.Add(Parse(lines[i]));
            }
            catch (FormatException ex)
            {
                throw new FormatException($"{path} line {i + 1}: {ex.Message}", ex);
            }
        }

        return checkpoints;
    }
}
