using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Outpost.EdgeSilo.EdgeDevices;

namespace Outpost.EdgeSilo.Tasks;

/// <summary>
/// The device's own key pair, which signs its task results. Created on first start (ECDSA P-256, PKCS#8 PEM) in a file
/// only the service user can read (0600, its directory 0700); its public half is registered with the control plane,
/// which pins it. The sandbox never sees the file: it is outside every path the sandbox mounts, and the sandbox runs as
/// another user.
/// </summary>
public sealed class DeviceKey : IDisposable
{
    private readonly ECDsa _key;

    public DeviceKey(IOptions<TaskExecutionOptions> options, IOptions<EdgeOptions> edge)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(edge);
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("Task execution needs Linux (bubblewrap, cgroups).");
        }

        Path = string.IsNullOrEmpty(options.Value.KeyFile)
            ? System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create), "outpost", "edge", edge.Value.DeviceId, "device-key.pem")
            : System.IO.Path.GetFullPath(options.Value.KeyFile);
        _key = ECDsa.Create();
        if (File.Exists(Path))
        {
            var mode = File.GetUnixFileMode(Path);
            if ((mode & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite)) != 0)
            {
                throw new Outpost.ServiceDefaults.Configuration.StartupConfigurationException($"{TaskExecutionOptions.Section}:KeyFile '{Path}' is readable by other users (mode {Convert.ToString((int)mode, 8)}): chmod 600 it, or delete it to create a new key (the control plane must then forget the old one).");
            }

            _key.ImportFromPem(File.ReadAllText(Path));
        }
        else
        {
            var directory = System.IO.Path.GetDirectoryName(Path)!;
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            _key.Dispose();
            _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var pem = _key.ExportPkcs8PrivateKeyPem();
            using (var file = new FileStream(Path, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            }))
            using (var writer = new StreamWriter(file))
            {
                writer.Write(pem);
            }
        }

        PublicKey = _key.ExportSubjectPublicKeyInfo();
    }

    /// <summary>Where the private key is.</summary>
    public string Path { get; }

    /// <summary>The public key (SubjectPublicKeyInfo DER), as registered.</summary>
    public byte[] PublicKey { get; }

    /// <summary>Signs with the device key (ECDSA P-256 / SHA-256, IEEE P1363).</summary>
    public byte[] Sign(byte[] text) => Grains.TaskRuns.TaskSignatures.Sign(_key, text);

    public void Dispose() => _key.Dispose();
}
