using System.Globalization;
using System.Text.RegularExpressions;
using Outpost.Grains.TaskRuns;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Outpost.Gateway.Tasks;

/// <summary>
/// The task policy, validated: which tasks run at once, which wait for a human (or a tenant admin), which never run, and
/// the caps a task gets when it asks for none. Rules are tried in order; the first whose every condition holds decides.
/// </summary>
public sealed class TaskPolicy
{
    public const string Allow = "allow";
    public const string Approve = "approve";
    public const string ApproveAdmin = "approve-admin";
    public const string Deny = "deny";

    private static readonly TaskLimits BuiltInDefaults = new(600, 600, 1024L * 1024 * 1024, 128, 4L * 1024 * 1024, 64L * 1024 * 1024, 256);

    private readonly IReadOnlyList<Rule> _rules;
    private readonly (bool Denied, TaskApproval Approval) _default;

    private TaskPolicy(IReadOnlyList<Rule> rules, (bool, TaskApproval) fallback, TaskLimits defaults, TaskLimits maximums, TimeSpan approvalTimeout, string source)
    {
        _rules = rules;
        _default = fallback;
        Defaults = defaults;
        Maximums = maximums;
        ApprovalTimeout = approvalTimeout;
        Source = source;
    }

    /// <summary>The policy when no file is configured: the built-in caps, and every task waits for a human.</summary>
    public static TaskPolicy BuiltIn { get; } = new([], (false, TaskApproval.Human), BuiltInDefaults, Times(BuiltInDefaults, 4), TimeSpan.FromHours(1), "built-in");

    /// <summary>The caps a task gets for what it does not ask for.</summary>
    public TaskLimits Defaults { get; }

    /// <summary>The caps no task may exceed.</summary>
    public TaskLimits Maximums { get; }

    public TimeSpan ApprovalTimeout { get; }

    /// <summary>Where it was read from.</summary>
    public string Source { get; }

    public int RuleCount => _rules.Count;

    /// <summary>Decides about a task.</summary>
    public TaskPolicyDecision Evaluate(TaskPolicyInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        foreach (var rule in _rules)
        {
            if (rule.Matches(input, Defaults))
            {
                return new TaskPolicyDecision(rule.Denied, rule.Approval, rule.Name, rule.ApprovalTimeout ?? ApprovalTimeout);
            }
        }

        return new TaskPolicyDecision(_default.Denied, _default.Approval, "default", ApprovalTimeout);
    }

    /// <summary>Parses and checks a policy; throws <see cref="InvalidDataException"/> naming the key at fault.</summary>
    public static TaskPolicy Parse(string text, string source)
    {
        TaskPolicyDocument? document;
        try
        {
            document = new DeserializerBuilder()
                .WithNamingConvention(UnderscoredNamingConvention.Instance)
                .Build()
                .Deserialize<TaskPolicyDocument>(text);
        }
        catch (YamlException ex)
        {
            throw new InvalidDataException($"{source}: line {ex.Start.Line}, column {ex.Start.Column}: {(ex.InnerException ?? ex).Message}", ex);
        }

        document ??= new TaskPolicyDocument();
        var defaults = Limits(document.Defaults, BuiltInDefaults, $"{source}: defaults");
        var maximums = Limits(document.Maximums, Times(defaults, 4), $"{source}: maximums");
        if (!defaults.IsWithin(maximums))
        {
            throw new InvalidDataException($"{source}: defaults exceed maximums.");
        }

        var timeout = Timeout(document.ApprovalTimeout, $"{source}: approval_timeout") ?? TimeSpan.FromHours(1);

        var rules = new List<Rule>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (rule, i) in (document.Rules ?? []).Select((r, i) => (r, i)))
        {
            var where = $"{source}: rules[{i}]";
            var name = string.IsNullOrWhiteSpace(rule.Name) ? throw new InvalidDataException($"{where}: name is required.") : rule.Name;
            if (!names.Add(name))
            {
                throw new InvalidDataException($"{where}: the name '{name}' is used twice.");
            }

            rules.Add(Rule.Create(name, rule.Match ?? new TaskPolicyMatchDocument(), Decision(rule.Decision, $"{where} ({name}): decision"), where)
                with { ApprovalTimeout = Timeout(rule.ApprovalTimeout, $"{where} ({name}): approval_timeout") });
        }

        return new TaskPolicy(rules, Decision(document.Default ?? Approve, $"{source}: default"), defaults, maximums, timeout, source);
    }

    private static TimeSpan? Timeout(string? written, string where) =>
        written is null ? null
        : TimeSpan.TryParse(written, CultureInfo.InvariantCulture, out var timeout) && timeout >= TimeSpan.FromSeconds(1) && timeout <= TimeSpan.FromDays(30) ? timeout
        : throw new InvalidDataException($"{where} '{written}' must be a time span from 00:00:01 to 30.00:00:00.");

    private static (bool Denied, TaskApproval Approval) Decision(string? decision, string where) => decision switch
    {
        Allow => (false, TaskApproval.None),
        Approve => (false, TaskApproval.Human),
        ApproveAdmin => (false, TaskApproval.TenantAdmin),
        Deny => (true, TaskApproval.None),
        _ => throw new InvalidDataException($"{where} '{decision}' must be one of {Allow}, {Approve}, {ApproveAdmin}, {Deny}."),
    };

    /// <summary>Reads caps written in the policy's units, filling gaps from <paramref name="fallback"/>.</summary>
    public static TaskLimits Limits(TaskLimitsDocument? written, TaskLimits fallback, string where)
    {
        ArgumentNullException.ThrowIfNull(fallback);
        if (written is null)
        {
            return fallback;
        }

        var limits = new TaskLimits(
            written.WallSeconds ?? fallback.WallSeconds,
            written.CpuSeconds ?? fallback.CpuSeconds,
            written.MemoryMb is { } memory ? memory * 1024 * 1024 : fallback.MemoryBytes,
            written.Processes ?? fallback.Processes,
            written.OutputKb is { } output ? output * 1024 : fallback.OutputBytes,
            written.FileSizeMb is { } size ? size * 1024 * 1024 : fallback.FileSizeBytes,
            written.OpenFiles ?? fallback.OpenFiles);
        return limits.WallSeconds < 1 || limits.CpuSeconds < 1 || limits.MemoryBytes < 16L * 1024 * 1024 || limits.Processes < 1
            || limits.OutputBytes < 1024 || limits.FileSizeBytes < 1024 || limits.OpenFiles < 16
            ? throw new InvalidDataException($"{where}: every cap must be positive (wall/cpu >= 1 s, memory >= 16 MB, processes >= 1, output >= 1 KB, file size >= 1 KB... open files >= 16).")
            : limits;
    }

    private static TaskLimits Times(TaskLimits limits, int factor) => new(
        limits.WallSeconds * factor, limits.CpuSeconds * factor, limits.MemoryBytes * factor, limits.Processes * factor,
        limits.OutputBytes * factor, limits.FileSizeBytes * factor, limits.OpenFiles * factor);

    private sealed record Rule(
        string Name,
        bool Denied,
        TaskApproval Approval,
        IReadOnlySet<string>? Kinds,
        IReadOnlySet<string>? Tenants,
        IReadOnlySet<string>? Devices,
        IReadOnlySet<string>? Scopes,
        IReadOnlySet<string>? Programs,
        Regex? Args,
        IReadOnlySet<string>? Origins,
        string? Network,
        bool? WithinDefaults)
    {
        public TimeSpan? ApprovalTimeout { get; init; }

        public static Rule Create(string name, TaskPolicyMatchDocument match, (bool Denied, TaskApproval Approval) decision, string where)
        {
            Regex? args = null;
            if (match.ArgsPattern is { } pattern)
            {
                try
                {
                    args = new Regex($"^(?:{pattern})$", RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100));
                }
                catch (ArgumentException ex)
                {
                    throw new InvalidDataException($"{where}: match.args_pattern is not a valid regular expression: {ex.Message}", ex);
                }
            }

            if (match.ArtifactOrigins?.FirstOrDefault(o => o is not ("upload" or "task")) is { } origin)
            {
                throw new InvalidDataException($"{where}: match.artifact_origins '{origin}' must be upload or task.");
            }

            return new Rule(name, decision.Denied, decision.Approval, Set(match.Kinds), Set(match.Tenants), Set(match.Devices), Set(match.Scopes),
                Set(match.Programs), args, Set(match.ArtifactOrigins), match.Network, match.WithinDefaultLimits);
        }

        public bool Matches(TaskPolicyInput input, TaskLimits defaults) =>
            (Kinds is null || Kinds.Contains(input.Kind))
            && (Tenants is null || Tenants.Contains(input.Tenant))
            && (Devices is null || (input.Device is not null && Devices.Contains(input.Device)))
            && (Scopes is null || Scopes.Overlaps(input.CallerScopes))
            && (Programs is null || Programs.Contains(input.Argv[0]))
            && (Args is null || Args.IsMatch(string.Join(' ', input.Argv.Skip(1))))
            && (Origins is null || input.InputOrigins.All(o => Origins.Contains(o.StartsWith("task:", StringComparison.Ordinal) ? "task" : o)))
            && (Network is null || (Network == TaskRunSpec.NoNetwork ? input.Network == TaskRunSpec.NoNetwork : input.Network != TaskRunSpec.NoNetwork))
            && (WithinDefaults is null || WithinDefaults == input.Limits.IsWithin(defaults));

        private static HashSet<string>? Set(List<string>? values) => values is null ? null : new HashSet<string>(values, StringComparer.Ordinal);
    }
}
