using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Outpost.ServiceDefaults.Health;

/// <summary><c>/healthz</c> (the process is up) and <c>/readyz</c> (it can do its job).</summary>
public static class HealthEndpoints
{
    /// <summary>The tag of the checks <c>/readyz</c> runs; a service adds its own checks with it.</summary>
    public const string ReadyTag = "ready";

    /// <summary>Readiness for a silo: it is an active cluster member and the database answers.</summary>
    public static IHealthChecksBuilder AddSiloReadiness(this IServiceCollection services) =>
        services.AddHealthChecks()
            .AddCheck<SiloMembershipHealthCheck>("cluster", tags: [ReadyTag])
            .AddCheck<DatabaseHealthCheck>("database", tags: [ReadyTag]);

    /// <summary>Readiness for a cluster client: a gateway answers and the database answers.</summary>
    public static IHealthChecksBuilder AddClientReadiness(this IServiceCollection services) =>
        services.AddHealthChecks()
            .AddCheck<ClusterClientHealthCheck>("cluster", tags: [ReadyTag])
            .AddCheck<DatabaseHealthCheck>("database", tags: [ReadyTag]);

    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder endpoints)
    {
        // Probes come from the orchestrator, which holds no token.
        endpoints.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteAsync }).AllowAnonymous();
        endpoints.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = check => check.Tags.Contains(ReadyTag), ResponseWriter = WriteAsync }).AllowAnonymous();
        return endpoints;
    }

    private static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        var body = new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new { status = e.Value.Status.ToString(), description = e.Value.Description }),
        };
        return context.Response.WriteAsync(JsonSerializer.Serialize(body, JsonSerializerOptions.Web));
    }
}
