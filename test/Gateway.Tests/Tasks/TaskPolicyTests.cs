using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Outpost.Gateway.Tasks;
using Outpost.Grains.TaskRuns;
using Outpost.ServiceDefaults.Configuration;
using Xunit;

namespace Outpost.Gateway.Tests.Tasks;

public sealed class TaskPolicyTests
{
    private static readonly TaskLimits Small = new(10, 10, 64L * 1024 * 1024, 8, 4096, 4096, 32);

    private static string ShippedPolicy => File.ReadAllText(Path.Combine(RepositoryRoot(), "config", "task-policy.yaml"));

    [Fact]
    public void ShippedPolicy_DevUnitTestsRunAtOnce_EverythingElseWaitsForAHuman()
    {
        var policy = TaskPolicy.Parse(ShippedPolicy, "config/task-policy.yaml");
        var unitTest = Input("dev", "unit-test", ["python3", "-m", "unittest", "discover", "-v"]);
        Assert.Equal(new TaskPolicyDecision(false, TaskApproval.None, "dev-unit-tests", TimeSpan.FromHours(1)), policy.Evaluate(unitTest));
        Assert.Equal(TaskApproval.None, policy.Evaluate(unitTest with { Argv = ["python3", "-m", "pytest", "-q"] }).Approval);

        // Another tenant, kind, program, origin, bigger caps or network: a human decides.
        Assert.Equal(TaskApproval.Human, policy.Evaluate(unitTest with { Tenant = "other" }).Approval);
        Assert.Equal(TaskApproval.Human, policy.Evaluate(unitTest with { Kind = "build" }).Approval);
        Assert.Equal(TaskApproval.Human, policy.Evaluate(unitTest with { Argv = ["python3", "-c", "import os"] }).Approval);
        Assert.Equal(TaskApproval.Human, policy.Evaluate(unitTest with { Argv = ["sh", "-m", "unittest"] }).Approval);
        Assert.Equal(TaskApproval.Human, policy.Evaluate(unitTest with { InputOrigins = ["task:run_1"] }).Approval);
        Assert.Equal(TaskApproval.Human, policy.Evaluate(unitTest with { Limits = policy.Defaults with { WallSeconds = policy.Defaults.WallSeconds + 1 } }).Approval);
        Assert.Equal(TaskApproval.TenantAdmin, policy.Evaluate(unitTest with { Network = "any" }).Approval);
        Assert.Equal("default", policy.Evaluate(unitTest with { Kind = "build" }).Rule);
    }

    [Theory]
    [InlineData("rules: [{ decision: allow }]", "rules[0]: name is required")]
    [InlineData("rules: [{ name: a, decision: maybe }]", "rules[0] (a): decision 'maybe' must be one of")]
    [InlineData("rules: [{ name: a, decision: allow }, { name: a, decision: deny }]", "the name 'a' is used twice")]
    [InlineData("rules: [{ name: a, decision: allow, match: { args_pattern: '(' } }]", "match.args_pattern is not a valid regular expression")]
    [InlineData("rules: [{ name: a, decision: allow, match: { artifact_origins: [elsewhere] } }]", "artifact_origins 'elsewhere'")]
    [InlineData("approval_timeout: soon", "approval_timeout 'soon'")]
    [InlineData("defaults: { wall_seconds: 0 }", "defaults: every cap must be positive")]
    [InlineData("defaults: { wall_seconds: 100 }\nmaximums: { wall_seconds: 10 }", "defaults exceed maximums")]
    [InlineData("rules: [ name: a", "line 2")]
    [InlineData("rulez: []", "line 1")]
    public void Parse_InvalidPolicy_NamesTheKeyAtFault(string text, string expected)
    {
        var error = Assert.Throws<InvalidDataException>(() => TaskPolicy.Parse(text, "policy.yaml"));
        Assert.StartsWith("policy.yaml: ", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_FirstMatchingRuleDecides_AndAnEmptyMatchMatchesEverything()
    {
        var policy = TaskPolicy.Parse("""
            rules:
              - { name: deny-curl, match: { programs: [curl] }, decision: deny }
              - { name: admins-for-big, match: { within_default_limits: false }, decision: approve-admin }
              - { name: rest, decision: allow }
            default: deny
            """, "p");
        Assert.True(policy.Evaluate(Input("t", "any", ["curl", "x"])).Denied);
        Assert.Equal(TaskApproval.TenantAdmin, policy.Evaluate(Input("t", "any", ["ls"]) with { Limits = policy.Maximums }).Approval);
        Assert.Equal(new TaskPolicyDecision(false, TaskApproval.None, "rest", TimeSpan.FromHours(1)), policy.Evaluate(Input("t", "any", ["ls"])));
    }

    [Fact]
    public void NoPolicyFile_EveryTaskWaitsForAHuman()
    {
        using var provider = new TaskPolicyProvider(Options.Create(new TaskPolicyOptions()), NullLogger<TaskPolicyProvider>.Instance);
        Assert.Same(TaskPolicy.BuiltIn, provider.Current);
        Assert.Equal(TaskApproval.Human, provider.Current.Evaluate(Input("dev", "unit-test", ["python3", "-m", "pytest"])).Approval);
    }

    [Fact]
    public void Provider_BrokenFileAtStart_StopsWithTheFilesError()
    {
        var file = Path.GetTempFileName();
        File.WriteAllText(file, "rules: [{ name: a, decision: sometimes }]");
        var error = Assert.Throws<StartupConfigurationException>(() =>
            new TaskPolicyProvider(Options.Create(new TaskPolicyOptions { PolicyFile = file }), NullLogger<TaskPolicyProvider>.Instance));
        Assert.Contains("Tasks:PolicyFile", error.Message, StringComparison.Ordinal);
        Assert.Contains("'sometimes'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Provider_FileChanged_ReloadsAValidEditAndKeepsThePolicyOverABrokenOne()
    {
        var directory = Directory.CreateTempSubdirectory("outpost-policy-").FullName;
        var file = Path.Combine(directory, "policy.yaml");
        File.WriteAllText(file, "default: deny\n");
        using var provider = new TaskPolicyProvider(Options.Create(new TaskPolicyOptions { PolicyFile = file }), NullLogger<TaskPolicyProvider>.Instance);
        var input = Input("t", "unit-test", ["true"]);
        Assert.True(provider.Current.Evaluate(input).Denied);

        File.WriteAllText(file, "default: allow\n");
        File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddSeconds(5));
        await WaitUntilAsync(() => !provider.Current.Evaluate(input).Denied);

        var before = provider.Current;
        File.WriteAllText(file, "default: [not, a, decision\n");
        File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddSeconds(10));
        await Task.Delay(TimeSpan.FromSeconds(6));
        Assert.Same(before, provider.Current);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the policy was not reloaded within 30 s");
            await Task.Delay(100);
        }
    }

    private static TaskPolicyInput Input(string tenant, string kind, IReadOnlyList<string> argv) =>
        new(tenant, kind, argv, null, new HashSet<string> { "code:execute" }, ["upload"], TaskRunSpec.NoNetwork, Small);

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Outpost.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("The repository root was not found above the test's directory.");
    }
}
