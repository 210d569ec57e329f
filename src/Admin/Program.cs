using Outpost.Admin;

return await AdminCli.RunAsync(args);
