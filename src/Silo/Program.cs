using Outpost.ServiceDefaults.Hosting;
using Outpost.Silo.Extensions;
using Outpost.Silo.Schema;

return await OutpostProcess.RunAsync("outpost-silo", async () =>
{
    if (args is [MigrateCommand.Name, ..])
    {
        await MigrateCommand.RunAsync(args[1..]);
        return;
    }

    var builder = WebApplication.CreateBuilder(args);
    builder.AddOutpostDefaults();
    builder.AddControlSilo();

    var app = builder.Build();
    app.MapControlSiloEndpoints();
    await app.RunAsync();
});
