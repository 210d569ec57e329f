using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Outpost.Execution.Signing;
using Outpost.Grains.TaskRuns;

namespace Outpost.Admin.Commands;

/// <summary>
/// <c>tasks keys list|rotate</c> manage the long-term keys that endorse task manifests. <c>tasks verify</c> checks a
/// run's attestation offline (no database, no cluster): the file <c>GET /v1/tasks/{id}/attestation</c> returned, against
/// keys the auditor trusts (<c>GET /v1/tasks/signing-keys</c> saved earlier). Exit 0 when it verifies, 3 when it does
/// not (the reason is printed), 2 for a usage error.
/// </summary>
internal static class TaskCommands
{
    public const string Name = "tasks";

    public static Command Create(CliContext context)
    {
        var list = new Command("list", "Lists the endorsed task-signing keys, newest (the one that endorses new runs) first.");
        list.SetAction(async (parse, cancellationToken) =>
        {
            var ring = await context.GetAsync<TaskKeyRing>(cancellationToken);
            var keys = await ring.ListAsync(cancellationToken);
            foreach (var key in keys)
            {
                await context.Output.WriteLineAsync($"{key.KeyId}  {key.Algorithm}  created {key.CreatedAt:u}{(key.Current ? "  (endorses new runs)" : string.Empty)}");
            }

            if (keys.Count == 0)
            {
                await context.Output.WriteLineAsync("no task-signing key yet: the control plane creates one at its first dispatch");
            }

            return 0;
        });
        var rotate = new Command("rotate", "Makes a new key endorse runs from now on; older keys stay published, so past attestations keep verifying.");
        rotate.SetAction(async (parse, cancellationToken) =>
        {
            var ring = await context.GetAsync<TaskKeyRing>(cancellationToken);
            var keyId = await ring.RotateAsync(cancellationToken);
            await context.Output.WriteLineAsync($"task-signing key: {keyId} ({TaskSignatures.Algorithm}); control silos endorse new runs with it from their next dispatch");
            return 0;
        });
        var keys = new Command("keys", "The long-term keys that endorse task manifests.") { list, rotate };

        var attestationFile = new Argument<FileInfo>("attestation") { Description = "The JSON that GET /v1/tasks/{id}/attestation returned." };
        var keysFile = new Option<FileInfo>("--keys")
        {
            Description = "The task-signing keys you trust: the JSON of GET /v1/tasks/signing-keys, saved from a source you trust.",
            Required = true,
        };
        var verify = new Command("verify", "Checks a run's attestation offline: endorsement, manifest signature, result signature and their binding.") { attestationFile, keysFile };
        verify.SetAction(async (parse, cancellationToken) =>
        {
            var attestation = await ReadJsonAsync(parse.GetValue(attestationFile)!, "attestation", cancellationToken);
            var trusted = await ReadJsonAsync(parse.GetValue(keysFile)!, "--keys", cancellationToken);
            var (ok, lines) = Verify(attestation, trusted);
            foreach (var line in lines)
            {
                await context.Output.WriteLineAsync(line);
            }

            return ok ? 0 : 3;
        });
        return new Command(Name, "Remote execution: task-signing keys and offline checks of runs.") { keys, verify };
    }

    /// <summary>The checks an auditor makes, each said in a line; false at the first that fails.</summary>
    internal static (bool Ok, IReadOnlyList<string> Lines) Verify(JsonNode attestation, JsonNode trusted)
    {
        var lines = new List<string>();
        try
        {
            var keys = (trusted["data"]?.AsArray() ?? throw new FormatException("--keys has no \"data\" list"))
                .ToDictionary(k => (string)k!["key_id"]!, k => Convert.FromBase64String((string)k!["public_key"]!), StringComparer.Ordinal);
            var manifest = new SignedManifest(
                (string)attestation["manifest"]!, Convert.FromBase64String((string)attestation["manifest_signature"]!),
                Convert.FromBase64String((string)attestation["ephemeral_public_key"]!),
                new ManifestEndorsement((string)attestation["endorsement_key_id"]!, Convert.FromBase64String((string)attestation["endorsement_signature"]!)));
            var (parsed, refusal) = TaskSignatures.VerifyManifest(manifest, keys);
            if (parsed is null)
            {
                lines.Add($"INVALID manifest: {refusal}");
                return (false, lines);
            }

            lines.Add($"manifest: run {parsed.RunId}, tenant {parsed.Tenant}, device {parsed.Device}, endorsed by trusted key {manifest.Endorsement.KeyId}, signed by the run's ephemeral key");
            lines.Add($"  argv {JsonSerializer.Serialize(parsed.Argv)}; inputs {string.Join(", ", parsed.Inputs.Select(i => $"{i.Digest} -> {i.Path}"))}; network {parsed.Network}");
            lines.Add($"  caps: {parsed.Limits.WallSeconds} s wall, {parsed.Limits.CpuSeconds} s CPU, {parsed.Limits.MemoryBytes} bytes memory, {parsed.Limits.Processes} processes, {parsed.Limits.OutputBytes} bytes output");
            if ((string?)attestation["result"] is not { } resultJson)
            {
                lines.Add("no result: the run never finished on a device");
                return (true, lines);
            }

            var deviceKey = (string?)attestation["device_public_key"] is { } deviceText ? Convert.FromBase64String(deviceText) : [];
            if (!TaskSignatures.Verify(deviceKey, TaskSignatures.ResultText(resultJson), Convert.FromBase64String((string)attestation["result_signature"]!)))
            {
                lines.Add("INVALID result: its signature does not verify with the device key");
                return (false, lines);
            }

            var result = JsonSerializer.Deserialize<TaskResult>(resultJson, TaskSignatures.Json)!;
            if (result.RunId != parsed.RunId || result.Device != parsed.Device || result.ManifestSha256 != TaskSignatures.Sha256Hex(manifest.ManifestJson))
            {
                lines.Add("INVALID result: it is signed, but for another run, device or manifest");
                return (false, lines);
            }

            lines.Add($"result: signed by device {result.Device} (key {TaskSignatures.KeyIdOf(deviceKey)}), for this manifest; ended {result.End}, exit code {result.ExitCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}");
            lines.Add($"  log sha256 {result.LogSha256} ({result.LogBytes} bytes); outputs {string.Join(", ", result.Outputs.Select(o => $"{o.Path} {o.Digest}"))}");
            return (true, lines);
        }
        catch (Exception ex) when (ex is FormatException or JsonException or NullReferenceException or InvalidOperationException or KeyNotFoundException or ArgumentException)
        {
            lines.Add($"INVALID: the files are not an attestation and a key list: {ex.Message}");
            return (false, lines);
        }
    }

    private static async Task<JsonNode> ReadJsonAsync(FileInfo file, string what, CancellationToken cancellationToken)
    {
        try
        {
            return JsonNode.Parse(await File.ReadAllTextAsync(file.FullName, cancellationToken)) ?? throw new CliUsageException($"{what}: {file.FullName} is empty.");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CliUsageException($"{what}: cannot read {file.FullName}: {ex.Message}");
        }
        catch (JsonException ex)
        {
            throw new CliUsageException($"{what}: {file.FullName} is not JSON: {ex.Message}");
        }
    }
}
