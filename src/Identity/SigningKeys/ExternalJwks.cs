using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace Outpost.Identity.SigningKeys;

/// <summary>
/// The signing keys of an external identity provider (Keycloak, Entra ID, ...), read from its JWKS URL and refreshed
/// in the background. Empty when no external provider is configured.
/// </summary>
public sealed partial class ExternalJwks : IDisposable
{
    private static readonly TimeSpan RefreshInterval = TimeSpan.FromMinutes(10);
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private readonly Uri? _url;
    private readonly ILogger<ExternalJwks> _logger;
    private readonly Timer? _timer;
    private volatile IReadOnlyList<SecurityKey> _keys = [];

    public ExternalJwks(IOptions<SecurityOptions> options, ILogger<ExternalJwks> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _url = options.Value.ExternalJwksUrl;
        _logger = logger;
        if (_url is not null)
        {
            _timer = new Timer(_ => _ = RefreshAsync(), null, TimeSpan.Zero, RefreshInterval);
        }
    }

    public IEnumerable<SecurityKey> Keys => _keys;

    public void Dispose()
    {
        _timer?.Dispose();
        _http.Dispose();
    }

    private async Task RefreshAsync()
    {
        try
        {
            var json = await _http.GetStringAsync(_url);
            _keys = new JsonWebKeySet(json).GetSigningKeys().ToList();
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or ArgumentException or System.Text.Json.JsonException)
        {
            LogRefreshFailed(_logger, ex, _url!);
        }
    }

    [LoggerMessage(EventId = 51, EventName = "ExternalJwksRefreshFailed", Level = LogLevel.Warning, Message = "Could not read the external identity provider's keys from {Url}; keeping the previous ones")]
    private static partial void LogRefreshFailed(ILogger logger, Exception exception, Uri url);
}
