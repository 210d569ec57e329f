using Microsoft.Extensions.Options;
using Outpost.ServiceDefaults.Configuration;
using Outpost.ServiceDefaults.Schema;

namespace Outpost.ServiceDefaults.Hosting;

/// <summary>
/// Runs a host's main function and turns configuration problems into one line on standard error and a non-zero exit
/// code. Anything else is a bug and keeps its stack trace.
/// </summary>
public static class OutpostProcess
{
    /// <summary>Exit code for a configuration or environment problem found at start.</summary>
    public const int ConfigurationErrorExitCode = 2;

    public static async Task<int> RunAsync(string processName, Func<Task> main)
    {
        ArgumentNullException.ThrowIfNull(main);
        try
        {
            await main();
            return 0;
        }
        catch (Exception ex) when (Describe(ex) is { } problem)
        {
            await Console.Error.WriteLineAsync($"{processName}: {problem}");
            return ConfigurationErrorExitCode;
        }
    }

    /// <summary>One line for a startup problem the operator can fix, or null when the exception is a bug.</summary>
    public static string? Describe(Exception exception) => exception switch
    {
        StartupConfigurationException ex => ex.Message,
        SchemaMigrationException ex => ex.Message,
        OptionsValidationException ex => $"{SectionOf(ex.OptionsType)}: {string.Join("; ", ex.Failures)}",
        AggregateException ex => ex.InnerExceptions.Select(Describe).FirstOrDefault(line => line is not null),
        IOException ex when ex.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase) => ex.Message,
        _ when exception.InnerException is { } inner => Describe(inner),
        _ => null,
    };

    private static string SectionOf(Type optionsType) =>
        optionsType.GetField("Section")?.GetRawConstantValue() as string ?? optionsType.Name;
}
