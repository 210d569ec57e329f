using Outpost.EdgeSilo.Extensions;
using Outpost.ServiceDefaults.Hosting;

return await OutpostProcess.RunAsync("outpost-edge", async () =>
{
    var builder = Host.CreateApplicationBuilder(args);
    builder.AddOutpostDefaults();
    builder.AddEdgeSilo();

    using var host = builder.Build();
    await host.RunAsync();
});
