using System.Security.Cryptography;
using System.Text;
using Outpost.ServiceDefaults.Configuration;

namespace Outpost.ServiceDefaults.Security;

/// <summary>
/// The 256-bit key that seals private keys at rest (AES-256-GCM): the gateway's token signing keys and the control
/// plane's audit key. It lives in a file outside the database, so that a copy of the database alone reveals no private
/// key. Every process reads it from <c>Security:MasterKeyFile</c>.
/// </summary>
public sealed class MasterKey
{
    public const int KeySize = 32;
    public const int NonceSize = 12;
    public const int TagSize = 16;

    /// <summary>The configuration key naming the file.</summary>
    public const string FileKey = "Security:MasterKeyFile";

    /// <summary>The configuration key that lets a process create a missing file (development).</summary>
    public const string CreateKey = "Security:CreateMasterKeyFile";

    private const string Key = FileKey;

    private readonly byte[] _key;

    private MasterKey(byte[] key) => _key = key;

    /// <summary>
    /// Reads the key file, creating it (mode 0600) when allowed and missing. Throws
    /// <see cref="StartupConfigurationException"/> naming <c>Security:MasterKeyFile</c> when it cannot.
    /// </summary>
    public static MasterKey Load(string? file, bool createWhenMissing)
    {
        if (string.IsNullOrWhiteSpace(file))
        {
            throw new StartupConfigurationException(
                $"{Key} is missing: set it to a file holding the base64 master key that encrypts private keys at rest.");
        }

        var path = Path.GetFullPath(file);
        if (!File.Exists(path))
        {
            if (!createWhenMissing)
            {
                throw new StartupConfigurationException(
                    $"{Key}: '{path}' does not exist; create it with 32 random bytes in base64 (head -c 32 /dev/urandom | base64 > FILE; chmod 600 FILE), "
                    + $"or set {CreateKey}=true in development.");
            }

            Create(path);
        }

        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StartupConfigurationException($"{Key}: '{path}' cannot be read: {ex.Message}", ex);
        }

        var key = new byte[KeySize];
        if (!Convert.TryFromBase64String(text.Trim(), key, out var written) || written != KeySize)
        {
            throw new StartupConfigurationException($"{Key}: '{path}' does not hold exactly {KeySize} bytes in base64.");
        }

        return new MasterKey(key);
    }

    /// <summary>
    /// A 256-bit key for one <paramref name="purpose"/> (HKDF-SHA256 of the master key, the purpose as its info), so that
    /// the master key itself is only ever used to seal, and each use of it has its own key.
    /// </summary>
    public byte[] DeriveKey(string purpose)
    {
        ArgumentException.ThrowIfNullOrEmpty(purpose);
        return HKDF.DeriveKey(HashAlgorithmName.SHA256, _key, KeySize, salt: [], info: Encoding.UTF8.GetBytes(purpose));
    }

    /// <summary>Seals <paramref name="plaintext"/>; <paramref name="associatedData"/> (the kid) binds it to its row.</summary>
    public (byte[] Ciphertext, byte[] Nonce) Encrypt(ReadOnlySpan<byte> plaintext, string associatedData)
    {
        ArgumentNullException.ThrowIfNull(associatedData);
        var nonce = RandomNumberGenerator.GetBytes(NonceSize);
        var output = new byte[plaintext.Length + TagSize];
        using var aes = new AesGcm(_key, TagSize);
        aes.Encrypt(nonce, plaintext, output.AsSpan(0, plaintext.Length), output.AsSpan(plaintext.Length), Encoding.UTF8.GetBytes(associatedData));
        return (output, nonce);
    }

    /// <summary>Opens what <see cref="Encrypt"/> sealed; throws <see cref="AuthenticationTagMismatchException"/> for a wrong key or a moved row.</summary>
    public byte[] Decrypt(ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> nonce, string associatedData)
    {
        ArgumentNullException.ThrowIfNull(associatedData);
        if (ciphertext.Length < TagSize)
        {
            throw new AuthenticationTagMismatchException();
        }

        var plaintext = new byte[ciphertext.Length - TagSize];
        using var aes = new AesGcm(_key, TagSize);
        aes.Decrypt(nonce, ciphertext[..^TagSize], ciphertext[^TagSize..], plaintext, Encoding.UTF8.GetBytes(associatedData));
        return plaintext;
    }

    private static void Create(string path)
    {
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);

            // Write a temporary file and move it into place, so that a process starting at the same moment reads either
            // no file or a whole one; whoever moves first wins and the other reads the winner's key.
            var temporary = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            using (var stream = new FileStream(temporary, options))
            using (var writer = new StreamWriter(stream))
            {
                writer.WriteLine(Convert.ToBase64String(RandomNumberGenerator.GetBytes(KeySize)));
            }

            try
            {
                File.Move(temporary, path, overwrite: false);
            }
            catch (IOException) when (File.Exists(path))
            {
                File.Delete(temporary);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StartupConfigurationException($"{Key}: '{path}' does not exist and cannot be created: {ex.Message}", ex);
        }
    }
}
