using Outpost.Testing.Cluster;
using Xunit;

namespace Outpost.Architecture.Tests;

/// <summary>The walls of ARCHITECTURE.md, read from the project files, so that a forbidden reference fails the build's tests.</summary>
public sealed class ReferenceRulesTests
{
    [Fact]
    public void Repository_KeepsEveryWall()
    {
        var graph = ProjectGraph.Load(OutpostBinaries.RepositoryRoot);

        Assert.Contains("Gateway", graph.Projects.Keys);
        Assert.Empty(ReferenceRules.Violations(graph));
    }

    [Fact]
    public void Gateway_DoesNotReferenceTheGrainsProject()
    {
        var gateway = File.ReadAllText(Path.Combine(OutpostBinaries.RepositoryRoot, "src", "Gateway", "Gateway.csproj"));

        Assert.DoesNotContain("Grains.csproj", gateway, StringComparison.Ordinal);
        Assert.Contains("Grains.Abstractions.csproj", gateway, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Gateway", "Grains", "src/Gateway references src/Grains")]
    [InlineData("EdgeSilo", "Identity", "src/EdgeSilo references src/Identity")]
    [InlineData("Grains.Abstractions", "ServiceDefaults", "src/Grains.Abstractions references src/ServiceDefaults")]
    public void ForbiddenReference_IsReported(string from, string to, string expected)
    {
        var graph = Graph((from, [to]));

        Assert.Contains(ReferenceRules.Violations(graph), v => v.StartsWith(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void ForbiddenReference_ThroughAnotherProject_IsReported()
    {
        // The edge silo reaches the control-plane grains if ServiceDefaults ever takes them in.
        var graph = Graph(("EdgeSilo", ["ServiceDefaults"]), ("ServiceDefaults", ["Grains"]));

        Assert.Contains("src/EdgeSilo reaches (through another project) src/Grains, which it must not.", ReferenceRules.Violations(graph));
    }

    [Fact]
    public void AbstractionsWithAnotherPackage_IsReported()
    {
        var graph = new ProjectGraph(
            new Dictionary<string, IReadOnlyList<string>> { ["Grains.Abstractions"] = [] },
            new Dictionary<string, IReadOnlyList<string>> { ["Grains.Abstractions"] = ["Microsoft.Orleans.Sdk", "Npgsql"] });

        Assert.Equal(["src/Grains.Abstractions references the package Npgsql; it may reference only the Orleans SDK."], ReferenceRules.Violations(graph));
    }

    [Fact]
    public void UnplacedProject_IsReported()
    {
        var graph = Graph(("Scheduler", []));

        Assert.Contains("src/Scheduler has no rule: add it to ReferenceRules and ARCHITECTURE.md.", ReferenceRules.Violations(graph));
    }

    private static ProjectGraph Graph(params (string Project, string[] References)[] projects)
    {
        var references = projects.ToDictionary(p => p.Project, p => (IReadOnlyList<string>)p.References, StringComparer.Ordinal);
        foreach (var name in ReferenceRules.Forbidden.Keys.Where(n => !references.ContainsKey(n)))
        {
            references[name] = [];
        }

        return new ProjectGraph(references, references.Keys.ToDictionary(k => k, k => (IReadOnlyList<string>)(k == "Grains.Abstractions" ? ["Microsoft.Orleans.Sdk"] : []), StringComparer.Ordinal));
    }
}
