using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Primitives;
using Outpost.Identity.Clients;
using Outpost.Identity.Contracts;
using Outpost.Identity.DeviceFlow;
using Outpost.Identity.SigningKeys;
using Outpost.Identity.Logins;
using Outpost.Identity.Tenants;
using Outpost.Identity.Tokens;

namespace Outpost.Identity.Endpoints;

/// <summary>
/// Outpost's authorization server: the token endpoint (client credentials, RFC 8628 device code), device
/// authorization and its approval page, the JWK set and RFC 8414 metadata. All anonymous: clients authenticate to
/// the token endpoint with their own credentials, and people to the approval page with a tenant admin's password.
/// </summary>
public static partial class OAuthEndpoints
{
    public const string TokenPath = "/oauth/token";
    public const string DeviceAuthorizationPath = "/oauth/device_authorization";
    public const string DevicePath = "/oauth/device";
    public const string JwksPath = "/.well-known/jwks.json";
    public const string MetadataPath = "/.well-known/oauth-authorization-server";

    public const string ClientCredentialsGrant = "client_credentials";
    public const string DeviceCodeGrant = "urn:ietf:params:oauth:grant-type:device_code";

    private const string BasicRealm = "Basic realm=\"outpost\", charset=\"UTF-8\"";

    public static IEndpointRouteBuilder MapOAuthApi(this IEndpointRouteBuilder endpoints)
    {
        var oauth = endpoints.MapGroup("").WithTags("OAuth").AllowAnonymous();
        oauth.MapPost(TokenPath, TokenAsync)
            .DisableAntiforgery()
            .WithName("OAuthToken")
            .WithSummary("Issues access tokens: client_credentials and the device code grant (RFC 6749, RFC 8628).");
        oauth.MapPost(DeviceAuthorizationPath, DeviceAuthorizationAsync)
            .DisableAntiforgery()
            .WithName("OAuthDeviceAuthorization")
            .WithSummary("Starts a device sign-in: returns a device code and the user code a tenant admin approves (RFC 8628).");
        oauth.MapGet(DevicePath, DevicePageAsync)
            .WithName("OAuthDevicePage")
            .WithSummary("The page where a tenant admin approves or denies a user code.");
        oauth.MapPost(DevicePath, DeviceDecisionAsync)
            .DisableAntiforgery() // Validated explicitly, so that a failure renders the page rather than a bare 400.
            .WithName("OAuthDeviceDecision")
            .WithSummary("Approves or denies a user code after checking the tenant admin's password.");
        oauth.MapGet(JwksPath, JwksAsync)
            .WithName("Jwks")
            .WithSummary("The public keys that verify Outpost's access tokens.");
        oauth.MapGet(MetadataPath, Metadata)
            .WithName("OAuthMetadata")
            .WithSummary("OAuth 2.0 authorization server metadata (RFC 8414).");
        return endpoints;
    }

    public static async Task<IResult> TokenAsync(
        HttpContext context,
        ClientStore clients,
        DeviceCodeStore deviceCodes,
        TokenIssuer issuer,
        ILoggerFactory loggers,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        NoStore(context.Response);
        var form = await ReadFormAsync(context.Request, cancellationToken);
        if (form is null)
        {
            return Error("invalid_request", "The token endpoint takes a form (application/x-www-form-urlencoded) with single-valued parameters.");
        }

        var grantType = form["grant_type"].ToString();
        if (grantType.Length == 0)
        {
            return Error("invalid_request", "grant_type is required.");
        }

        if (grantType is not (ClientCredentialsGrant or DeviceCodeGrant))
        {
            return Error("unsupported_grant_type", $"Supported grant types: {ClientCredentialsGrant}, {DeviceCodeGrant}.");
        }

        var (client, failure) = await AuthenticateClientAsync(context, form, clients, cancellationToken);
        if (client is null)
        {
            return failure!;
        }

        // From here the request is the client's: audited in its tenant (the approving admin's, once a code is approved).
        OAuthActor.Set(context, client.TenantId, client.ClientId, client.ClientId);

        var logger = loggers.CreateLogger(typeof(OAuthEndpoints).FullName!);
        if (grantType == ClientCredentialsGrant)
        {
            if (client.Kind != ClientKind.Confidential)
            {
                return Error("unauthorized_client", "A public client cannot use client_credentials; use the device code grant.");
            }

            var requested = ScopeList.Parse(form["scope"]);
            var unknownOrExcess = ScopeList.Unknown(requested).Count > 0;
            var granted = unknownOrExcess ? null : ScopeList.Grant(requested, client.AllowedScopes);
            if (granted is null)
            {
                return Error("invalid_scope", "The requested scope exceeds what this client was registered for.");
            }

            var token = await issuer.IssueAsync(new AccessTokenRequest(client.ClientId, client.ClientId, client.TenantId, granted), cancellationToken);
            LogTokenIssued(logger, client.ClientId, client.TenantId, ClientCredentialsGrant, token.Scope, token.TokenId);
            return TokenResult(token);
        }

        var deviceCode = form["device_code"].ToString();
        if (deviceCode.Length == 0)
        {
            return Error("invalid_request", "device_code is required.");
        }

        var poll = await deviceCodes.PollAsync(deviceCode, client.ClientId, cancellationToken);
        switch (poll.Outcome)
        {
            case DevicePollOutcome.AuthorizationPending:
                return Error("authorization_pending", "The user has not approved the code yet.");
            case DevicePollOutcome.SlowDown:
                return Error("slow_down", $"Polled faster than the interval; wait {DeviceCodeStore.SlowDownIncrementSeconds} seconds longer between polls.");
            case DevicePollOutcome.ExpiredToken:
                return Error("expired_token", "The device code has expired; start again.");
            case DevicePollOutcome.AccessDenied:
                return Error("access_denied", "The user denied the request.");
            case DevicePollOutcome.InvalidGrant:
                return Error("invalid_grant", "The device code is unknown, belongs to another client, or was already used.");
        }

        // The client's registration may have narrowed since the code was issued: a token never grants more than it allows.
        var scopes = ScopeList.Grant(poll.Scopes!, client.AllowedScopes);
        if (poll.TenantId is not null && poll.ApprovedBy is not null)
        {
            OAuthActor.Set(context, poll.TenantId, client.ClientId, poll.ApprovedBy);
        }

        if (scopes is null || poll.TenantId is null || poll.ApprovedBy is null)
        {
            return Error("invalid_scope", "The approved scope exceeds what this client is now registered for.");
        }

        var deviceToken = await issuer.IssueAsync(
            new AccessTokenRequest(DeviceSubject(poll.TenantId, poll.ApprovedBy), client.ClientId, poll.TenantId, scopes), cancellationToken);
        LogTokenIssued(logger, client.ClientId, poll.TenantId, DeviceCodeGrant, deviceToken.Scope, deviceToken.TokenId);
        return TokenResult(deviceToken);
    }

    public static async Task<IResult> DeviceAuthorizationAsync(
        HttpContext context,
        ClientStore clients,
        DeviceCodeStore deviceCodes,
        TokenIssuer issuer,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        NoStore(context.Response);
        var form = await ReadFormAsync(context.Request, cancellationToken);
        if (form is null)
        {
            return Error("invalid_request", "The device authorization endpoint takes a form (application/x-www-form-urlencoded) with single-valued parameters.");
        }

        var (client, failure) = await AuthenticateClientAsync(context, form, clients, cancellationToken);
        if (client is null)
        {
            return failure!;
        }

        // From here the request is the client's: audited in its tenant (the approving admin's, once a code is approved).
        OAuthActor.Set(context, client.TenantId, client.ClientId, client.ClientId);

        var requested = ScopeList.Parse(form["scope"]);
        var scopes = ScopeList.Unknown(requested).Count > 0 ? null : ScopeList.Grant(requested, client.AllowedScopes);
        if (scopes is null)
        {
            return Error("invalid_scope", "The requested scope exceeds what this client was registered for.");
        }

        var authorization = await deviceCodes.CreateAsync(client.ClientId, scopes, cancellationToken);
        var verificationUri = issuer.Issuer + DevicePath;
        return TypedResults.Json(new DeviceAuthorizationResponse(
            authorization.DeviceCode,
            authorization.UserCode,
            verificationUri,
            $"{verificationUri}?user_code={Uri.EscapeDataString(authorization.UserCode)}",
            (long)authorization.Lifetime.TotalSeconds,
            authorization.IntervalSeconds));
    }

    public static async Task<IResult> DevicePageAsync(
        HttpContext context,
        IAntiforgery antiforgery,
        DeviceCodeStore deviceCodes,
        ClientStore clients,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var userCode = context.Request.Query["user_code"].ToString();
        var request = userCode.Length == 0 ? null : await deviceCodes.FindByUserCodeAsync(userCode, cancellationToken);
        var clientName = request is null ? null : (await clients.FindAsync(request.ClientId, cancellationToken))?.Name;
        return Page(context, StatusCodes.Status200OK, FormHtml(context, antiforgery, userCode.Length == 0 ? null : userCode, null, null, request, clientName, null));
    }

    public static async Task<IResult> DeviceDecisionAsync(
        HttpContext context,
        IAntiforgery antiforgery,
        DeviceCodeStore deviceCodes,
        ClientStore clients,
        TenantAdminStore admins,
        LoginThrottle throttle,
        TimeProvider timeProvider,
        ILoggerFactory loggers,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(throttle);
        var form = await ReadFormAsync(context.Request, cancellationToken);
        if (form is null)
        {
            return Page(context, StatusCodes.Status400BadRequest, DeviceApprovalPage.Message("Bad request", "The form could not be read."));
        }

        try
        {
            await antiforgery.ValidateRequestAsync(context);
        }
        catch (AntiforgeryValidationException)
        {
            return Page(context, StatusCodes.Status400BadRequest, DeviceApprovalPage.Message(
                "Form expired", "The form expired or was not sent from this page. Open the link from your device again."));
        }

        var userCode = form["user_code"].ToString();
        var tenant = form["tenant"].ToString().Trim();
        var username = form["username"].ToString().Trim();
        var password = form["password"].ToString();
        var decision = form["decision"].ToString();
        if (decision is not ("approve" or "deny"))
        {
            return Page(context, StatusCodes.Status400BadRequest, FormHtml(context, antiforgery, userCode, tenant, username, null, null, "Choose Approve or Deny."));
        }

        var request = await deviceCodes.FindByUserCodeAsync(userCode, cancellationToken);
        if (request is null || request.Status != DeviceCodeStatus.Pending || request.ExpiresAt <= timeProvider.GetUtcNow())
        {
            return Page(context, StatusCodes.Status400BadRequest, FormHtml(
                context, antiforgery, userCode, tenant, username, null, null, "This code is unknown, expired or already used. Check it, or start again on your device."));
        }

        var logger = loggers.CreateLogger(typeof(OAuthEndpoints).FullName!);
        var address = context.Connection.RemoteIpAddress;

        // The cheap checks first: a locked account or address is refused before any password hash is computed.
        if (await throttle.WaitAsync(tenant, username, address, cancellationToken) is { } wait)
        {
            LogApprovalThrottled(logger, tenant);
            var seconds = (int)Math.Ceiling(wait.TotalSeconds);
            context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Page(context, StatusCodes.Status429TooManyRequests, FormHtml(
                context, antiforgery, userCode, tenant, username, null, null,
                $"Too many failed sign-ins for this account or from this address. Try again in {seconds} s; an administrator can clear a locked account."));
        }

        bool verified;
        try
        {
            verified = await admins.VerifyAsync(tenant, username, password, cancellationToken);
        }
        catch (IdentityStoreException ex) when (ex.Error == IdentityError.Busy)
        {
            context.Response.Headers.RetryAfter = "5";
            return Page(context, StatusCodes.Status503ServiceUnavailable, FormHtml(context, antiforgery, userCode, tenant, username, null, null, ex.Message));
        }

        if (!verified)
        {
            LogApprovalLoginFailed(logger, tenant);
            await throttle.RecordFailureAsync(tenant, username, address, cancellationToken);
            return Page(context, StatusCodes.Status403Forbidden, FormHtml(
                context, antiforgery, userCode, tenant, username, null, null, "Wrong tenant, username or password."));
        }

        await throttle.RecordSuccessAsync(tenant, username, cancellationToken);

        // An application registered in the system tenant is shared by every tenant; any other belongs to its own tenant.
        var client = await clients.FindAsync(request.ClientId, cancellationToken);
        if (client is null || client.IsDisabled
            || (client.TenantId != OutpostClaims.SystemTenant && !string.Equals(client.TenantId, tenant, StringComparison.Ordinal)))
        {
            return Page(context, StatusCodes.Status403Forbidden, DeviceApprovalPage.Message(
                "Not allowed", "This application is not registered for your tenant."));
        }

        var approve = decision == "approve";
        OAuthActor.Set(context, tenant, client.ClientId, username);
        if (!await deviceCodes.DecideAsync(userCode, tenant, username, approve, cancellationToken))
        {
            return Page(context, StatusCodes.Status400BadRequest, DeviceApprovalPage.Message(
                "Code expired", "This code expired or was used while you were signing in. Start again on your device."));
        }

        LogDeviceDecision(logger, request.ClientId, tenant, username, approve);
        return Page(context, StatusCodes.Status200OK, approve
            ? DeviceApprovalPage.Message("Device approved", $"{client.Name} is signed in to tenant '{tenant}'. You can return to your device.")
            : DeviceApprovalPage.Message("Device denied", "The request was denied. Nothing was signed in."));
    }

    public static async Task<IResult> JwksAsync(SigningKeyStore keys, HttpContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(context);
        if (keys.RefreshedAt is null)
        {
            await keys.GetSigningKeyAsync(cancellationToken);
        }

        // Short enough that resource servers see a rotation within a minute.
        context.Response.Headers.CacheControl = "public, max-age=60";
        return TypedResults.Text(keys.JsonWebKeySetJson, "application/json", Encoding.UTF8);
    }

    public static IResult Metadata(TokenIssuer issuer)
    {
        ArgumentNullException.ThrowIfNull(issuer);
        return TypedResults.Json(new AuthorizationServerMetadata(
            issuer.Issuer,
            issuer.Issuer + TokenPath,
            issuer.Issuer + DeviceAuthorizationPath,
            issuer.Issuer + JwksPath,
            [ClientCredentialsGrant, DeviceCodeGrant],
            [],
            [.. Scopes.All.Order(StringComparer.Ordinal)],
            ["client_secret_basic", "client_secret_post", "tls_client_auth", "none"]));
    }

    /// <summary>The <c>sub</c> of a token obtained with the device flow: the approving admin, qualified by tenant.</summary>
    public static string DeviceSubject(string tenant, string username) => $"{tenant}:{username}";

    /// <summary>
    /// RFC 6749 §2.3: HTTP Basic or client_id/client_secret in the form, never both; RFC 8705 §2.1: a client
    /// certificate registered to the client; a public client names itself with client_id alone.
    /// </summary>
    private static async Task<(OAuthClient? Client, IResult? Failure)> AuthenticateClientAsync(
        HttpContext context,
        IFormCollection form,
        ClientStore clients,
        CancellationToken cancellationToken)
    {
        var formId = form["client_id"].ToString();
        var formSecret = form["client_secret"].ToString();
        var header = context.Request.Headers.Authorization.ToString();
        var basic = header.Length > 0 && AuthenticationHeaderValue.TryParse(header, out var parsed)
            && string.Equals(parsed.Scheme, "Basic", StringComparison.OrdinalIgnoreCase);
        if (header.Length > 0 && !basic)
        {
            return (null, ClientError("Client authentication must use HTTP Basic.", challenge: true));
        }

        string? id = null;
        string? secret = null;
        if (basic)
        {
            if (formSecret.Length > 0)
            {
                return (null, Error("invalid_request", "Use one client authentication method: HTTP Basic or client_secret, not both."));
            }

            if (!TryReadBasic(header, out id, out secret))
            {
                return (null, ClientError("The Basic credentials are malformed.", challenge: true));
            }

            if (formId.Length > 0 && !string.Equals(formId, id, StringComparison.Ordinal))
            {
                return (null, Error("invalid_request", "client_id in the form differs from the one in the Authorization header."));
            }
        }
        else if (formSecret.Length > 0)
        {
            if (formId.Length == 0)
            {
                return (null, Error("invalid_request", "client_secret needs client_id."));
            }

            (id, secret) = (formId, formSecret);
        }

        if (id is not null && secret is not null)
        {
            var authenticated = await clients.ValidateSecretAsync(id, secret, cancellationToken);
            return authenticated is null
                ? (null, ClientError("Client authentication failed.", challenge: basic))
                : (authenticated, null);
        }

        if (context.Connection.ClientCertificate is { } certificate)
        {
            var thumbprint = Convert.ToHexString(SHA256.HashData(certificate.RawData));
            var byCertificate = await clients.FindByCertificateThumbprintAsync(thumbprint, cancellationToken);
            if (byCertificate is not null && (formId.Length == 0 || string.Equals(formId, byCertificate.ClientId, StringComparison.Ordinal)))
            {
                return (byCertificate, null);
            }

            return (null, ClientError("The client certificate is not registered to this client.", challenge: false));
        }

        if (formId.Length == 0)
        {
            return (null, ClientError("Client authentication is required.", challenge: true));
        }

        var named = await clients.FindAsync(formId, cancellationToken);
        return named is { Kind: ClientKind.Public, IsDisabled: false }
            ? (named, null)
            : (null, ClientError("Client authentication failed.", challenge: false));
    }

    // RFC 6749 §2.3.1: client_id and client_secret are form-urlencoded before they go into the Basic credentials.
    private static bool TryReadBasic(string header, out string? id, out string? secret)
    {
        id = secret = null;
        var encoded = header.AsSpan(header.IndexOf(' ', StringComparison.Ordinal) + 1).Trim();
        var buffer = new byte[(encoded.Length * 3 / 4) + 3];
        if (!Convert.TryFromBase64Chars(encoded, buffer, out var written))
        {
            return false;
        }

        string decoded;
        try
        {
            decoded = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(buffer, 0, written);
        }
        catch (DecoderFallbackException)
        {
            return false;
        }

        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            return false;
        }

        id = Uri.UnescapeDataString(decoded[..colon].Replace('+', ' '));
        secret = Uri.UnescapeDataString(decoded[(colon + 1)..].Replace('+', ' '));
        return secret.Length > 0;
    }

    private static async Task<IFormCollection?> ReadFormAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (!request.HasFormContentType)
        {
            return null;
        }

        IFormCollection form;
        try
        {
            form = await request.ReadFormAsync(cancellationToken);
        }
        catch (InvalidDataException)
        {
            return null;
        }

        // RFC 6749 §3.2: request parameters must not be included more than once.
        return form.Any(field => field.Value.Count > 1) ? null : form;
    }

    private static string FormHtml(
        HttpContext context,
        IAntiforgery antiforgery,
        string? userCode,
        string? tenant,
        string? username,
        DeviceCodeInfo? request,
        string? clientName,
        string? error)
    {
        var tokens = antiforgery.GetAndStoreTokens(context);
        return DeviceApprovalPage.Form(DevicePath, tokens.FormFieldName, tokens.RequestToken ?? "", userCode, tenant, username, request, clientName, error);
    }

    private static ContentHttpResult Page(HttpContext context, int status, string html)
    {
        var headers = context.Response.Headers;
        NoStore(context.Response);
        headers.ContentSecurityPolicy = DeviceApprovalPage.ContentSecurityPolicy;
        headers.XFrameOptions = "DENY";
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        return TypedResults.Content(html, "text/html; charset=utf-8", Encoding.UTF8, status);
    }

    private static JsonHttpResult<TokenResponse> TokenResult(IssuedToken token) =>
        TypedResults.Json(new TokenResponse(token.AccessToken, "Bearer", (long)token.Lifetime.TotalSeconds, token.Scope));

    private static JsonHttpResult<OAuthErrorResponse> Error(string error, string description) =>
        TypedResults.Json(new OAuthErrorResponse(error, description), statusCode: StatusCodes.Status400BadRequest);

    // RFC 6749 §5.2: invalid_client is a 401, with the Basic challenge when the client tried (or should try) Basic.
    private static ChallengeResult ClientError(string description, bool challenge) =>
        new ChallengeResult(challenge ? BasicRealm : null, TypedResults.Json(new OAuthErrorResponse("invalid_client", description), statusCode: StatusCodes.Status401Unauthorized));

    private static void NoStore(HttpResponse response)
    {
        response.Headers.CacheControl = "no-store";
        response.Headers.Pragma = "no-cache";
    }

    private sealed class ChallengeResult(string? challenge, IResult inner) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            if (challenge is not null)
            {
                httpContext.Response.Headers.WWWAuthenticate = new StringValues(challenge);
            }

            return inner.ExecuteAsync(httpContext);
        }
    }
}
