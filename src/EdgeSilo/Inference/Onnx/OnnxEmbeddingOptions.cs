using System.ComponentModel.DataAnnotations;

namespace Outpost.EdgeSilo.Inference.Onnx;

/// <summary>The sentence-embedding model the edge silo runs on its CPU with ONNX Runtime. Section <c>Inference:Embeddings</c>.</summary>
public sealed class OnnxEmbeddingOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Inference:Embeddings";

    /// <summary>Whether the device serves embeddings at all; off saves the model's ~150 MB.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The name clients ask for; it is what the device advertises.</summary>
    [Required(ErrorMessage = "must name the model.")]
    [RegularExpression("^[A-Za-z0-9._:/-]{1,100}$", ErrorMessage = "must be 1-100 letters, digits, '.', '_', ':', '/' or '-'.")]
    public string ModelName { get; set; } = "all-MiniLM-L6-v2";

    /// <summary>
    /// An ONNX sentence-transformer (inputs <c>input_ids</c>, <c>attention_mask</c>, optionally <c>token_type_ids</c>;
    /// one output of token embeddings). Null uses the all-MiniLM-L6-v2 built into the edge silo.
    /// </summary>
    public string? ModelPath { get; set; }

    /// <summary>The WordPiece vocabulary (<c>vocab.txt</c>) of <see cref="ModelPath"/>; required with it.</summary>
    public string? VocabPath { get; set; }

    /// <summary>
    /// The window in tokens, [CLS] and [SEP] included; longer texts are cut. 256 is sentence-transformers'
    /// <c>max_seq_length</c> for all-MiniLM-L6-v2 (the model itself has 512 positions, but was trained on 128).
    /// </summary>
    [Range(3, 8192, ErrorMessage = "must be from 3 to 8192 tokens.")]
    public int MaxInputTokens { get; set; } = 256;

    /// <summary>Whether the model is uncased: lower-case and strip accents before WordPiece, as BERT-uncased does.</summary>
    public bool LowerCase { get; set; } = true;

    /// <summary>Threads ONNX Runtime uses inside one operator; 0 means one per processor.</summary>
    [Range(0, 256, ErrorMessage = "must be from 0 (one per processor) to 256.")]
    public int IntraOpThreads { get; set; }

    /// <summary>Where the built-in model is extracted to a file (loading by path keeps ~110 MB less resident than from memory).</summary>
    [Required(ErrorMessage = "must be a directory path.")]
    public string CacheDirectory { get; set; } = Path.Combine(Path.GetTempPath(), "outpost-models");
}
