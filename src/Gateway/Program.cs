using Outpost.Gateway.Endpoints;
using Outpost.Gateway.Extensions;
using Outpost.ServiceDefaults.Health;
using Outpost.ServiceDefaults.Hosting;

return await OutpostProcess.RunAsync("outpost-gateway", async () =>
{
    var builder = WebApplication.CreateBuilder(args);
    builder.AddOutpostDefaults();
    builder.AddGateway();

    var app = builder.Build();
    app.UseGatewayErrorHandling();
    app.UseGatewaySecurity();
    app.MapHealthEndpoints();
    app.MapDevicesApi();
    app.MapEmbeddingsApi();
    app.MapInferApi();
    await app.RunAsync();
});
