namespace Outpost.Architecture.Tests;

/// <summary>
/// What ARCHITECTURE.md says each project may never reach, directly or through another project, and which packages
/// the grain contracts may use. <see cref="Violations"/> lists every breach of them in a graph.
/// </summary>
public static class ReferenceRules
{
    private static readonly string[] Services = ["Gateway", "Silo", "EdgeSilo", "Admin"];

    /// <summary>Project to the projects it must never reach. Every src project has an entry, so a new one must be placed.</summary>
    public static IReadOnlyDictionary<string, string[]> Forbidden { get; } = new Dictionary<string, string[]>(StringComparer.Ordinal)
    {
        ["Grains.Abstractions"] = ["ServiceDefaults", "AuditLog", "Spending", "Identity", "Execution", "Grains", .. Services],
        ["ServiceDefaults"] = ["AuditLog", "Spending", "Identity", "Execution", "Grains", .. Services],
        ["Execution"] = ["Grains", "Identity", "AuditLog", "Spending", .. Services],
        ["AuditLog"] = ["Grains", "Identity", "Spending", .. Services],
        ["Spending"] = ["Grains", "Identity", "AuditLog", .. Services],
        ["Identity"] = ["Grains", "AuditLog", "Spending", .. Services],
        ["Grains"] = ["Identity", .. Services],
        ["Silo"] = ["Gateway", "EdgeSilo", "Admin"],
        ["EdgeSilo"] = ["Grains", "AuditLog", "Spending", "Identity", "Execution", "Gateway", "Silo", "Admin"],
        ["Gateway"] = ["Grains", "Silo", "EdgeSilo", "Admin"],
        ["Admin"] = ["Grains", "Gateway", "Silo", "EdgeSilo"],
    };

    /// <summary>The only packages the grain contracts may reference: the Orleans SDK, nothing that drags a runtime in.</summary>
    public static IReadOnlyList<string> AbstractionsPackages { get; } = ["Microsoft.Orleans.Sdk"];

    public static IReadOnlyList<string> Violations(ProjectGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var violations = new List<string>();
        foreach (var project in graph.Projects.Keys.Order(StringComparer.Ordinal))
        {
            if (!Forbidden.TryGetValue(project, out var forbidden))
            {
                violations.Add($"src/{project} has no rule: add it to ReferenceRules and ARCHITECTURE.md.");
                continue;
            }

            var reachable = graph.Reachable(project);
            foreach (var target in forbidden.Where(reachable.Contains))
            {
                var direct = graph.Projects[project].Contains(target, StringComparer.Ordinal) ? "references" : "reaches (through another project)";
                violations.Add($"src/{project} {direct} src/{target}, which it must not.");
            }
        }

        if (graph.Projects.ContainsKey("Grains.Abstractions"))
        {
            violations.AddRange(graph.Projects["Grains.Abstractions"].Select(p => $"src/Grains.Abstractions references src/{p}; it may reference only the Orleans SDK."));
            violations.AddRange(graph.Packages["Grains.Abstractions"].Except(AbstractionsPackages, StringComparer.Ordinal)
                .Select(p => $"src/Grains.Abstractions references the package {p}; it may reference only the Orleans SDK."));
        }

        return violations;
    }
}
