using System.Globalization;
using System.CommandLine;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Outpost.ServiceDefaults.ClusterTls;

namespace Outpost.Admin.Commands;

/// <summary>
/// <c>cluster ca create --dir DIR</c> makes the cluster CA (<c>ca.crt</c>, <c>ca.key</c>); <c>cluster cert issue ROLE
/// [--device ID] --dir DIR</c> issues a node certificate from it (<c>ROLE.crt</c> or <c>edge-ID.crt</c>, and its key).
/// Needs no database. Private keys are written mode 0600; the CA key belongs offline once the nodes have theirs.
/// </summary>
internal static class ClusterCommands
{
    public const string Name = "cluster";

    private const string CaCertificate = "ca.crt";
    private const string CaKey = "ca.key";

    public static Command Create(CliContext context)
    {
        var directory = new Option<DirectoryInfo>("--dir") { Description = "Where the CA and the node certificates live.", Required = true };
        var caName = new Option<string>("--name") { Description = "The CA's common name.", DefaultValueFactory = _ => "outpost cluster" };
        var caLifetime = new Option<string>("--lifetime") { Description = "How long the CA is valid ([d.]hh:mm:ss).", DefaultValueFactory = _ => "3650.00:00:00" };
        var createCa = new Command("create", "Creates the cluster CA; refuses when the directory already holds one.") { directory, caName, caLifetime };
        createCa.SetAction(async (parse, cancellationToken) =>
        {
            var dir = parse.GetRequiredValue(directory);
            var lifetime = ParseLifetime(parse.GetValue(caLifetime)!, TimeSpan.FromDays(3650 * 3));
            var certificateFile = Path.Combine(dir.FullName, CaCertificate);
            if (File.Exists(certificateFile))
            {
                throw new CliUsageException($"'{certificateFile}' exists: a cluster has one CA; every node certificate chains to it.");
            }

            Directory.CreateDirectory(dir.FullName);
            using var authority = ClusterCertificates.CreateAuthority(parse.GetValue(caName)!, lifetime);
            ClusterCertificates.Write(authority, certificateFile, Path.Combine(dir.FullName, CaKey));
            await context.Output.WriteLineAsync(
                $"cluster CA: {certificateFile} (valid until {authority.NotAfter.ToUniversalTime():yyyy-MM-dd}), key {Path.Combine(dir.FullName, CaKey)}");
            return 0;
        });

        var role = new Argument<string>("role") { Description = "control, gateway or edge." };
        var device = new Option<string?>("--device") { Description = "The device id an edge certificate is for." };
        var lifetimeOption = new Option<string>("--lifetime") { Description = "How long the certificate is valid ([d.]hh:mm:ss).", DefaultValueFactory = _ => "365.00:00:00" };
        var force = new Option<bool>("--force") { Description = "Replace an existing certificate and key of the same name (re-issue)." };
        var issue = new Command("issue", "Issues a node certificate from the cluster CA in --dir.") { role, device, directory, lifetimeOption, force };
        issue.SetAction(async (parse, cancellationToken) =>
        {
            NodeIdentity identity;
            try
            {
                identity = NodeIdentity.Parse(parse.GetRequiredValue(role), parse.GetValue(device));
            }
            catch (ArgumentException ex)
            {
                throw new CliUsageException(ex.Message);
            }

            var dir = parse.GetRequiredValue(directory).FullName;
            var lifetime = ParseLifetime(parse.GetValue(lifetimeOption)!, TimeSpan.FromDays(3650));
            var name = identity.DeviceId is null ? identity.Role : $"{identity.Role}-{identity.DeviceId}";
            var certificateFile = Path.Combine(dir, name + ".crt");
            var keyFile = Path.Combine(dir, name + ".key");
            if (!parse.GetValue(force) && (File.Exists(certificateFile) || File.Exists(keyFile)))
            {
                throw new CliUsageException($"'{certificateFile}' exists; pass --force to re-issue it.");
            }

            X509Certificate2 authority;
            try
            {
                authority = X509Certificate2.CreateFromPemFile(Path.Combine(dir, CaCertificate), Path.Combine(dir, CaKey));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException)
            {
                throw new CliUsageException($"--dir: no usable cluster CA in '{dir}' ({CaCertificate} and {CaKey}): {ex.Message}");
            }

            using (authority)
            using (var issued = ClusterCertificates.Issue(authority, identity, lifetime))
            {
                ClusterCertificates.Write(issued, certificateFile, keyFile);
                await context.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"{identity} certificate: {certificateFile} (valid until {issued.NotAfter.ToUniversalTime():yyyy-MM-dd}), key {keyFile}"));
            }

            return 0;
        });

        return new Command(Name, "Manages the cluster CA and the certificates nodes join the cluster with.")
        {
            new Command("ca", "The cluster CA.") { createCa },
            new Command("cert", "Node certificates.") { issue },
        };
    }

    private static TimeSpan ParseLifetime(string value, TimeSpan max) =>
        TimeSpan.TryParse(value, CultureInfo.InvariantCulture, out var lifetime) && lifetime >= TimeSpan.FromMinutes(1) && lifetime <= max
            ? lifetime
            : throw new CliUsageException($"--lifetime: '{value}' is not a time span from 00:01:00 to {max.Days}.00:00:00 ([d.]hh:mm:ss).");
}
