using Outpost.Gateway.AuditLogs;
using Outpost.Gateway.Diagnostics;
using Outpost.Gateway.Embeddings;
using Outpost.Gateway.Endpoints;
using Outpost.Gateway.Errors;
using Outpost.Gateway.Messages;
using Outpost.Gateway.Routing;
using Outpost.Gateway.Security;
using Outpost.Gateway.Spending;
using Outpost.Gateway.Tasks;
using Outpost.Identity;
using Outpost.Identity.Endpoints;
using Outpost.ServiceDefaults.Clustering;
using Outpost.ServiceDefaults.Configuration;
using Outpost.ServiceDefaults.Health;
using Outpost.ServiceDefaults.Hosting;

namespace Outpost.Gateway.Extensions;

public static class GatewayExtensions
{
    /// <summary>Every service of the gateway, feature by feature; each feature registers its own.</summary>
    public static WebApplicationBuilder AddGateway(this WebApplicationBuilder builder)
    {
        builder.UseOutpostHttpEndpoint(HttpEndpointOptions.GatewayDefaultPort);
        builder.AddOutpostClusterClient();
        builder.AddOutpostAuthentication();
        builder.AddOutpostIdentity();
        builder.AddOutpostLimits();
        builder.Services.AddClientReadiness();
        builder.AddGatewayDiagnostics();
        builder.AddEdgeRouting();
        builder.AddEmbeddings();
        builder.AddSpending();
        builder.AddMessages();
        builder.AddTasks();
        builder.AddAuditing();
        builder.AddProblemResponses();
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
        app.MapTasksApi();
        app.MapArtifactsApi();
        app.MapApprovalsApi();
        app.MapApprovalPage();
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
