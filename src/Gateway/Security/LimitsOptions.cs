using System.ComponentModel.DataAnnotations;

namespace Outpost.Gateway.Security;

/// <summary>What one caller may ask of the gateway. Section <c>Limits</c>.</summary>
public sealed class LimitsOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Limits";

    /// <summary>Sustained requests per second per client (token bucket refill).</summary>
    [Range(1, 1_000_000, ErrorMessage = "must be from 1 to 1000000.")]
    public int RequestsPerSecond { get; set; } = 50;

    /// <summary>Requests a client may make at once above its sustained rate (bucket size).</summary>
    [Range(1, 1_000_000, ErrorMessage = "must be from 1 to 1000000.")]
    public int Burst { get; set; } = 200;

    /// <summary>Requests per second from one address before it has authenticated (token endpoints, bad tokens).</summary>
    [Range(1, 1_000_000, ErrorMessage = "must be from 1 to 1000000.")]
    public int AnonymousRequestsPerSecond { get; set; } = 20;

    /// <summary>Body size of any request, unless its endpoint allows more.</summary>
    [Range(1024, 1_073_741_824, ErrorMessage = "must be from 1024 to 1073741824 bytes.")]
    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>Body size of an embeddings request (many inputs per request).</summary>
    [Range(1024, 1_073_741_824, ErrorMessage = "must be from 1024 to 1073741824 bytes.")]
    public long MaxEmbeddingsBodyBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>Total size of the request headers.</summary>
    [Range(1024, 1_048_576, ErrorMessage = "must be from 1024 to 1048576 bytes.")]
    public int MaxHeaderBytes { get; set; } = 16 * 1024;

    /// <summary>Number of request header fields.</summary>
    [Range(8, 10_000, ErrorMessage = "must be from 8 to 10000 header fields.")]
    public int MaxHeaderCount { get; set; } = 100;

    /// <summary>Length of the path and query string.</summary>
    [Range(256, 65_536, ErrorMessage = "must be from 256 to 65536 characters.")]
    public int MaxUrlLength { get; set; } = 4096;

    /// <summary>How long a request may take before it is answered 504.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00", ErrorMessage = "must be a time span from 00:00:01 to 01:00:00.")]
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromMinutes(2);
}
