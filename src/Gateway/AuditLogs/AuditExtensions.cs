using Outpost.AuditLog;
using Outpost.AuditLog.Reading;
using Outpost.Identity;
using Outpost.ServiceDefaults.Configuration;

namespace Outpost.Gateway.AuditLogs;

public static class AuditExtensions
{
    /// <summary>The audit trail of every request: the middleware's writer, the tenants' settings, the log's storage and verifier (<see cref="AuditLogStorageExtensions.AddAuditLogStorage"/>), and the reader the audit API reads through.</summary>
    public static WebApplicationBuilder AddAuditing(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddAuditLogStorage();
        builder.Services.AddSingleton<AuditReader>();
        builder.Services.AddSingleton<AuditSettingsCache>();
        builder.Services.AddSingleton<AuditMetrics>();
        builder.AddValidatedOptions<AuditWriterOptions>(AuditWriterOptions.Section);
        builder.Services.AddSingleton<AuditWriter>();
        return builder;
    }

    /// <summary>Outermost: every request gets an id and an audit event, and its response waits for that event.</summary>
    public static WebApplication UseAuditing(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseMiddleware<AuditMiddleware>();
        return app;
    }

    /// <summary>
    /// After authentication: once the tenant is known, whether its bodies are stored, before an endpoint reads one.
    /// </summary>
    public static WebApplication UseAuditedCaller(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.Use(async (context, next) =>
        {
            if (AuditFeature.Of(context) is { } feature && context.User.FindFirst(OutpostClaims.Tenant)?.Value is { } tenant)
            {
                var settings = await context.RequestServices.GetRequiredService<AuditSettingsCache>().GetAsync(tenant, context.RequestAborted);

                // Admin and OAuth bodies carry secrets (a new client's secret, tokens); artifacts and task logs are
                // stored once already, by digest, and can be large: their digests only, always.
                feature.StoreBodies = settings.StoreBodies && !KeepsDigestOnly(context.Request.Path);
            }

            await next(context);
        });
        return app;
    }

    private static bool KeepsDigestOnly(PathString path) =>
        path.StartsWithSegments("/v1/admin") || path.StartsWithSegments("/oauth") || path.StartsWithSegments("/v1/artifacts")
        || (path.StartsWithSegments("/v1/tasks") && path.Value?.EndsWith("/logs", StringComparison.Ordinal) == true);
}
