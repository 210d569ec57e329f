using System.Net;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Outpost.Identity;
using Outpost.Silo.Dashboard;
using Outpost.Testing.Cluster;
using Xunit;

namespace Outpost.Silo.Tests.Dashboard;

/// <summary>
/// The Orleans Dashboard answers only a token with the admin scope of tenant system, the admin API's rule: a program
/// sends it as a bearer token, a browser signs in once and carries it in a cookie. Nobody else sees the cluster.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class DashboardSecurityTests(OutpostClusterFixture fixture)
{
    private Uri BaseAddress => new(((WebApplication)fixture.Cluster.Control.Host).Urls.First());

    [Theory]
    [InlineData("/dashboard/")]
    [InlineData("/dashboard/DashboardCounters")]
    public async Task Anonymous_Refused401WithProblem(string path)
    {
        using var http = new HttpClient { BaseAddress = BaseAddress };

        using var response = await http.GetAsync(new Uri(path, UriKind.Relative));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith("Bearer", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("<html", await response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task AnonymousBrowser_SentToTheLoginPage()
    {
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/dashboard/");
        request.Headers.Accept.ParseAdd("text/html");

        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal(DashboardSecurity.LoginPath, response.Headers.Location?.OriginalString);
    }

    [Theory]
    [InlineData("system", "audit:read", HttpStatusCode.Forbidden)] // the operators' tenant, but not the admin scope
    [InlineData("acme", "admin", HttpStatusCode.Forbidden)] // a tenant's admin sees its tenant, not the cluster
    [InlineData("system", "admin", HttpStatusCode.OK)]
    public async Task BearerToken_OnlySystemAdminsSeeTheDashboard(string tenant, string scope, HttpStatusCode expected)
    {
        using var http = new HttpClient { BaseAddress = BaseAddress };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", fixture.Cluster.IssueDevelopmentToken(tenant, [scope]));

        using var response = await http.GetAsync(new Uri("/dashboard/", UriKind.Relative));

        Assert.Equal(expected, response.StatusCode);
        if (expected == HttpStatusCode.OK)
        {
            Assert.Contains("<html", await response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public async Task BrowserLogin_ValidAdminToken_CookieOpensTheDashboard()
    {
        var cookies = new CookieContainer();
        using var http = new HttpClient(new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false }) { BaseAddress = BaseAddress };
        var token = fixture.Cluster.IssueDevelopmentToken(OutpostClaims.SystemTenant, [Scopes.Admin]);

        using var login = await http.PostAsync(new Uri(DashboardSecurity.LoginPath, UriKind.Relative), new FormUrlEncodedContent([new("token", token)]));
        using var dashboard = await http.GetAsync(new Uri("/dashboard/", UriKind.Relative));

        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        var cookie = login.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith(DashboardSecurity.CookieName + "=", StringComparison.Ordinal));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("path=/dashboard", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(HttpStatusCode.OK, dashboard.StatusCode);
    }

    [Theory]
    [InlineData("", HttpStatusCode.BadRequest, "Paste an access token")]
    [InlineData("not-a-token", HttpStatusCode.BadRequest, "malformed")]
    [InlineData("tenant-admin", HttpStatusCode.Forbidden, "admin scope of tenant system")]
    public async Task BrowserLogin_BadToken_FormAgainWithTheReasonAndNoCookie(string token, HttpStatusCode expected, string reason)
    {
        using var http = new HttpClient(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = BaseAddress };
        var sent = token == "tenant-admin" ? fixture.Cluster.IssueDevelopmentToken("acme", [Scopes.Admin]) : token;

        using var login = await http.PostAsync(new Uri(DashboardSecurity.LoginPath, UriKind.Relative), new FormUrlEncodedContent([new("token", sent)]));

        Assert.Equal(expected, login.StatusCode);
        Assert.Contains(reason, await login.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False(login.Headers.Contains("Set-Cookie"));
    }
}
