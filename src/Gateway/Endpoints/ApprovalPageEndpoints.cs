using System.Text;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http.HttpResults;
using Outpost.Execution.Runs;
using Outpost.Gateway.AuditLogs;
using Outpost.Gateway.Errors;
using Outpost.Gateway.Tasks;
using Outpost.Grains.TaskRuns;
using Outpost.Identity;
using Outpost.Identity.Endpoints;
using Outpost.Identity.Logins;
using Outpost.Identity.Tenants;

namespace Outpost.Gateway.Endpoints;

/// <summary>
/// <c>/approvals</c>: a page for a tenant's admins to see the runs waiting for them and decide, in a browser. Sign-in
/// is the tenant admin's password, throttled as the device page's is; every form is antiforgery-protected.
/// </summary>
public static class ApprovalPageEndpoints
{
    private const string PageClient = "approval-page";

    public static IEndpointRouteBuilder MapApprovalPage(this IEndpointRouteBuilder endpoints)
    {
        var page = endpoints.MapGroup("/approvals").WithTags("Approvals").ExcludeFromDescription().AllowAnonymous();
        page.MapGet("/", ShowAsync);
        page.MapPost("/login", SignInAsync).DisableAntiforgery();
        page.MapPost("/logout", SignOutAsync).DisableAntiforgery();
        page.MapPost("/decide", DecideAsync).DisableAntiforgery();
        return endpoints;
    }

    public static async Task<IResult> ShowAsync(
        HttpContext context, IAntiforgery antiforgery, ApprovalSessions sessions, TaskRunIndex index, IClusterClient cluster, CancellationToken cancellationToken)
    {
        var session = sessions.Current(context);
        if (session is not { } admin)
        {
            return SignInPage(context, antiforgery, StatusCodes.Status200OK, null, null, null);
        }

        Actor(context, admin.Tenant, admin.Username);
        return await PendingPageAsync(context, antiforgery, index, cluster, admin.Tenant, admin.Username, context.Request.Query["notice"], null, StatusCodes.Status200OK, cancellationToken);
    }

    public static async Task<IResult> SignInAsync(
        HttpContext context, IAntiforgery antiforgery, ApprovalSessions sessions, TenantAdminStore admins, LoginThrottle throttle, CancellationToken cancellationToken)
    {
        if (await ValidFormAsync(context, antiforgery) is not { } form)
        {
            return SignInPage(context, antiforgery, StatusCodes.Status400BadRequest, null, null, "The form expired or was not sent from this page; sign in again.");
        }

        var tenant = form["tenant"].ToString().Trim();
        var username = form["username"].ToString().Trim();
        var password = form["password"].ToString();
        var address = context.Connection.RemoteIpAddress;
        if (await throttle.WaitAsync(tenant, username, address, cancellationToken) is { } wait)
        {
            var seconds = (int)Math.Ceiling(wait.TotalSeconds);
            context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            AuditFeature.Of(context)?.Deny("login_throttled", "too many failed sign-ins");
            return SignInPage(context, antiforgery, StatusCodes.Status429TooManyRequests, tenant, username,
                $"Too many failed sign-ins for this account or from this address. Try again in {seconds} s.");
        }

        bool verified;
        try
        {
            verified = await admins.VerifyAsync(tenant, username, password, cancellationToken);
        }
        catch (IdentityStoreException ex) when (ex.Error == IdentityError.Busy)
        {
            context.Response.Headers.RetryAfter = "5";
            return SignInPage(context, antiforgery, StatusCodes.Status503ServiceUnavailable, tenant, username, ex.Message);
        }

        if (!verified)
        {
            await throttle.RecordFailureAsync(tenant, username, address, cancellationToken);
            AuditFeature.Of(context)?.Deny("login_failed", "wrong tenant, username or password");
            return SignInPage(context, antiforgery, StatusCodes.Status403Forbidden, tenant, username, "Wrong tenant, username or password.");
        }

        await throttle.RecordSuccessAsync(tenant, username, cancellationToken);
        Actor(context, tenant, username);
        sessions.SignIn(context, tenant, username);
        return TypedResults.Redirect("/approvals", permanent: false, preserveMethod: false);
    }

    public static async Task<IResult> SignOutAsync(HttpContext context, IAntiforgery antiforgery)
    {
        _ = await ValidFormAsync(context, antiforgery);
        ApprovalSessions.SignOut(context);
        return TypedResults.Redirect("/approvals");
    }

    public static async Task<IResult> DecideAsync(
        HttpContext context, IAntiforgery antiforgery, ApprovalSessions sessions, TaskRunIndex index, IClusterClient cluster, CancellationToken cancellationToken)
    {
        if (sessions.Current(context) is not { } admin)
        {
            return SignInPage(context, antiforgery, StatusCodes.Status401Unauthorized, null, null, "Your session ended; sign in again.");
        }

        Actor(context, admin.Tenant, admin.Username);
        if (await ValidFormAsync(context, antiforgery) is not { } form)
        {
            AuditFeature.Of(context)?.Deny("csrf", "the decision form carried no valid antiforgery token");
            return await PendingPageAsync(context, antiforgery, index, cluster, admin.Tenant, admin.Username, null,
                "The form expired or was not sent from this page; nothing was decided.", StatusCodes.Status400BadRequest, cancellationToken);
        }

        var runId = form["run_id"].ToString();
        var decision = form["decision"].ToString();
        if (decision is not ("approve" or "reject"))
        {
            return await PendingPageAsync(context, antiforgery, index, cluster, admin.Tenant, admin.Username, null, "Choose Approve or Reject.", StatusCodes.Status400BadRequest, cancellationToken);
        }

        if (await TasksEndpoints.FindRunAsync(cluster, runId, admin.Tenant) is null)
        {
            return await PendingPageAsync(context, antiforgery, index, cluster, admin.Tenant, admin.Username, null, $"No run '{runId}' waits in this tenant.", StatusCodes.Status404NotFound, cancellationToken);
        }

        var reason = form["reason"].ToString();
        try
        {
            await ApprovalsEndpoints.RecordDecisionAsync(cluster, runId,
                new TaskDecision(decision == "approve", OAuthEndpoints.DeviceSubject(admin.Tenant, admin.Username), admin.Tenant, AsTenantAdmin: true, reason.Length > 1000 ? reason[..1000] : reason,
                    AuditFeature.Of(context)?.RequestId ?? string.Empty), context);
        }
        catch (ProblemException ex)
        {
            return await PendingPageAsync(context, antiforgery, index, cluster, admin.Tenant, admin.Username, null, ex.Message, ex.Status, cancellationToken);
        }

        return TypedResults.Redirect("/approvals?notice=" + Uri.EscapeDataString($"{(decision == "approve" ? "Approved" : "Rejected")} {runId}."));
    }

    private static async Task<IResult> PendingPageAsync(
        HttpContext context, IAntiforgery antiforgery, TaskRunIndex index, IClusterClient cluster, string tenant, string username, string? notice, string? error, int status,
        CancellationToken cancellationToken)
    {
        var rows = await index.ListAsync(tenant, TaskRunStatuses.Name(TaskRunStatus.AwaitingApproval), 100, null, cancellationToken);
        var runs = new List<TaskRunSnapshot>();
        foreach (var row in rows)
        {
            var run = await cluster.GetGrain<ITaskRunGrain>(row.RunId).GetAsync();
            if (run.Status == TaskRunStatus.AwaitingApproval && run.Spec?.Tenant == tenant)
            {
                runs.Add(run);
            }
        }

        var tokens = antiforgery.GetAndStoreTokens(context);
        // The admin decides as the subject its own tokens carry (tenant:username), so its own runs are recognised as such.
        return Page(context, status, ApprovalPageHtml.Pending(tokens.FormFieldName, tokens.RequestToken ?? string.Empty, tenant, username, OAuthEndpoints.DeviceSubject(tenant, username), runs,
            string.IsNullOrEmpty(notice) ? null : notice, error));
    }

    private static ContentHttpResult SignInPage(HttpContext context, IAntiforgery antiforgery, int status, string? tenant, string? username, string? error)
    {
        var tokens = antiforgery.GetAndStoreTokens(context);
        return Page(context, status, ApprovalPageHtml.SignIn(tokens.FormFieldName, tokens.RequestToken ?? string.Empty, tenant, username, error));
    }

    private static async Task<IFormCollection?> ValidFormAsync(HttpContext context, IAntiforgery antiforgery)
    {
        if (!context.Request.HasFormContentType)
        {
            return null;
        }

        try
        {
            await antiforgery.ValidateRequestAsync(context);
            return await context.Request.ReadFormAsync(context.RequestAborted);
        }
        catch (Exception ex) when (ex is AntiforgeryValidationException or InvalidDataException)
        {
            return null;
        }
    }

    private static void Actor(HttpContext context, string tenant, string username) =>
        context.Features.Set(new OAuthActor(tenant, PageClient, OAuthEndpoints.DeviceSubject(tenant, username)));

    private static ContentHttpResult Page(HttpContext context, int status, string html)
    {
        var headers = context.Response.Headers;
        headers.CacheControl = "no-store";
        headers.ContentSecurityPolicy = ApprovalPageHtml.ContentSecurityPolicy;
        headers.XFrameOptions = "DENY";
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        return TypedResults.Content(html, "text/html; charset=utf-8", Encoding.UTF8, status);
    }
}
