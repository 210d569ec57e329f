namespace Outpost.Admin;

/// <summary>A command used wrongly (a bad value, a missing input): printed as one line, exit code 1.</summary>
internal sealed class CliUsageException(string message) : Exception(message);
