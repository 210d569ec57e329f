using System.Globalization;
using System.Security.Claims;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http.Timeouts;
using Outpost.Gateway.AuditLogs;
using Outpost.Gateway.Errors;
using Outpost.Identity;
using Outpost.ServiceDefaults.Configuration;

namespace Outpost.Gateway.Security;

/// <summary>Per-client rate limits, size limits and timeouts, every refusal as problem+json.</summary>
public static class LimitsExtensions
{
    /// <summary>
    /// The least that Kestrel accepts in request headers (bytes): it sits well above <see cref="LimitsOptions.MaxHeaderBytes"/>
    /// so that headers over the gateway's limit reach the gateway, which refuses them as problem+json. Only past this
    /// ceiling (or four times the gateway's limit, whichever is more) does Kestrel refuse a request itself, with a bare 431.
    /// </summary>
    public const int MinHeaderBytesCeiling = 256 * 1024;

    /// <summary>The least number of header fields Kestrel accepts, for the same reason.</summary>
    public const int MinHeaderCountCeiling = 1000;

    public static WebApplicationBuilder AddOutpostLimits(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var limits = builder.AddValidatedOptions<LimitsOptions>(LimitsOptions.Section);

        // Kestrel's own limits sit well above ours, so that what the gateway refuses it refuses as problem+json; only
        // what is past them never reaches the application (README: "Refused before the application").
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            var headerCeiling = Math.Max(MinHeaderBytesCeiling, limits.MaxHeaderBytes * 4);
            kestrel.Limits.MaxRequestBodySize = Math.Max(limits.MaxRequestBodyBytes, limits.MaxEmbeddingsBodyBytes);
            kestrel.Limits.MaxRequestHeadersTotalSize = headerCeiling;
            kestrel.Limits.MaxRequestHeaderCount = Math.Max(MinHeaderCountCeiling, limits.MaxHeaderCount * 4);
            kestrel.Limits.Http2.MaxRequestHeaderFieldSize = headerCeiling;
            kestrel.Limits.MaxRequestLineSize = Math.Max(16 * 1024, limits.MaxUrlLength * 2);
            kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(15);
        });

        builder.Services.AddRateLimiter(o =>
        {
            o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
            {
                // A client of one tenant never spends another's: a public client (an agent signing in by device flow)
                // has one client id for every tenant that uses it.
                var client = context.User.FindFirstValue(OutpostClaims.ClientId);
                var tenant = context.User.FindFirstValue(OutpostClaims.Tenant);
                return client is null
                    ? RateLimitPartition.GetTokenBucketLimiter("address:" + context.Connection.RemoteIpAddress, _ => Bucket(limits.AnonymousRequestsPerSecond, limits.AnonymousRequestsPerSecond * 2))
                    : RateLimitPartition.GetTokenBucketLimiter($"client:{tenant}/{client}", _ => Bucket(limits.RequestsPerSecond, limits.Burst));
            });
            o.OnRejected = async (rejected, _) =>
            {
                var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
                rejected.HttpContext.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                AuditFeature.Of(rejected.HttpContext)?.Deny("rate_limited", "rate limit");
                await Problems.WriteAsync(
                    rejected.HttpContext, StatusCodes.Status429TooManyRequests, "rate-limited", "Too many requests", "This client is over its request rate; retry after the time in Retry-After.");
            };
        });

        builder.Services.AddRequestTimeouts(o => o.DefaultPolicy = new RequestTimeoutPolicy
        {
            Timeout = limits.RequestTimeout,
            TimeoutStatusCode = StatusCodes.Status504GatewayTimeout,
        });
        return builder;
    }

    /// <summary>Refuses oversized URLs and headers before anything else reads them.</summary>
    public static WebApplication UseRequestGuards(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var limits = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<LimitsOptions>>().Value;
        app.Use(async (context, next) =>
        {
            var request = context.Request;
            if (request.Path.Value?.Length + request.QueryString.Value?.Length > limits.MaxUrlLength)
            {
                await Problems.WriteAsync(context, StatusCodes.Status414UriTooLong, "uri-too-long", "URI too long", $"The path and query may be at most {limits.MaxUrlLength} characters.");
                return;
            }

            if (request.Headers.Count > limits.MaxHeaderCount)
            {
                await Problems.WriteAsync(
                    context, StatusCodes.Status431RequestHeaderFieldsTooLarge, "headers-too-large", "Request headers too large", $"A request may carry at most {limits.MaxHeaderCount} header fields.");
                return;
            }

            var headerBytes = 0L;
            foreach (var (name, values) in request.Headers)
            {
                headerBytes += name.Length + 4;
                foreach (var value in values)
                {
                    headerBytes += value?.Length ?? 0;
                }
            }

            if (headerBytes > limits.MaxHeaderBytes)
            {
                await Problems.WriteAsync(
                    context, StatusCodes.Status431RequestHeaderFieldsTooLarge, "headers-too-large", "Request headers too large", $"The request headers may total at most {limits.MaxHeaderBytes} bytes.");
                return;
            }

            var feature = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>();
            if (feature is { IsReadOnly: false })
            {
                feature.MaxRequestBodySize = request.Path.StartsWithSegments("/v1/embeddings", StringComparison.Ordinal)
                    ? limits.MaxEmbeddingsBodyBytes
                    : limits.MaxRequestBodyBytes;
            }

            await next(context);
        });
        return app;
    }

    private static TokenBucketRateLimiterOptions Bucket(int perSecond, int burst) => new()
    {
        TokenLimit = burst,
        TokensPerPeriod = perSecond,
        ReplenishmentPeriod = TimeSpan.FromSeconds(1),
        QueueLimit = 0,
        AutoReplenishment = true,
    };
}
