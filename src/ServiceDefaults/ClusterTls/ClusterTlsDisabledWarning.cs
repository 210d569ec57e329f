using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Outpost.ServiceDefaults.ClusterTls;

/// <summary>Says, at every start, that this node talks to the cluster in plain TCP.</summary>
internal sealed partial class ClusterTlsDisabledWarning(ILogger<ClusterTlsDisabledWarning> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        LogDisabled(logger, ClusterTlsOptions.Section);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 1, Level = LogLevel.Warning,
        Message = "{Section}:Disabled is set: this node's cluster connections are plain TCP, and anyone who reaches its ports can join the cluster")]
    private static partial void LogDisabled(ILogger logger, string section);
}
