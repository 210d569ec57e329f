using System.ComponentModel.DataAnnotations;

namespace Outpost.EdgeSilo.Inference.Hailo;

/// <summary>Where the AI HAT+ 2's LLM server (hailo-ollama) listens, and how to talk to it. Section <c>Inference:Hailo</c>.</summary>
public sealed class HailoOllamaOptions : IValidatableObject
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Inference:Hailo";

    /// <summary>
    /// The server's base address, e.g. <c>http://127.0.0.1:8000/</c>. Unset means this device has no HAT and the
    /// backend is disabled.
    /// </summary>
    public Uri? BaseUrl { get; set; }

    /// <summary>
    /// The longest one exchange with the server may take, from sending the request to the last streamed token.
    /// A completion at ~8 tokens/s needs about two minutes for 1,000 tokens.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00", ErrorMessage = "must be a time span from 00:00:01 to 01:00:00.")]
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often the device asks the server which models it has.</summary>
    [Range(typeof(TimeSpan), "00:00:05", "1.00:00:00", ErrorMessage = "must be a time span from 00:00:05 to 1.00:00:00.")]
    public TimeSpan ModelRefreshInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How long the server keeps a model loaded after a request (Ollama's <c>keep_alive</c>), e.g. <c>10m</c>,
    /// <c>-1h</c> (keep it loaded) or <c>0</c> (unload at once). Unset leaves it to the server.
    /// </summary>
    [RegularExpression(@"^(0|-?([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+)$",
        ErrorMessage = "must be a duration such as 5m, 1h30m or -1h (keep loaded), or 0 (unload at once).")]
    public string? KeepAlive { get; set; }

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (BaseUrl is { } url && (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps)))
        {
            yield return new ValidationResult(
                "must be an absolute http or https address, e.g. http://127.0.0.1:8000/.", [nameof(BaseUrl)]);
        }
    }
}
