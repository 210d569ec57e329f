using Orleans.Dashboard;
using Outpost.Silo.Dashboard;
using Outpost.Grains.AuditLogs;
using Outpost.Grains.EdgeCalls;
using Outpost.Grains.Inference;
using Outpost.Grains.TaskRuns;
using Outpost.Grains.TenantQuotas;
using Outpost.ServiceDefaults.Clustering;
using Outpost.ServiceDefaults.Configuration;
using Outpost.ServiceDefaults.Health;
using Outpost.ServiceDefaults.Hosting;
using Outpost.Silo.Schema;

namespace Outpost.Silo.Extensions;

public static class ControlSiloExtensions
{
    /// <summary>
    /// Adds the control-plane silo: schema migration before the silo starts, the Orleans Dashboard behind admin
    /// authentication (<see cref="DashboardSecurity"/>), and readiness that means "joined the cluster and the database answers".
    /// </summary>
    public static WebApplicationBuilder AddControlSilo(this WebApplicationBuilder builder)
    {
        builder.UseOutpostHttpEndpoint(HttpEndpointOptions.ControlSiloDefaultPort);

        // Hosted services start in registration order, so the schema is in place before Orleans asks for its tables.
        builder.Services.AddHostedService<SchemaMigrationService>();
        builder.AddValidatedOptions<EmbeddingCacheOptions>(EmbeddingCacheOptions.Section);
        builder.AddOutpostSilo(SiloRole.Control, silo =>
        {
            silo.AddDashboard();
            silo.AddEdgeCallFilter();
        });
        builder.AddAuditLogs();
        builder.AddTenantQuotas();
        builder.AddTaskRuns();
        builder.Services.AddSiloReadiness();
        builder.AddDashboardSecurity();
        return builder;
    }

    public static WebApplication MapControlSiloEndpoints(this WebApplication app)
    {
        app.MapHealthEndpoints();
        app.MapSecuredDashboard();
        return app;
    }
}
