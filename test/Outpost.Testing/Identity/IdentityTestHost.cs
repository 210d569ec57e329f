using Outpost.Identity.Endpoints;
using System.Net;
using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using Outpost.Gateway.Endpoints;
using Outpost.Gateway.Errors;
using Outpost.Identity;
using Outpost.Testing.Cluster;

namespace Outpost.Testing.Identity;

/// <summary>
/// A minimal gateway on loopback Kestrel with the identity services (<see cref="IdentityExtensions.AddOutpostIdentity"/>),
/// the OAuth endpoints and the admin API. The admin API's caller is whoever the <see cref="TenantHeader"/> names: the
/// resource-server side that reads real tokens is tested elsewhere.
/// </summary>
public sealed class IdentityTestHost : IAsyncDisposable
{
    public const string TenantHeader = "X-Test-Tenant";

    private readonly WebApplication _app;

    private IdentityTestHost(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public string Issuer => BaseAddress.GetLeftPart(UriPartial.Authority);

    public IServiceProvider Services => _app.Services;

    public static async Task<IdentityTestHost> StartAsync(IdentityDatabase database, IDictionary<string, string?>? settings = null)
    {
        ArgumentNullException.ThrowIfNull(database);
        var port = FreePorts.Next();
        var baseAddress = new Uri($"http://127.0.0.1:{port}");
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Security:Issuer"] = baseAddress.GetLeftPart(UriPartial.Authority),
            ["Security:Audience"] = "outpost",
            ["Security:MasterKeyFile"] = database.Security.MasterKeyFile,
            ["Security:CreateMasterKeyFile"] = "true",
        });
        if (settings is not null)
        {
            builder.Configuration.AddInMemoryCollection(settings);
        }

        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port));
        builder.Services.AddSingleton(NpgsqlDataSource.Create(database.ConnectionString));
        builder.Services.AddSingleton<TimeProvider>(database.Time);
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower);
        builder.AddOutpostIdentity();

        var app = builder.Build();
        app.Use(WriteProblemsAsync);
        app.Use(async (context, next) =>
        {
            if (context.Request.Headers[TenantHeader].ToString() is { Length: > 0 } tenant)
            {
                context.User = new ClaimsPrincipal(new ClaimsIdentity([new Claim(OutpostClaims.Tenant, tenant)], "test"));
            }

            await next(context);
        });
        app.MapOAuthApi();
        app.MapAdminApi();
        await app.StartAsync();
        return new IdentityTestHost(app, baseAddress);
    }

    /// <summary>A client that keeps cookies (the approval page's antiforgery cookie) and follows no redirects.</summary>
    public HttpClient CreateClient(string? tenant = null)
    {
        var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = BaseAddress };
        if (tenant is not null)
        {
            client.DefaultRequestHeaders.Add(TenantHeader, tenant);
        }

        return client;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    // The gateway's exception handler does the same for ProblemException; this host carries only the identity parts.
    private static async Task WriteProblemsAsync(HttpContext context, RequestDelegate next)
    {
        try
        {
            await next(context);
        }
        catch (ProblemException ex)
        {
            context.Response.StatusCode = ex.Status;
            await context.Response.WriteAsJsonAsync(
                new { type = Problems.TypeBase + ex.Type, title = ex.Title, status = ex.Status, detail = ex.Message },
                (JsonSerializerOptions?)null,
                "application/problem+json");
        }
    }
}
