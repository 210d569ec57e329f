namespace Outpost.ServiceDefaults.Configuration;

/// <summary>
/// A configuration problem found while a process starts. Its message is one line that names the key and the problem;
/// the host prints it and exits non-zero instead of a stack trace.
/// </summary>
public sealed class StartupConfigurationException : Exception
{
    public StartupConfigurationException()
    {
    }

    public StartupConfigurationException(string message)
        : base(message)
    {
    }

    public StartupConfigurationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
