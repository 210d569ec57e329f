namespace Outpost.Testing.Cluster;

/// <summary>How an Outpost process ended.</summary>
public sealed record ProcessResult(int ExitCode, string StandardOutput, string StandardError);
