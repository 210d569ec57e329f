using System.Collections.Concurrent;
using System.Diagnostics;

namespace Outpost.EdgeSilo.Tasks.Sandbox;

/// <summary>
/// Starts the sandbox chain from one thread that lives as long as the silo. The chain asks the kernel to SIGKILL it
/// when its parent dies (setpriv's <c>--pdeathsig</c>, so that a sandbox never outlives a crashed silo), and for the
/// kernel the parent is the thread that forked it: started from a thread-pool thread, a run would be killed whenever
/// the pool retires that thread (seen here as runs ending with 137 before their command had exited).
/// </summary>
internal static class ProcessSpawner
{
    private static readonly BlockingCollection<(Process Process, TaskCompletionSource Started)> Requests = [];
    private static readonly Lazy<Thread> Spawner = new(() =>
    {
        var thread = new Thread(Spawn) { IsBackground = true, Name = "Outpost sandbox spawner" };
        thread.Start();
        return thread;
    });

    /// <summary>Starts <paramref name="process"/> on the spawner thread; faults with what <see cref="Process.Start()"/> threw.</summary>
    public static Task StartAsync(Process process)
    {
        _ = Spawner.Value;
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Requests.Add((process, started));
        return started.Task;
    }

    private static void Spawn()
    {
        foreach (var (process, started) in Requests.GetConsumingEnumerable())
        {
            try
            {
                process.Start();
                started.SetResult();
            }
            catch (Exception ex)
            {
                started.SetException(ex);
            }
        }
    }
}
