using System.Text.Json;

namespace Outpost.EdgeSilo.Tasks.Sandbox;

/// <summary>
/// What bwrap wrote to its status fd: <c>{"child-pid": N, "pid-namespace": I, ...}</c> once it has cloned the sandbox's
/// pid 1 (host pid N, pid namespace inode I), then <c>{"exit-code": N}</c> only if the command ran and exited (128 +
/// signal when a signal killed it).
/// </summary>
internal sealed record BwrapStatus(int? ChildPid, long? PidNamespace, int? ExitCode)
{
    public static BwrapStatus Read(string file)
    {
        byte[] json;
        try
        {
            json = File.ReadAllBytes(file);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new BwrapStatus(null, null, null);
        }

        int? childPid = null;
        long? pidNamespace = null;
        int? exitCode = null;
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { AllowMultipleValues = true });
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType != JsonTokenType.PropertyName)
                {
                    continue;
                }

                var name = reader.GetString();
                if (!reader.Read() || reader.TokenType != JsonTokenType.Number)
                {
                    continue;
                }

                switch (name)
                {
                    case "child-pid" when reader.TryGetInt32(out var pid):
                        childPid = pid;
                        break;
                    case "pid-namespace" when reader.TryGetInt64(out var inode):
                        pidNamespace = inode;
                        break;
                    case "exit-code" when reader.TryGetInt32(out var code):
                        exitCode = code;
                        break;
                }
            }
        }
        catch (JsonException)
        {
            // A document cut short (bwrap killed while writing it): what came before it counts.
        }

        return new BwrapStatus(childPid, pidNamespace, exitCode);
    }

    /// <summary>
    /// Whether the sandbox's pid 1 is still running: its host pid names a live (not zombie) process in the sandbox's
    /// pid namespace. bwrap's monitor exits as soon as the command has, while pid 1 may still be killing and reaping
    /// what is left in the namespace; once pid 1 is a zombie or gone, everything else in there has been reaped. Its
    /// parent (the monitor) is gone by then, so it is the host's init that reaps it. Comparing the namespace makes a
    /// reused pid harmless.
    /// </summary>
    public bool SandboxInitAlive()
    {
        if (ChildPid is not { } pid || PidNamespace is not { } inode)
        {
            return false;
        }

        try
        {
            if (new FileInfo($"/proc/{pid}/ns/pid").LinkTarget != $"pid:[{inode}]")
            {
                return false;
            }

            // /proc/PID/stat is "pid (comm) S ...": the state follows the last ')'.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var state = stat.AsSpan(stat.LastIndexOf(')') + 1).TrimStart();
            return state.Length > 0 && state[0] is not ('Z' or 'X');
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
