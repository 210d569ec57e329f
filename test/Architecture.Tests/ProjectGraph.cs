using System.Xml.Linq;

namespace Outpost.Architecture.Tests;

/// <summary>The src projects as their project files declare them: each one's project and package references.</summary>
public sealed class ProjectGraph
{
    public ProjectGraph(IReadOnlyDictionary<string, IReadOnlyList<string>> projects, IReadOnlyDictionary<string, IReadOnlyList<string>> packages)
    {
        Projects = projects;
        Packages = packages;
    }

    /// <summary>Project name (the folder under src) to the projects it references directly.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Projects { get; }

    /// <summary>Project name to the NuGet packages it references directly.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Packages { get; }

    /// <summary>Reads every <c>src/*/*.csproj</c> under <paramref name="repositoryRoot"/>.</summary>
    public static ProjectGraph Load(string repositoryRoot)
    {
        var projects = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        var packages = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(Path.Combine(repositoryRoot, "src"), "*.csproj", SearchOption.AllDirectories))
        {
            var name = Path.GetFileName(Path.GetDirectoryName(file)!);
            var document = XDocument.Load(file);
            projects[name] = document.Descendants("ProjectReference")
                .Select(r => Path.GetFileName(Path.GetDirectoryName(r.Attribute("Include")!.Value.Replace('\\', '/'))!))
                .ToList();
            packages[name] = document.Descendants("PackageReference").Select(r => r.Attribute("Include")!.Value).ToList();
        }

        return new ProjectGraph(projects, packages);
    }

    /// <summary>Every project <paramref name="project"/> reaches through project references, itself excluded.</summary>
    public IReadOnlySet<string> Reachable(string project)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>(Projects.GetValueOrDefault(project) ?? []);
        while (pending.TryPop(out var next))
        {
            if (seen.Add(next))
            {
                foreach (var reference in Projects.GetValueOrDefault(next) ?? [])
                {
                    pending.Push(reference);
                }
            }
        }

        return seen;
    }
}
