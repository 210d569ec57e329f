using System.Diagnostics.Metrics;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Outpost.Identity.Clients;
using Outpost.Identity.Logins;
using Outpost.Testing.Identity;
using Outpost.Testing.PostgreSql;
using Xunit;

namespace Outpost.Identity.Tests.Endpoints;

/// <summary>Password guesses at the device approval page: slowed, then locked out, without computing the hash.</summary>
[Collection(IdentityCollection.Name)]
public sealed partial class LoginThrottleTests(PostgreSqlFixture fixture) : IAsyncLifetime
{
    private const string Password = "correct horse battery";

    private IdentityDatabase _database = null!;
    private IdentityTestHost _host = null!;
    private HttpClient _http = null!;
    private CreatedClient _desktop = null!;

    public async Task InitializeAsync()
    {
        _database = await IdentityDatabase.CreateAsync(fixture);
        await _database.Tenants().CreateAsync("acme", "Acme");
        await _database.Admins().CreateAsync("acme", "alice", Password);
        _desktop = await _database.Clients().CreateAsync("acme", "Cowork", ClientKind.Public, [Scopes.EmbedCreate]);
        _host = await IdentityTestHost.StartAsync(_database);
        _http = _host.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _host.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task WrongPasswords_AreSlowedThenLockedOut_WithoutHashing_AndAnAdminClearsTheAccount()
    {
        var userCode = await UserCodeAsync();
        using var hashes = new HashCounter();

        // Three free failures, then each further one locks the account (and the address) for longer.
        for (var i = 0; i < LoginThrottle.FreeFailures + 1; i++)
        {
            Assert.Equal(HttpStatusCode.Forbidden, (await ApproveAsync(userCode, "wrong password " + i)).Status);
        }

        Assert.Equal(LoginThrottle.FreeFailures + 1, hashes.Count);
        var locked = await ApproveAsync(userCode, "wrong again");
        var lockedRight = await ApproveAsync(userCode, Password);

        Assert.Equal(HttpStatusCode.TooManyRequests, locked.Status);
        Assert.NotNull(locked.RetryAfter);
        Assert.Contains("Too many failed sign-ins", locked.Html, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.TooManyRequests, lockedRight.Status);
        Assert.Equal(LoginThrottle.FreeFailures + 1, hashes.Count);

        // Up to the lockout: every failure is hashed once, and nothing while locked.
        for (var failures = LoginThrottle.FreeFailures + 1; failures < LoginThrottle.LockoutFailures; failures++)
        {
            _database.Time.Advance(LoginThrottle.MaxBackoff);
            userCode = await UserCodeAsync(); // the clock moved past the last code's expiry
            Assert.Equal(HttpStatusCode.Forbidden, (await ApproveAsync(userCode, "still wrong")).Status);
        }

        _database.Time.Advance(LoginThrottle.AddressLockout + TimeSpan.FromSeconds(1));
        userCode = await UserCodeAsync();
        var lockedOut = await ApproveAsync(userCode, Password);
        Assert.Equal(HttpStatusCode.TooManyRequests, lockedOut.Status);
        Assert.InRange(lockedOut.RetryAfter!.Value, 60, (int)LoginThrottle.AccountLockout.TotalSeconds);
        Assert.Equal(LoginThrottle.LockoutFailures, hashes.Count);

        Assert.True(await _host.Services.GetRequiredService<LoginThrottle>().ClearAsync("acme", "alice"));
        var approved = await ApproveAsync(userCode, Password);
        Assert.True(approved.Status == HttpStatusCode.OK, approved.Html);
        Assert.Contains("Device approved", approved.Html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownAccount_IsThrottledLikeAKnownOne()
    {
        var userCode = await UserCodeAsync();
        for (var i = 0; i < LoginThrottle.FreeFailures + 1; i++)
        {
            Assert.Equal(HttpStatusCode.Forbidden, (await ApproveAsync(userCode, "guess", username: "mallory")).Status);
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, (await ApproveAsync(userCode, "guess", username: "mallory")).Status);
    }

    private async Task<string> UserCodeAsync()
    {
        using var response = await _http.PostAsync("/oauth/device_authorization", new FormUrlEncodedContent(new Dictionary<string, string> { ["client_id"] = _desktop.Client.ClientId }));
        using var body = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return body.RootElement.GetProperty("user_code").GetString()!;
    }

    private async Task<(HttpStatusCode Status, string Html, int? RetryAfter)> ApproveAsync(string userCode, string password, string username = "alice")
    {
        var page = await _http.GetStringAsync($"/oauth/device?user_code={Uri.EscapeDataString(userCode)}");
        var token = AntiforgeryField().Match(page);
        Assert.True(token.Success, "the page carries an antiforgery token");
        using var response = await _http.PostAsync("/oauth/device", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            [token.Groups[1].Value] = WebUtility.HtmlDecode(token.Groups[2].Value),
            ["user_code"] = userCode,
            ["tenant"] = "acme",
            ["username"] = username,
            ["password"] = password,
            ["decision"] = "approve",
        }));
        var retryAfter = response.Headers.RetryAfter?.Delta is { } delta ? (int)delta.TotalSeconds : (int?)null;
        return (response.StatusCode, await response.Content.ReadAsStringAsync(), retryAfter);
    }

    [GeneratedRegex("<input type=\"hidden\" name=\"([^\"]+)\" value=\"([^\"]+)\">")]
    private static partial Regex AntiforgeryField();

    /// <summary>Counts the password hashes computed while it lives (the store's <c>outpost.identity.password_verifications</c>).</summary>
    private sealed class HashCounter : IDisposable
    {
        private readonly MeterListener _listener = new();
        private long _count;

        public HashCounter()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == "Outpost.Identity" && instrument.Name == "outpost.identity.password_verifications")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref _count, value));
            _listener.Start();
        }

        public long Count => Interlocked.Read(ref _count);

        public void Dispose() => _listener.Dispose();
    }
}
