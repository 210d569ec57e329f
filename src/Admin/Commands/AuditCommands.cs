using System.CommandLine;
using Outpost.AuditLog.Signing;
using Outpost.AuditLog.Verification;
using Outpost.Grains.AuditLogs;

namespace Outpost.Admin.Commands;

/// <summary>
/// <c>audit verify &lt;tenant&gt;</c>: recomputes the tenant's audit log from PostgreSQL and checks it against every
/// signed checkpoint, without the cluster. Exit code 0 when the log is intact, 3 when it is not (the first bad event is
/// printed), 2 for a usage or configuration error. <c>audit keys rotate</c> and <c>audit keys list</c> manage the keys
/// that sign checkpoints.
/// </summary>
internal static class AuditCommands
{
    public const string Name = "audit";

    public static Command Create(CliContext context)
    {
        var tenant = new Argument<string>("tenant") { Description = "The tenant whose log to verify (_unauthenticated for refused anonymous requests)." };
        var witnessFile = new Option<FileInfo?>("--witness")
        {
            Description = "A witness file (Audit:WitnessFile, JSON lines): the log must also hash to every checkpoint it recorded.",
        };
        var verify = new Command("verify", "Recomputes a tenant's audit log from the database and checks every signed checkpoint.") { tenant, witnessFile };
        verify.SetAction(async (parse, cancellationToken) =>
        {
            var witnessed = parse.GetValue(witnessFile) is { } file ? await ReadWitnessAsync(file, cancellationToken) : null;
            var verifier = await context.GetAsync<AuditVerifier>(cancellationToken);
            var result = await verifier.VerifyAsync(
                parse.GetValue(tenant)!, logSize: null, trustedLeaves: null, witnessed, cancellationToken);
            await context.Output.WriteLineAsync(
                $"tenant {result.Tenant}: {result.EventsChecked} events and {result.CheckpointsChecked} checkpoints checked"
                + (witnessed is null ? "" : $", {result.WitnessedChecked} witnessed checkpoints")
                + $" (tree size {result.TreeSize}, {result.PrunedSize} pruned)");
            if (result.StagedEvents > 0)
            {
                // Durable, but not in the tree yet: the cluster logs them within seconds (or when it is next up).
                await context.Output.WriteLineAsync($"{result.StagedEvents} events staged in the intake, not logged yet, so not checked");
            }

            if (result.FirstProblem is { } problem)
            {
                await context.Output.WriteLineAsync($"INVALID ({problem.Kind.WireName()}): {problem.Detail}");
                return 3;
            }

            await context.Output.WriteLineAsync(result.LatestCheckpoint is { } latest
                ? $"valid: latest checkpoint at size {latest.TreeSize}, signed {latest.SignedAt:u} by key {latest.KeyId}"
                : "valid: no checkpoint signed yet");
            return 0;
        });

        static async Task<IReadOnlyList<AuditCheckpoint>> ReadWitnessAsync(FileInfo file, CancellationToken cancellationToken)
        {
            try
            {
                return await WitnessRecord.ReadFileAsync(file.FullName, cancellationToken);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new CliUsageException($"--witness: cannot read {file.FullName}: {ex.Message}");
            }
            catch (FormatException ex)
            {
                throw new CliUsageException($"--witness: {ex.Message}");
            }
        }

        var rotate = new Command("rotate", "Makes a new audit key sign checkpoints from the next one on; older keys keep verifying what they signed.");
        rotate.SetAction(async (parse, cancellationToken) =>
        {
            var signer = await context.GetAsync<AuditSigner>(cancellationToken);
            var keyId = await signer.RotateAsync(cancellationToken);
            await context.Output.WriteLineAsync($"signing audit key: {keyId} ({AuditSigner.Algorithm}); control silos sign with it from their next checkpoint");
            return 0;
        });

        var list = new Command("list", "Lists the rows of the audit key table, newest (signing) first; public facts only. A row not endorsed by the master key is marked FORGED.");
        list.SetAction(async (parse, cancellationToken) =>
        {
            var signer = await context.GetAsync<AuditSigner>(cancellationToken);
            foreach (var key in await signer.ListAsync(cancellationToken))
            {
                var status = key.Signing ? "signing" : key.Endorsed ? "retired" : "FORGED";
                await context.Output.WriteLineAsync(string.Create(
                    System.Globalization.CultureInfo.InvariantCulture, $"{key.KeyId}  {status,-7}  {key.Algorithm}  created {key.CreatedAt:yyyy-MM-ddTHH:mm:ssZ}"));
            }

            return 0;
        });

        return new Command(Name, "Verifies audit logs and manages the keys that sign their checkpoints.") { verify, new Command("keys", "Manages the audit signing keys.") { rotate, list } };
    }
}
