using System.ComponentModel;
using System.Runtime.InteropServices;

namespace Outpost.EdgeSilo.Tasks.Sandbox;

/// <summary>The few libc calls .NET has no API for: the effective uid, chown and kill by pid.</summary>
internal static class NativeMethods
{
    private const string LibC = "libc";
    private const int SigKill = 9;

    public static int EffectiveUserId => (int)geteuid();

    /// <summary>Changes the owner of <paramref name="path"/> without following a final symlink.</summary>
    public static void ChangeOwner(string path, int userId, int groupId)
    {
        if (lchown(path, (uint)userId, (uint)groupId) != 0)
        {
            throw new IOException($"chown {userId}:{groupId} '{path}' failed: {new Win32Exception(Marshal.GetLastPInvokeError()).Message}");
        }
    }

    /// <summary>Sends SIGKILL to <paramref name="pid"/>; false when it could not (it is gone, or not ours to kill).</summary>
    public static bool Kill(int pid) => kill(pid, SigKill) == 0;

    [DllImport(LibC, SetLastError = true)]
    private static extern uint geteuid();

    [DllImport(LibC, SetLastError = true)]
    private static extern int lchown([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint owner, uint group);

    [DllImport(LibC, SetLastError = true)]
    private static extern int kill(int pid, int signal);
}
