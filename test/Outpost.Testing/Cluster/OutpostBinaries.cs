namespace Outpost.Testing.Cluster;

/// <summary>Locates the built Outpost executables, so tests can run them as real processes.</summary>
public static class OutpostBinaries
{
    /// <summary>The repository root: the directory holding Outpost.slnx above the test's output directory.</summary>
    public static string RepositoryRoot { get; } = FindRoot();

    /// <summary>The configuration the tests were built in; the referenced apps were built in the same one.</summary>
    public static string Configuration { get; } =
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";

    /// <summary>The path of <c>Outpost.{project}.dll</c> built from <c>src/{project}</c>.</summary>
    public static string PathOf(string project)
    {
        var path = Path.Combine(RepositoryRoot, "src", project, "bin", Configuration, "net10.0", $"Outpost.{project}.dll");
        return File.Exists(path) ? path : throw new FileNotFoundException($"Build src/{project} first: {path} does not exist.", path);
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Outpost.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No Outpost.slnx above {AppContext.BaseDirectory}.");
    }
}
