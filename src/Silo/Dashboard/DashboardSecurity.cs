using System.Net;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Orleans.Dashboard;
using Outpost.Identity;
using Outpost.Identity.Tokens;

namespace Outpost.Silo.Dashboard;

/// <summary>
/// The Orleans Dashboard behind the admin API's authentication: a bearer token with the <c>admin</c> scope of tenant
/// <c>system</c>, verified exactly as the gateway verifies it. Programs send it as <c>Authorization: Bearer</c>; a
/// browser pastes it once into <see cref="LoginPath"/>, which keeps it in an HttpOnly, SameSite=Strict cookie for the
/// dashboard's path until the token expires. Anyone else gets 401 (a browser is sent to the login page), or 403 for a
/// token without the rights.
/// </summary>
public static class DashboardSecurity
{
    public const string Path = "/dashboard";
    public const string LoginPath = "/dashboard-login";
    public const string CookieName = "outpost-dashboard";
    public const string Policy = "dashboard";

    public static WebApplicationBuilder AddDashboardSecurity(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddOutpostTokenValidation(events =>
        {
            events.OnMessageReceived = context =>
            {
                if (context.Token is null
                    && string.IsNullOrEmpty(context.Request.Headers.Authorization)
                    && context.Request.Cookies.TryGetValue(CookieName, out var token) && token.Length > 0)
                {
                    context.Token = token;
                }

                return Task.CompletedTask;
            };
            events.OnChallenge = async context =>
            {
                context.HandleResponse();
                var http = context.HttpContext;
                if (WantsPage(http.Request))
                {
                    http.Response.Redirect(LoginPath);
                    return;
                }

                var detail = context.AuthenticateFailure is { } failure
                    ? TokenValidationExtensions.Describe(failure)
                    : "The dashboard needs a bearer access token with the admin scope of tenant system.";
                http.Response.Headers.WWWAuthenticate = "Bearer realm=\"outpost\"";
                await Results.Problem(
                    detail, statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized", type: "https://outpost.dev/problems/unauthorized")
                    .ExecuteAsync(http);
            };
            events.OnForbidden = async context =>
            {
                await Results.Problem(
                    "The dashboard is for tokens with the admin scope of tenant system.", statusCode: StatusCodes.Status403Forbidden,
                    title: "Forbidden", type: "https://outpost.dev/problems/forbidden")
                    .ExecuteAsync(context.HttpContext);
            };
        });
        builder.Services.AddAuthorization(o => o.AddPolicy(Policy, policy => policy
            .AddAuthenticationSchemes(JwtBearerDefaults.AuthenticationScheme)
            .RequireAuthenticatedUser()
            .RequireClaim(OutpostClaims.Tenant, OutpostClaims.SystemTenant)
            .AddRequirements(new ScopeRequirement(Scopes.Admin))));
        return builder;
    }

    /// <summary>The dashboard, behind <see cref="Policy"/>, and its login page.</summary>
    public static WebApplication MapSecuredDashboard(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapOrleansDashboard(routePrefix: Path).RequireAuthorization(Policy);
        app.MapGet(LoginPath, () => Page(null, HttpStatusCode.OK)).AllowAnonymous();
        app.MapPost(LoginPath, LoginAsync).AllowAnonymous().DisableAntiforgery();
        return app;
    }

    private static async Task<IResult> LoginAsync(HttpContext context, IOptionsMonitor<JwtBearerOptions> bearer)
    {
        var form = context.Request.HasFormContentType ? await context.Request.ReadFormAsync(context.RequestAborted) : null;
        var token = form?["token"].ToString().Trim();
        if (string.IsNullOrEmpty(token))
        {
            return Page("Paste an access token.", HttpStatusCode.BadRequest);
        }

        var options = bearer.Get(JwtBearerDefaults.AuthenticationScheme);
        var result = await new JsonWebTokenHandler { MapInboundClaims = false }.ValidateTokenAsync(token, options.TokenValidationParameters);
        if (!result.IsValid)
        {
            return Page(TokenValidationExtensions.Describe(result.Exception), HttpStatusCode.BadRequest);
        }

        var user = new System.Security.Claims.ClaimsPrincipal(result.ClaimsIdentity);
        if (user.FindFirst(OutpostClaims.Tenant)?.Value != OutpostClaims.SystemTenant || !ScopeRequirement.Holds(user, Scopes.Admin))
        {
            return Page("This token does not carry the admin scope of tenant system.", HttpStatusCode.Forbidden);
        }

        var expires = result.SecurityToken is JsonWebToken jwt ? new DateTimeOffset(jwt.ValidTo, TimeSpan.Zero) : (DateTimeOffset?)null;
        context.Response.Cookies.Append(CookieName, token, new CookieOptions
        {
            HttpOnly = true,
            Secure = context.Request.IsHttps,
            SameSite = SameSiteMode.Strict,
            Path = Path,
            Expires = expires,
        });
        return Results.Redirect(Path, permanent: false);
    }

    private static bool WantsPage(HttpRequest request) =>
        HttpMethods.IsGet(request.Method)
        && request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase);

    private static IResult Page(string? error, HttpStatusCode status)
    {
        var message = error is null ? "" : $"<p role=\"alert\" style=\"color:#b00\">{HtmlEncoder.Default.Encode(error)}</p>";
        var html = $$"""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>Outpost dashboard: sign in</title>
            <meta name="viewport" content="width=device-width, initial-scale=1"></head>
            <body style="font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto">
            <h1>Outpost dashboard</h1>
            <p>Paste an access token with the <code>admin</code> scope of tenant <code>system</code>
            (<code>./run.sh</code> writes one to <code>.data/dev-admin.token</code>).</p>
            {{message}}
            <form method="post" action="{{LoginPath}}">
            <label for="token">Access token</label><br>
            <textarea id="token" name="token" rows="6" cols="60" required autocomplete="off"></textarea><br>
            <button type="submit">Open the dashboard</button>
            </form></body></html>
            """;
        return Results.Content(html, "text/html; charset=utf-8", statusCode: (int)status);
    }
}
