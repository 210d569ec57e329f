using Outpost.Gateway.AuditLogs;
using Outpost.Gateway.Diagnostics;
using Outpost.Gateway.Embeddings;
using Outpost.Gateway.Endpoints;
using Outpost.Gateway.Errors;
using Outpost.Gateway.Identity;
using Outpost.Gateway.Messages;
using Outpost.Gateway.Routing;
using Outpost.Gateway.Security;
using Outpost.Gateway.Spending;
using Outpost.ServiceDefaults.Clustering;
using Outpost.ServiceDefaults.Configuration;
using Outpost.ServiceDefaults.Health;
using Outpost.ServiceDefaults.Hosting;

namespace Outpost.Gateway.Extensions;

public static class GatewayExtensions
{
    /// <summary>The gateway's HTTP port when <c>Http:Port</c> is not set.</summary>
    public const int DefaultHttpPort = 8080;

    public static WebApplicationBuilder AddGateway(this WebApplicationBuilder builder)
    {
        builder.UseOutpostHttpEndpoint(DefaultHttpPort);
        builder.AddOutpostClusterClient();
        builder.AddOutpostAuthentication();
        builder.AddOutpostIdentity();
        builder.AddOutpostLimits();
        builder.Services.AddClientReadiness();
        builder.AddValidatedOptions<RoutingOptions>(RoutingOptions.Section);
        builder.AddValidatedOptions<DiagnosticsOptions>(DiagnosticsOptions.Section);
        builder.AddValidatedOptions<EmbeddingsOptions>(EmbeddingsOptions.Section);
        builder.AddValidatedOptions<EmbeddingCacheClientOptions>(EmbeddingCacheClientOptions.Section);
        builder.Services.AddSingleton<IDeviceAssignments, PostgresDeviceAssignments>();
        builder.Services.AddSingleton<DeviceCatalog>();
        builder.Services.AddHostedService(services => services.GetRequiredService<DeviceCatalog>());
        builder.Services.AddSingleton<EdgeRouter>();
        builder.Services.AddSingleton<EmbeddingCache>();
        builder.Services.AddSingleton<EmbeddingService>();
        builder.AddValidatedOptions<PricingOptions>(PricingOptions.Section);
        builder.Services.AddSingleton<SpendGuard>();
        builder.Services.AddSingleton<Outpost.Grains.TenantQuotas.SpendLedger>();
        builder.AddMessages();
        builder.AddAuditing();
        builder.Services.AddProblemDetails(o => o.CustomizeProblemDetails = context =>
        {
            Problems.Complete(context.ProblemDetails);
            context.ProblemDetails.Extensions.Remove("exception");
        });
        builder.Services.AddExceptionHandler<ClusterExceptionHandler>();

        // Unreadable bodies must reach the exception handler, which names the field, in every environment.
        builder.Services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);

        // A caller's mistake is answered, not logged as an application error.
        builder.Services.Configure<ExceptionHandlerOptions>(o => o.SuppressDiagnosticsCallback = context =>
            context.Exception is BadHttpRequestException or ProblemException or InsufficientScopeException);
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower;
            o.SerializerOptions.Converters.Add(new System.Text.Json.Serialization.JsonStringEnumConverter(System.Text.Json.JsonNamingPolicy.SnakeCaseLower));
        });
        return builder;
    }

    public static WebApplication UseGatewayErrorHandling(this WebApplication app)
    {
        app.UseAuditing();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        return app;
    }

    /// <summary>Every endpoint of the gateway, each behind the scope it needs.</summary>
    public static WebApplication MapGatewayEndpoints(this WebApplication app)
    {
        app.MapHealthEndpoints();
        app.MapOAuthApi();
        app.MapAdminApi().RequireAuthorization(Scopes.Admin).MapTenantLimitsApi().MapTenantAuditApi();
        app.MapDevicesApi();
        app.MapEmbeddingsApi();
        app.MapInferApi();
        app.MapSpendApi();
        app.MapMessagesApi();
        app.MapAuditApi();
        return app;
    }

    /// <summary>Guards, identity, rate limits, then scopes: a request is measured before anything reads it.</summary>
    public static WebApplication UseGatewaySecurity(this WebApplication app)
    {
        app.UseRequestGuards();
        app.UseAuthentication();
        app.UseAuditedCaller();
        app.UseRateLimiter();
        app.UseAuthorization();
        app.UseRequestTimeouts();
        return app;
    }
}
