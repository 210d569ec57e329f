using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using Outpost.Execution.Artifacts;
using Outpost.Gateway.Contracts;
using Outpost.Gateway.Errors;
using Outpost.Gateway.Routing;
using Outpost.Gateway.Security;
using Outpost.Grains.EdgeDevices;
using Outpost.Grains.TaskRuns;
using Outpost.Identity;

namespace Outpost.Gateway.Tasks;

/// <summary>
/// Turns a <c>POST /v1/tasks</c> body into a run: checks every field (naming the one at fault), the inputs against the
/// tenant's artifacts, the caps against policy, picks the devices it may run on, asks policy whether it runs now, waits
/// for a human or never runs, and creates the run under an id derived from the Idempotency-Key when one is given.
/// </summary>
public sealed partial class TaskSubmissions(
    IClusterClient cluster, DeviceCatalog catalog, TaskPolicyProvider policies, IArtifactStore artifacts, IOptions<TaskPolicyOptions> options)
{
    private const int MaxArgs = 256;
    private const int MaxArgLength = 4096;

    public async Task<(TaskRunSnapshot Run, bool Created)> SubmitAsync(
        SubmitTaskRequest? request, ClaimsPrincipal user, string? idempotencyKey, string requestId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        var caller = CallerContext.From(user);
        if (request is null)
        {
            throw ProblemException.BadRequest("The body must be a JSON object describing the task.");
        }

        var kind = request.Kind is { } k && KindPattern().IsMatch(k) ? k : throw Invalid("kind is required: 1-64 lower-case letters, digits, '.', '_' or '-', e.g. unit-test.");
        var argv = request.Argv is { Count: > 0 and <= MaxArgs } a ? a : throw Invalid($"argv is required: a list of 1 to {MaxArgs} strings (the program, then its arguments; never a shell string).");
        for (var i = 0; i < argv.Count; i++)
        {
            if (string.IsNullOrEmpty(argv[i]) && i == 0 || argv[i] is null || argv[i].Length > MaxArgLength || argv[i].Contains('\0', StringComparison.Ordinal))
            {
                throw Invalid($"argv[{i}] must be a string of at most {MaxArgLength} characters without NUL{(i == 0 ? ", and not empty" : string.Empty)}.");
            }
        }

        var allowed = new HashSet<string>(options.Value.EnvironmentAllowList, StringComparer.Ordinal);
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in request.Env ?? new Dictionary<string, string>())
        {
            if (!allowed.Contains(name))
            {
                throw Invalid($"env.{name} is not allowed: a task may set only {string.Join(", ", allowed.Order(StringComparer.Ordinal))}.");
            }

            environment[name] = value is { Length: <= MaxArgLength } && !value.Contains('\0', StringComparison.Ordinal)
                ? value
                : throw Invalid($"env.{name} must be a string of at most {MaxArgLength} characters without NUL.");
        }

        var inputs = new List<TaskInput>();
        var origins = new List<string>();
        foreach (var (input, i) in (request.Inputs ?? []).Select((input, i) => (input, i)))
        {
            if (i >= 64)
            {
                throw Invalid("inputs may name at most 64 artifacts.");
            }

            var digest = input?.Digest;
            if (!ArtifactDigest.IsValid(digest))
            {
                throw Invalid($"inputs[{i}].digest must be an artifact digest, sha256: and 64 lower-case hex digits (PUT /v1/artifacts answers it).");
            }

            var artifact = await artifacts.FindAsync(caller.Tenant, digest!, cancellationToken)
                ?? throw new ProblemException(StatusCodes.Status422UnprocessableEntity, "artifact-not-found", "Artifact not found", $"inputs[{i}]: this tenant has no artifact {digest}; upload it with PUT /v1/artifacts first.");
            var unpack = input!.Unpack ?? false;
            var path = input.Path ?? (unpack ? "." : null);
            if (path is null || !(path == "." || IsRelativePath(path)))
            {
                throw Invalid($"inputs[{i}].path must be a relative path inside the work directory (no '..', not absolute){(unpack ? ", or '.'" : string.Empty)}.");
            }

            inputs.Add(new TaskInput(digest!, path, unpack));
            origins.Add(artifact.Origin);
        }

        var outputs = request.Outputs ?? [];
        if (outputs.Count > 32 || outputs.Any(o => o is null || !IsRelativePath(o)) || outputs.Distinct(StringComparer.Ordinal).Count() != outputs.Count)
        {
            throw Invalid("outputs must be at most 32 distinct relative paths inside the work directory (no '..', not absolute).");
        }

        var policy = policies.Current;
        TaskLimits limits;
        try
        {
            limits = TaskPolicy.Limits(
                request.Limits is { } l ? new TaskLimitsDocument
                {
                    WallSeconds = l.WallSeconds, CpuSeconds = l.CpuSeconds, MemoryMb = l.MemoryMb, Processes = l.Processes,
                    OutputKb = l.OutputKb, FileSizeMb = l.FileSizeMb, OpenFiles = l.OpenFiles,
                } : null,
                policy.Defaults,
                "limits");
        }
        catch (InvalidDataException ex)
        {
            throw Invalid(ex.Message);
        }

        if (!limits.IsWithin(policy.Maximums))
        {
            var max = policy.Maximums;
            throw Invalid($"limits exceed what policy allows any task: wall_seconds <= {max.WallSeconds}, cpu_seconds <= {max.CpuSeconds}, memory_mb <= {max.MemoryBytes / (1024 * 1024)}, processes <= {max.Processes}, output_kb <= {max.OutputBytes / 1024}, file_size_mb <= {max.FileSizeBytes / (1024 * 1024)}, open_files <= {max.OpenFiles}.");
        }

        var network = request.Network ?? TaskRunSpec.NoNetwork;
        var required = request.RequiredCapabilities ?? [];
        var devices = await catalog.GetDevicesAsync(cancellationToken);
        if ((request.Device is { } wanted && devices.All(d => d.Record.Registration.DeviceId != wanted))
            || !devices.Any(d => d.Record.Registration.Capabilities.Contains(DeviceTasks.Execute, StringComparer.Ordinal)))
        {
            // A device that registered since the catalog's last refresh is usable at once.
            devices = await catalog.ReloadAsync(cancellationToken);
        }

        if (request.Device is { } named
            && !devices.Any(d => d.Record.Registration.DeviceId == named && catalog.IsAvailableTo(named, caller.Tenant)))
        {
            throw new ProblemException(StatusCodes.Status404NotFound, "device-not-found", "Device not found", $"No device with id '{named}' is known to this tenant.");
        }

        var candidates = devices
            .Where(d => catalog.IsAvailableTo(d.Record.Registration.DeviceId, caller.Tenant)
                && (request.Device is null || d.Record.Registration.DeviceId == request.Device)
                && d.Record.Registration.Capabilities.Contains(DeviceTasks.Execute, StringComparer.Ordinal)
                && required.All(c => d.Record.Registration.Capabilities.Contains(c, StringComparer.Ordinal)))
            .OrderByDescending(d => d.Online)
            .Select(d => d.Record.Registration.DeviceId)
            .ToList();

        var decision = policy.Evaluate(new TaskPolicyInput(
            caller.Tenant, kind, argv, request.Device, Scopes(user), origins, network, limits));
        if (decision.Denied)
        {
            throw new ProblemException(StatusCodes.Status403Forbidden, "task-denied", "Task denied by policy", $"Policy rule '{decision.Rule}' does not allow this task.");
        }

        if (network != TaskRunSpec.NoNetwork)
        {
            throw new ProblemException(StatusCodes.Status422UnprocessableEntity, "network-unavailable", "Network not available",
                $"network '{network}' is not available: devices run tasks with no network at all (network: none).");
        }

        if (candidates.Count == 0)
        {
            throw new ProblemException(StatusCodes.Status503ServiceUnavailable, "no-execution-device", "No device runs tasks",
                required.Count == 0 && request.Device is null
                    ? "No device of this tenant (or shared) executes tasks: start an EdgeSilo with a working sandbox."
                    : $"No device of this tenant executes tasks{(request.Device is null ? string.Empty : $" as '{request.Device}'")}{(required.Count == 0 ? string.Empty : $" with {string.Join(", ", required)}")}.");
        }

        var spec = new TaskRunSpec(
            caller.Tenant, caller.Subject, caller.ClientId, kind, argv.ToList(), environment, inputs, outputs.ToList(), limits, network, candidates,
            decision.Approval, decision.Rule, decision.ApprovalTimeout, request.RetrySafe ?? false);
        var runId = RunId(caller, idempotencyKey);
        try
        {
            var run = await cluster.GetGrain<ITaskRunGrain>(runId).CreateAsync(spec, requestId);
            return (run, run.CreatedByRequest == requestId);
        }
        catch (TaskRunStateException ex)
        {
            throw new ProblemException(StatusCodes.Status409Conflict, "idempotency-conflict", "Idempotency-Key reused", $"{ex.Message} Use a new Idempotency-Key for a different task.");
        }
    }

    /// <summary>Whether <paramref name="path"/> is a relative path that stays inside the work directory.</summary>
    public static bool IsRelativePath(string path) =>
        path is { Length: > 0 and <= 256 } && !path.StartsWith('/') && !path.Contains('\0', StringComparison.Ordinal)
        && path.Split('/').All(part => part is not (".." or "."));

    private static string RunId(CallerContext caller, string? idempotencyKey)
    {
        if (string.IsNullOrEmpty(idempotencyKey))
        {
            return "run_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        }

        if (idempotencyKey.Length > 200 || idempotencyKey.Any(c => c < 0x21 || c > 0x7e))
        {
            throw Invalid("Idempotency-Key must be 1-200 visible ASCII characters.");
        }

        // The same key from the same tenant and client names the same run; nobody else's key can reach it.
        return "run_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{caller.Tenant}\n{caller.ClientId}\n{idempotencyKey}")))[..32];
    }

    private static HashSet<string> Scopes(ClaimsPrincipal user) =>
        user.FindAll(OutpostClaims.Scope).SelectMany(c => c.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToHashSet(StringComparer.Ordinal);

    private static ProblemException Invalid(string detail) =>
        new(StatusCodes.Status422UnprocessableEntity, "invalid-task", "Invalid task", detail);

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,63}$")]
    private static partial Regex KindPattern();
}
