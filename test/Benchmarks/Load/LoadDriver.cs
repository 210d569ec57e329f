namespace Outpost.Benchmarks.Load;

// Stub: replaced by the load driver.
public static class LoadDriver
{
    public static Task<int> RunAsync(string[] args) => Task.FromResult(0);
}
