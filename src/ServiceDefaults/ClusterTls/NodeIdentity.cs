using System.Formats.Asn1;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;

namespace Outpost.ServiceDefaults.ClusterTls;

/// <summary>
/// What a cluster certificate says its holder is: the control plane, the gateway, or the edge silo of one device. It is
/// carried as a URI in the certificate's subject alternative names (<c>urn:outpost:node:control</c>,
/// <c>urn:outpost:node:gateway</c>, <c>urn:outpost:node:edge:&lt;device id&gt;</c>), so the CA's signature binds it.
/// </summary>
public sealed partial record NodeIdentity(string Role, string? DeviceId)
{
    public const string Control = "control";
    public const string Gateway = "gateway";
    public const string Edge = "edge";

    private const string Prefix = "urn:outpost:node:";

    public static NodeIdentity ControlPlane { get; } = new(Control, null);

    public static NodeIdentity GatewayClient { get; } = new(Gateway, null);

    public static NodeIdentity EdgeDevice(string deviceId) => new(Edge, deviceId);

    /// <summary>The URI the certificate carries.</summary>
    public string Uri => DeviceId is null ? Prefix + Role : $"{Prefix}{Role}:{DeviceId}";

    public override string ToString() => DeviceId is null ? Role : $"{Role} {DeviceId}";

    /// <summary>Parses a role as the CLI takes it (<c>control</c>, <c>gateway</c>, <c>edge</c> with a device id); throws naming the problem.</summary>
    public static NodeIdentity Parse(string role, string? deviceId)
    {
        return role switch
        {
            Control or Gateway when deviceId is not null => throw new ArgumentException($"a {role} certificate names no device; drop --device."),
            Control => ControlPlane,
            Gateway => GatewayClient,
            Edge when deviceId is null => throw new ArgumentException("an edge certificate needs --device <device id>."),
            Edge when !DeviceIdPattern().IsMatch(deviceId) => throw new ArgumentException($"'{deviceId}' is not a device id (letters, digits, '.', '_', '-'; at most 100)."),
            Edge => EdgeDevice(deviceId),
            _ => throw new ArgumentException($"'{role}' is not a node role; use control, gateway or edge."),
        };
    }

    /// <summary>The identity a certificate carries, or null when it carries none (or more than one).</summary>
    public static NodeIdentity? Of(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var extension = certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().FirstOrDefault();
        if (extension is null)
        {
            return null;
        }

        NodeIdentity? found = null;
        foreach (var name in Uris(extension.RawData))
        {
            if (!name.StartsWith(Prefix, StringComparison.Ordinal))
            {
                continue;
            }

            var parts = name[Prefix.Length..].Split(':', 2);
            NodeIdentity? parsed = parts switch
            {
                [Control] => ControlPlane,
                [Gateway] => GatewayClient,
                [Edge, var device] when DeviceIdPattern().IsMatch(device) => EdgeDevice(device),
                _ => null,
            };
            if (parsed is null || found is not null)
            {
                return null;
            }

            found = parsed;
        }

        return found;
    }

    /// <summary>The uniformResourceIdentifier entries ([6] IA5String) of a subjectAltName extension's value.</summary>
    private static List<string> Uris(byte[] extensionValue)
    {
        var uris = new List<string>();
        var uriTag = new Asn1Tag(TagClass.ContextSpecific, 6);
        try
        {
            var names = new AsnReader(extensionValue, AsnEncodingRules.DER).ReadSequence();
            while (names.HasData)
            {
                if (names.PeekTag() == uriTag)
                {
                    uris.Add(names.ReadCharacterString(UniversalTagNumber.IA5String, uriTag));
                }
                else
                {
                    names.ReadEncodedValue();
                }
            }
        }
        catch (AsnContentException)
        {
            return [];
        }

        return uris;
    }

    [GeneratedRegex("^[A-Za-z0-9._-]{1,100}$")]
    private static partial Regex DeviceIdPattern();
}
