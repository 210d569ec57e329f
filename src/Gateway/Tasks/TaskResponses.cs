using Outpost.Execution.Runs;
using Outpost.Gateway.Contracts;
using Outpost.Grains.TaskRuns;

namespace Outpost.Gateway.Tasks;

/// <summary>Maps runs to their HTTP form.</summary>
public static class TaskResponses
{
    public static TaskResponse From(TaskRunSnapshot run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var spec = run.Spec!;
        var limits = spec.Limits;
        return new TaskResponse(
            run.RunId, TaskRunStatuses.Name(run.Status), spec.Kind, spec.Argv, run.Device, run.Attempt, run.CreatedAt, run.UpdatedAt,
            run.StartedAt, run.EndedAt, run.ExitCode, run.Reason,
            new TaskApprovalResponse(Approval(spec.Approval), spec.PolicyRule, run.ApprovalExpiresAt, run.DecidedBy),
            new TaskLimitsResponse(limits.WallSeconds, limits.CpuSeconds, limits.MemoryBytes, limits.Processes, limits.OutputBytes, limits.FileSizeBytes, limits.OpenFiles),
            (run.Outputs ?? []).Select(o => new TaskOutputResponse(o.Path, o.Digest, o.Size)).ToList(),
            run.LogDigest, run.LogBytes, run.ResultVerified);
    }

    public static TaskListItem From(TaskRunIndexRow row)
    {
        ArgumentNullException.ThrowIfNull(row);
        return new TaskListItem(row.RunId, row.Status, row.Kind, row.RequestedBy, row.Device, row.Approval, row.PolicyRule, row.ApprovalExpiresAt, row.CreatedAt, row.UpdatedAt);
    }

    public static string Approval(TaskApproval approval) => approval switch
    {
        TaskApproval.Human => "human",
        TaskApproval.TenantAdmin => "tenant_admin",
        _ => "none",
    };

    public static TaskSigningKeyResponse From(TaskSigningKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var pem = new string(System.Security.Cryptography.PemEncoding.Write("PUBLIC KEY", key.PublicKey));
        return new TaskSigningKeyResponse(key.KeyId, key.Algorithm, Convert.ToBase64String(key.PublicKey), pem, key.CreatedAt, key.Current);
    }
}
