using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Outpost.ServiceDefaults.Configuration;

namespace Outpost.Gateway.Tasks;

/// <summary>
/// The policy in force. Read at start (a broken file stops the gateway with the file's error), then watched: a valid
/// edit takes over at once, a broken one is logged and ignored, so a typo can never loosen or drop the policy.
/// </summary>
public sealed partial class TaskPolicyProvider : IDisposable
{
    private readonly ILogger<TaskPolicyProvider> _logger;
    private readonly PhysicalFileProvider? _files;
    private readonly string? _file;
    private IDisposable? _watch;
    private volatile TaskPolicy _current;

    public TaskPolicyProvider(IOptions<TaskPolicyOptions> options, ILogger<TaskPolicyProvider> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _logger = logger;
        if (string.IsNullOrWhiteSpace(options.Value.PolicyFile))
        {
            _current = TaskPolicy.BuiltIn;
            return;
        }

        var path = Path.GetFullPath(options.Value.PolicyFile);
        try
        {
            _current = TaskPolicy.Parse(File.ReadAllText(path), path);
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            throw new StartupConfigurationException($"{TaskPolicyOptions.Section}:PolicyFile: {ex.Message}", ex);
        }

        _files = new PhysicalFileProvider(Path.GetDirectoryName(path)!) { UsePollingFileWatcher = true, UseActivePolling = true };
        _file = Path.GetFileName(path);
        Watch();
    }

    public TaskPolicy Current => _current;

    public void Dispose()
    {
        _watch?.Dispose();
        _files?.Dispose();
    }

    private void Watch() => _watch = ChangeToken.OnChange(() => _files!.Watch(_file!), Reload);

    private void Reload()
    {
        var path = Path.Combine(_files!.Root, _file!);
        try
        {
            var policy = TaskPolicy.Parse(File.ReadAllText(path), path);
            _current = policy;
            LogReloaded(_logger, path, policy.RuleCount);
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            LogReloadRefused(_logger, path, ex.Message);
        }
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Task policy {Path} reloaded: {RuleCount} rules")]
    private static partial void LogReloaded(ILogger logger, string path, int ruleCount);

    [LoggerMessage(EventId = 2, Level = LogLevel.Error, Message = "Task policy {Path} was changed into something invalid and was not loaded; the previous policy stays in force: {Problem}")]
    private static partial void LogReloadRefused(ILogger logger, string path, string problem);
}
