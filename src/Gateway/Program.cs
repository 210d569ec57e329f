using Outpost.Gateway.Cli;
using Outpost.Gateway.Extensions;
using Outpost.ServiceDefaults.Hosting;

if (AdminCli.IsCommand(args))
{
    return await AdminCli.RunAsync(args);
}

return await OutpostProcess.RunAsync("outpost-gateway", async () =>
{
    var builder = WebApplication.CreateBuilder(args);
    builder.AddOutpostDefaults();
    builder.AddGateway();

    var app = builder.Build();
    app.UseGatewayErrorHandling();
    app.UseGatewaySecurity();
    app.MapGatewayEndpoints();
    await app.RunAsync();
});
