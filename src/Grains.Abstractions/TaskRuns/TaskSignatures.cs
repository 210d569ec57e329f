using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Outpost.Grains.TaskRuns;

/// <summary>
/// The signed forms of manifests, endorsements and results, shared by the control plane that signs, the device that
/// verifies and signs back, and an auditor checking a run offline. Every signature is ECDSA P-256 with SHA-256 in IEEE
/// P1363 form (r || s), over a domain-separated text so that no signature can be replayed as another kind.
/// </summary>
public static class TaskSignatures
{
    /// <summary>The only signature algorithm used.</summary>
    public const string Algorithm = "ECDSA-P256-SHA256";

    /// <summary>The JSON form manifests and results are written in (camelCase, no indentation).</summary>
    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web) { WriteIndented = false };

    /// <summary>What the ephemeral key signs: a fixed prefix and the manifest's bytes.</summary>
    public static byte[] ManifestText(string manifestJson) => Encoding.UTF8.GetBytes("outpost.task.manifest/v1\n" + manifestJson);

    /// <summary>What the long-term key signs to endorse an ephemeral key for one run on one device until it expires.</summary>
    public static byte[] EndorsementText(string runId, string device, ReadOnlySpan<byte> ephemeralPublicKey, DateTimeOffset expiresAt) =>
        Encoding.UTF8.GetBytes(string.Create(
            CultureInfo.InvariantCulture,
            $"outpost.task.endorsement/v1\n{runId}\n{device}\n{Convert.ToBase64String(ephemeralPublicKey)}\n{expiresAt.ToUnixTimeSeconds()}\n"));

    /// <summary>What a device key signs: a fixed prefix and the result's bytes.</summary>
    public static byte[] ResultText(string resultJson) => Encoding.UTF8.GetBytes("outpost.task.result/v1\n" + resultJson);

    /// <summary>Lower-case hex SHA-256 of a manifest's or result's bytes.</summary>
    public static string Sha256Hex(string json) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(json)));

    /// <summary>Signs <paramref name="text"/>.</summary>
    public static byte[] Sign(ECDsa key, byte[] text)
    {
        ArgumentNullException.ThrowIfNull(key);
        return key.SignData(text, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
    }

    /// <summary>Checks a signature against a SubjectPublicKeyInfo; false (never an exception) for a malformed key or signature.</summary>
    public static bool Verify(ReadOnlySpan<byte> subjectPublicKeyInfo, byte[] text, ReadOnlySpan<byte> signature)
    {
        try
        {
            using var key = ECDsa.Create();
            key.ImportSubjectPublicKeyInfo(subjectPublicKeyInfo, out _);
            return key.KeySize == 256 && key.VerifyData(text, signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    /// <summary>The id of a public key: the first 16 hex digits of the SHA-256 of its SubjectPublicKeyInfo.</summary>
    public static string KeyIdOf(ReadOnlySpan<byte> subjectPublicKeyInfo) => Convert.ToHexStringLower(SHA256.HashData(subjectPublicKeyInfo))[..16];

    /// <summary>
    /// Checks a dispatched manifest against the trusted long-term keys (key id to SubjectPublicKeyInfo) and returns it parsed,
    /// or says why it must be refused. Does not check the target device, the clock or replays: the caller knows those.
    /// </summary>
    public static (TaskManifest? Manifest, string? Refusal) VerifyManifest(SignedManifest dispatched, IReadOnlyDictionary<string, byte[]> trustedKeys)
    {
        ArgumentNullException.ThrowIfNull(dispatched);
        ArgumentNullException.ThrowIfNull(trustedKeys);
        if (dispatched.Endorsement is null || !trustedKeys.TryGetValue(dispatched.Endorsement.KeyId ?? string.Empty, out var longTerm))
        {
            return (null, $"the manifest is endorsed by key '{dispatched.Endorsement?.KeyId}', which is not a published task-signing key");
        }

        if (dispatched.ManifestJson is null || dispatched.Signature is null || dispatched.EphemeralPublicKey is null
            || !Verify(dispatched.EphemeralPublicKey, ManifestText(dispatched.ManifestJson), dispatched.Signature))
        {
            return (null, "the manifest's signature does not verify with its ephemeral key (it was altered after signing)");
        }

        TaskManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<TaskManifest>(dispatched.ManifestJson, Json);
        }
        catch (JsonException ex)
        {
            return (null, $"the manifest is not valid JSON: {ex.Message}");
        }

        if (manifest is null || manifest.Version != TaskManifest.CurrentVersion || string.IsNullOrEmpty(manifest.RunId) || manifest.Argv is not { Count: > 0 })
        {
            return (null, $"the manifest is not a version {TaskManifest.CurrentVersion} manifest with a run id and argv");
        }

        var endorsed = EndorsementText(manifest.RunId, manifest.Device, dispatched.EphemeralPublicKey, manifest.ExpiresAt);
        return Verify(longTerm, endorsed, dispatched.Endorsement.Signature)
            ? (manifest, null)
            : (null, $"the endorsement by key '{dispatched.Endorsement.KeyId}' does not cover this run's ephemeral key, device and expiry");
    }
}
