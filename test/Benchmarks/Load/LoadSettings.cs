using System.Globalization;

namespace Outpost.Benchmarks.Load;

/// <summary>The load driver's command line.</summary>
public sealed record LoadSettings(
    Uri Url,
    string Model,
    IReadOnlyList<int> Concurrency,
    IReadOnlyList<int> Batches,
    TimeSpan Duration,
    TimeSpan Warmup,
    bool SkipInProcess,
    bool Help,
    string? Token = null)
{
    public static LoadSettings Parse(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var settings = new LoadSettings(
            new Uri("http://127.0.0.1:8080"), "all-MiniLM-L6-v2", [1, 8, 32], [1, 8, 32, 64], TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(3), false, false);
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new FormatException($"{args[i]} needs a value.");
            settings = args[i] switch
            {
                "--url" => settings with
                {
                    Url = Uri.TryCreate(Value(), UriKind.Absolute, out var url) ? url : throw new FormatException($"--url: '{args[i]}' is not an absolute URL."),
                },
                "--model" => settings with { Model = Value() },
                "--concurrency" => settings with { Concurrency = Numbers("--concurrency", Value()) },
                "--batches" => settings with { Batches = Numbers("--batches", Value()) },
                "--seconds" => settings with { Duration = TimeSpan.FromSeconds(Numbers("--seconds", Value())[0]) },
                "--warmup" => settings with { Warmup = TimeSpan.FromSeconds(Numbers("--warmup", Value(), allowZero: true)[0]) },
                "--skip-inproc" => settings with { SkipInProcess = true },
                "--token-file" => settings with { Token = ReadToken(Value()) },
                "-h" or "--help" => settings with { Help = true },
                _ => throw new FormatException($"unknown option '{args[i]}'."),
            };
        }

        return settings;
    }

    private static string ReadToken(string path) =>
        File.Exists(path) ? File.ReadAllText(path).Trim() : throw new FormatException($"--token-file: '{path}' does not exist.");

    private static List<int> Numbers(string option, string value, bool allowZero = false)
    {
        var numbers = new List<int>();
        foreach (var part in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number < (allowZero ? 0 : 1) || number > 100_000)
            {
                throw new FormatException($"{option}: '{part}' is not a whole number from {(allowZero ? 0 : 1)} to 100000.");
            }

            numbers.Add(number);
        }

        return numbers.Count > 0 ? numbers : throw new FormatException($"{option} needs at least one number.");
    }
}
