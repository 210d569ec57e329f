using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using Outpost.Grains.TaskRuns;

namespace Outpost.EdgeSilo.Tasks;

/// <summary>
/// Puts a run's inputs into its work directory and takes its outputs out, treating both as hostile: inputs are checked
/// against their digests before use, archives are unpacked entry by entry (regular files and directories only, no
/// absolute paths, no "..", no links, no device files, no set-id bits, within size and count caps), and an output is
/// read only when it is a regular file that really lies inside the work directory.
/// </summary>
public static class TaskWorkspace
{
    private const UnixFileMode PermissionBits =
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute
        | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    /// <summary>Resolves a manifest path under <paramref name="root"/>, or throws when it would leave it.</summary>
    public static string Resolve(string root, string relative)
    {
        ArgumentNullException.ThrowIfNull(relative);
        if (relative.Length == 0 || Path.IsPathRooted(relative) || relative.Split('/').Any(part => part == ".."))
        {
            throw new InvalidDataException($"'{relative}' is not a relative path inside the work directory.");
        }

        var full = Path.GetFullPath(Path.Combine(root, relative));
        var rootFull = Path.GetFullPath(root).TrimEnd('/') + "/";
        return full + "/" == rootFull || full.StartsWith(rootFull, StringComparison.Ordinal)
            ? full
            : throw new InvalidDataException($"'{relative}' is not a relative path inside the work directory.");
    }

    /// <summary>Checks a downloaded file against its digest.</summary>
    public static async Task<bool> MatchesAsync(string file, string digest)
    {
        await using var stream = File.OpenRead(file);
        var hash = await SHA256.HashDataAsync(stream);
        return string.Equals("sha256:" + Convert.ToHexStringLower(hash), digest, StringComparison.Ordinal);
    }

    /// <summary>Places a verified input: copies it to <paramref name="input"/>'s path, or unpacks it there.</summary>
    public static void Place(string workDirectory, TaskInput input, string file, long maxBytes, int maxFiles)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("Task execution needs Linux (bubblewrap, cgroups).");
        }

        var target = input.Path is "." or "./" ? Path.GetFullPath(workDirectory) : Resolve(workDirectory, input.Path);
        if (!input.Unpack)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: false);
            return;
        }

        Directory.CreateDirectory(target);
        using var raw = File.OpenRead(file);
        var gzip = raw.ReadByte() == 0x1f && raw.ReadByte() == 0x8b;
        raw.Position = 0;
        using Stream archive = gzip ? new GZipStream(raw, CompressionMode.Decompress) : raw;
        using var reader = new TarReader(archive);
        long total = 0;
        var count = 0;
        while (reader.GetNextEntry() is { } entry)
        {
            if (entry.EntryType is TarEntryType.GlobalExtendedAttributes or TarEntryType.ExtendedAttributes)
            {
                continue;
            }

            if (++count > maxFiles)
            {
                throw new InvalidDataException($"The archive {input.Digest} holds more than {maxFiles} entries.");
            }

            var name = entry.Name.TrimStart('.', '/').Length == 0 ? "." : entry.Name;
            if (name == ".")
            {
                continue;
            }

            var path = Resolve(target, name.StartsWith("./", StringComparison.Ordinal) ? name[2..] : name);
            switch (entry.EntryType)
            {
                case TarEntryType.Directory:
                    Directory.CreateDirectory(path);
                    break;
                case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                    total += entry.Length;
                    if (total > maxBytes)
                    {
                        throw new InvalidDataException($"The archive {input.Digest} unpacks to more than {maxBytes} bytes.");
                    }

                    Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                    using (var output = new FileStream(path, new FileStreamOptions
                    {
                        Mode = FileMode.CreateNew,
                        Access = FileAccess.Write,
                        UnixCreateMode = (entry.Mode & PermissionBits) | UnixFileMode.UserRead | UnixFileMode.UserWrite,
                    }))
                    {
                        entry.DataStream?.CopyTo(output);
                    }

                    break;
                default:
                    throw new InvalidDataException($"The archive {input.Digest} holds '{entry.Name}', a {entry.EntryType} entry; only regular files and directories are unpacked.");
            }
        }
    }

    /// <summary>
    /// Makes the work directory and everything in it the sandbox user's (without following links; unpacking made none).
    /// </summary>
    public static void GiveTo(string workDirectory, int userId, int groupId)
    {
        Sandbox.NativeMethods.ChangeOwner(workDirectory, userId, groupId);
        foreach (var entry in Directory.EnumerateFileSystemEntries(workDirectory, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
        {
            Sandbox.NativeMethods.ChangeOwner(entry, userId, groupId);
        }
    }

    /// <summary>The output file at <paramref name="relative"/> when it is a regular file inside the work directory; null when absent.</summary>
    public static FileInfo? FindOutput(string workDirectory, string relative, out string? problem)
    {
        problem = null;
        string path;
        try
        {
            path = Resolve(workDirectory, relative);
        }
        catch (InvalidDataException ex)
        {
            problem = ex.Message;
            return null;
        }

        var info = new FileInfo(path);
        if (!info.Exists)
        {
            return null;
        }

        // A link could point anywhere on the host, including at the device key: outputs are regular files only, and
        // no directory on the way may be a link either.
        for (var current = new DirectoryInfo(Path.GetDirectoryName(path)!); current.FullName.Length > Path.GetFullPath(workDirectory).TrimEnd('/').Length; current = current.Parent!)
        {
            if (current.LinkTarget is not null)
            {
                problem = $"output '{relative}' lies under a symbolic link";
                return null;
            }
        }

        if (info.LinkTarget is not null || (info.Attributes & FileAttributes.ReparsePoint) != 0)
        {
            problem = $"output '{relative}' is a symbolic link, not a file";
            return null;
        }

        // A FIFO (or socket) the task left under an output's name would block the root reader forever.
        if (!IsRegularFile(info.FullName))
        {
            problem = $"output '{relative}' is not a regular file";
            return null;
        }

        return info;
    }

    /// <summary>Whether <paramref name="path"/> itself (not what a link names) is a regular file, as stat(1) sees it.</summary>
    private static bool IsRegularFile(string path)
    {
        var start = new ProcessStartInfo("stat") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "--printf=%F", "--", path })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("stat did not start.");
        var type = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0 && type is "regular file" or "regular empty file";
    }
}
