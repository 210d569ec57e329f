using Outpost.Gateway.Extensions;
using Outpost.ServiceDefaults.Configuration;
using Outpost.ServiceDefaults.Hosting;

return await OutpostProcess.RunAsync("outpost-gateway", async () =>
{
    if (GatewayArguments.Problem(args) is { } problem)
    {
        throw new StartupConfigurationException(problem);
    }

    var builder = WebApplication.CreateBuilder(args);
    builder.AddOutpostDefaults();
    builder.AddGateway();

    var app = builder.Build();
    app.UseGatewayErrorHandling();
    app.UseGatewaySecurity();
    app.MapGatewayEndpoints();
    await app.RunAsync();
});
