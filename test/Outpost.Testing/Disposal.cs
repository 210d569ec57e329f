namespace Outpost.Testing;

public static class Disposal
{
    /// <summary>
    /// Disposes what a fixture started, in the order given (the cluster before the servers it talks to), skipping what
    /// never started.
    /// </summary>
    public static async Task DisposeInOrderAsync(params IAsyncDisposable?[] resources)
    {
        ArgumentNullException.ThrowIfNull(resources);
        foreach (var resource in resources)
        {
            if (resource is not null)
            {
                await resource.DisposeAsync();
            }
        }
    }
}
