using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Outpost.Execution.Runs;
using Outpost.Gateway.AuditLogs;
using Outpost.Gateway.Contracts;
using Outpost.Gateway.Errors;
using Outpost.Gateway.Security;
using Outpost.Gateway.Tasks;
using Outpost.Grains.TaskRuns;
using Outpost.Identity;
using Outpost.Identity.Tokens;

namespace Outpost.Gateway.Endpoints;

public static class ApprovalsEndpoints
{
    public static IEndpointRouteBuilder MapApprovalsApi(this IEndpointRouteBuilder endpoints)
    {
        var approvals = endpoints.MapGroup("/v1/approvals").WithTags("Approvals").RequireAuthorization(Scopes.ApprovalsDecide);
        approvals.MapGet("/", ListAsync).WithName("ListApprovals").WithSummary("Runs of this tenant waiting for a decision.");
        approvals.MapPost("/{id}", DecideAsync).WithName("DecideApproval").WithSummary("Approves or rejects a waiting run, with a reason; never the requester's own.");
        return endpoints;
    }

    public static async Task<Ok<TaskListResponse>> ListAsync(TaskRunIndex index, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var caller = CallerContext.From(user);
        var rows = await index.ListAsync(caller.Tenant, TaskRunStatuses.Name(TaskRunStatus.AwaitingApproval), 200, null, cancellationToken);
        return TypedResults.Ok(new TaskListResponse(rows.Select(TaskResponses.From).ToList(), null));
    }

    public static async Task<Ok<TaskResponse>> DecideAsync(string id, ApprovalDecisionRequest? request, IClusterClient cluster, HttpContext context)
    {
        var approve = request?.Decision switch
        {
            "approve" => true,
            "reject" => false,
            _ => throw new ProblemException(StatusCodes.Status422UnprocessableEntity, "invalid-decision", "Invalid decision", "decision must be approve or reject."),
        };
        if (request!.Reason is { Length: > 1000 })
        {
            throw new ProblemException(StatusCodes.Status422UnprocessableEntity, "invalid-decision", "Invalid decision", "reason may be at most 1000 characters.");
        }

        var run = await TasksEndpoints.OwnRunAsync(cluster, id, context.User);
        var caller = CallerContext.From(context.User);
        var decision = new TaskDecision(approve, caller.Subject, caller.Tenant, ScopeRequirement.Holds(context.User, Scopes.Admin), request.Reason ?? string.Empty,
            AuditFeature.Of(context)?.RequestId ?? string.Empty);
        return TypedResults.Ok(TaskResponses.From(await RecordDecisionAsync(cluster, run.RunId, decision, context)));
    }

    /// <summary>Records a decision; the grain's refusals become 403 (wrong person) and 409 (not waiting).</summary>
    public static async Task<TaskRunSnapshot> RecordDecisionAsync(IClusterClient cluster, string runId, TaskDecision decision, HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(decision);
        try
        {
            return await cluster.GetGrain<ITaskRunGrain>(runId).DecideAsync(decision);
        }
        catch (UnauthorizedAccessException ex)
        {
            AuditFeature.Of(context)?.Deny("approval_refused", ex.Message);
            throw new ProblemException(StatusCodes.Status403Forbidden, "approval-refused", "Not allowed to decide", $"{decision.DecidedBy} may not decide run '{runId}': {ex.Message}");
        }
        catch (TaskRunStateException ex)
        {
            throw new ProblemException(StatusCodes.Status409Conflict, "not-awaiting-approval", "Not awaiting approval", ex.Message);
        }
    }
}
