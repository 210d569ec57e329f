using Outpost.ServiceDefaults.Configuration;

namespace Outpost.EdgeSilo.Tasks.Sandbox;

public static class SandboxExtensions
{
    /// <summary>
    /// Adds the task sandbox: <see cref="SandboxOptions"/> from <c>Edge:Sandbox</c> (validated at start) and the
    /// <see cref="SandboxRunner"/>, which probes the machine on first use.
    /// </summary>
    public static IHostApplicationBuilder AddSandbox(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddValidatedOptions<SandboxOptions>(SandboxOptions.Section);
        builder.Services.AddSingleton<SandboxRunner>();
        return builder;
    }
}
