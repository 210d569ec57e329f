using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Outpost.Execution.Signing;
using Outpost.Grains.TaskRuns;
using Outpost.Testing.Identity;
using Outpost.Testing.PostgreSql;
using Xunit;

namespace Outpost.Admin.Tests.Commands;

/// <summary><c>outpost tasks keys</c> against a test database, and <c>outpost tasks verify</c> offline on files.</summary>
[Collection(IdentityCollection.Name)]
public sealed class TaskCommandsTests(PostgreSqlFixture fixture) : IAsyncLifetime
{
    private IdentityDatabase _database = null!;

    public async Task InitializeAsync() => _database = await IdentityDatabase.CreateAsync(fixture);

    public async Task DisposeAsync() => await _database.DisposeAsync();

    [Fact]
    public async Task KeysRotateAndList_NewestEndorsesNewRuns()
    {
        Assert.Contains("no task-signing key yet", (await RunAsync("tasks", "keys", "list")).Output, StringComparison.Ordinal);
        var first = await RunAsync("tasks", "keys", "rotate");
        var second = await RunAsync("tasks", "keys", "rotate");
        Assert.Equal(0, first.ExitCode);
        var firstId = first.Output.Split(' ')[2];
        var secondId = second.Output.Split(' ')[2];
        var list = (await RunAsync("tasks", "keys", "list")).Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, list.Length);
        Assert.StartsWith(secondId, list[0], StringComparison.Ordinal);
        Assert.EndsWith("(endorses new runs)", list[0].TrimEnd(), StringComparison.Ordinal);
        Assert.StartsWith(firstId, list[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_GenuineAttestation_Exit0_AndEveryAlterationExit3()
    {
        using var ring = new TaskKeyRing(_database.DataSource, _database.LoadMasterKey());
        using var device = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var (attestation, keys) = await AttestationAsync(ring, device);
        var keysFile = Write(keys);

        var valid = await RunAsync("tasks", "verify", Write(attestation), "--keys", keysFile);
        Assert.Equal(0, valid.ExitCode);
        Assert.Contains("manifest: run run_cli, tenant acme, device dev-pi-1", valid.Output, StringComparison.Ordinal);
        Assert.Contains("ended exited, exit code 0", valid.Output, StringComparison.Ordinal);

        var argv = attestation.DeepClone();
        argv["manifest"] = ((string)argv["manifest"]!).Replace("pytest", "curl", StringComparison.Ordinal);
        var altered = await RunAsync("tasks", "verify", Write(argv), "--keys", keysFile);
        Assert.Equal(3, altered.ExitCode);
        Assert.Contains("INVALID manifest", altered.Output, StringComparison.Ordinal);

        var result = attestation.DeepClone();
        result["result"] = ((string)result["result"]!).Replace("\"exitCode\":0", "\"exitCode\":1", StringComparison.Ordinal);
        var rewritten = await RunAsync("tasks", "verify", Write(result), "--keys", keysFile);
        Assert.Equal(3, rewritten.ExitCode);
        Assert.Contains("INVALID result", rewritten.Output, StringComparison.Ordinal);

        // Keys the auditor does not trust: the attestation's own claims are not enough.
        var stranger = new JsonObject { ["data"] = new JsonArray() };
        var untrusted = await RunAsync("tasks", "verify", Write(attestation), "--keys", Write(stranger));
        Assert.Equal(3, untrusted.ExitCode);
        Assert.Contains("not a published task-signing key", untrusted.Output, StringComparison.Ordinal);

        var missing = await RunAsync("tasks", "verify", Write(attestation), "--keys", Path.Combine(_database.Directory, "absent.json"));
        Assert.NotEqual(0, missing.ExitCode);
        Assert.Contains("--keys: cannot read", missing.Error, StringComparison.Ordinal);
    }

    private static async Task<(JsonNode Attestation, JsonNode Keys)> AttestationAsync(TaskKeyRing ring, ECDsa device)
    {
        var now = DateTimeOffset.UtcNow;
        var manifest = new TaskManifest(TaskManifest.CurrentVersion, "run_cli", "acme", "dev-pi-1", 1, "unit-test", ["python3", "-m", "pytest"],
            new Dictionary<string, string>(), [], [], TaskManifest.SandboxWorkDirectory, new TaskLimits(60, 60, 1L << 28, 32, 65536, 1 << 20, 64),
            TaskRunSpec.NoNetwork, now, now.AddMinutes(5));
        var json = JsonSerializer.Serialize(manifest, TaskSignatures.Json);
        using var ephemeral = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var publicKey = ephemeral.ExportSubjectPublicKeyInfo();
        var endorsement = await ring.EndorseAsync(manifest.RunId, manifest.Device, publicKey, manifest.ExpiresAt);
        var result = JsonSerializer.Serialize(
            new TaskResult("run_cli", "dev-pi-1", TaskSignatures.Sha256Hex(json), TaskResult.Exited, 0, now, now, 12, new string('0', 64), 0, [], null), TaskSignatures.Json);
        var attestation = new JsonObject
        {
            ["manifest"] = json,
            ["manifest_signature"] = Convert.ToBase64String(TaskSignatures.Sign(ephemeral, TaskSignatures.ManifestText(json))),
            ["ephemeral_public_key"] = Convert.ToBase64String(publicKey),
            ["endorsement_key_id"] = endorsement.KeyId,
            ["endorsement_signature"] = Convert.ToBase64String(endorsement.Signature),
            ["result"] = result,
            ["result_signature"] = Convert.ToBase64String(TaskSignatures.Sign(device, TaskSignatures.ResultText(result))),
            ["device_public_key"] = Convert.ToBase64String(device.ExportSubjectPublicKeyInfo()),
        };
        var keys = new JsonObject
        {
            ["data"] = new JsonArray((await ring.ListAsync()).Select(k => (JsonNode)new JsonObject
            {
                ["key_id"] = k.KeyId,
                ["public_key"] = Convert.ToBase64String(k.PublicKey),
            }).ToArray()),
        };
        return (attestation, keys);
    }

    private string Write(JsonNode node)
    {
        var file = Path.Combine(_database.Directory, Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllText(file, node.ToJsonString());
        return file;
    }

    private async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exitCode = await AdminCli.RunAsync(
            [
                .. args,
                $"--ConnectionStrings:Outpost={_database.ConnectionString}",
                $"--Security:MasterKeyFile={_database.Security.MasterKeyFile}",
                "--Security:CreateMasterKeyFile=true",
                "--Security:Issuer=https://outpost.test",
            ],
            new StringReader(string.Empty),
            output,
            error);
        return (exitCode, output.ToString(), error.ToString());
    }
}
