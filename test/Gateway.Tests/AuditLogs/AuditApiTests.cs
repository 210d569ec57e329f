using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Npgsql;
using Outpost.Grains.TenantQuotas;
using Outpost.Identity;
using Outpost.Testing.AuditLogs;
using Outpost.Testing.Cluster;
using Outpost.Testing.PostgreSql;
using Xunit;

namespace Outpost.Gateway.Tests.AuditLogs;

/// <summary>Every request through the gateway leaves one audit event, and the audit API proves it.</summary>
public sealed class AuditApiTests(PostgreSqlFixture postgres) : IClassFixture<PostgreSqlFixture>, IAsyncLifetime
{
    private const string Model = "all-MiniLM-L6-v2";
    private const long Price = 1_000;
    private OutpostCluster? _cluster;

    private OutpostCluster Cluster => _cluster!;

    public async Task InitializeAsync()
    {
        _cluster = await OutpostCluster.StartAsync(postgres.Server, new OutpostClusterSettings
        {
            EdgeDevices = ["dev-pi-1"],
            GatewayConfiguration = new Dictionary<string, string?>
            {
                ["Pricing:EdgeRequestMicros"] = Price.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Limits:RequestsPerSecond"] = "1",
                ["Limits:Burst"] = "30",
            },
        });
        await using var data = NpgsqlDataSource.Create(_cluster.ConnectionString);
        await using var command = data.CreateCommand(
            "INSERT INTO outpost_tenants (tenant_id, display_name) VALUES ('acme', 'Acme'), ('globex', 'Globex'), ('broke', 'Broke'), ('bodies', 'Bodies') ON CONFLICT DO NOTHING");
        await command.ExecuteNonQueryAsync();
        foreach (var tenant in new[] { "acme", "globex", "bodies" })
        {
            await _cluster.Client.GetGrain<ITenantQuotaGrain>(tenant).SetLimitsAsync(new TenantLimits(1_000_000_000, BudgetPeriod.Monthly, 0, 0));
        }

        await _cluster.Client.GetGrain<ITenantQuotaGrain>("broke").SetLimitsAsync(new TenantLimits(0, BudgetPeriod.Monthly, 0, 0, EdgeContinuesOverBudget: false));
    }

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }

    [Fact]
    public async Task Embeddings_Allowed_EventIsDurableBeforeTheResponse_AndRecordsWhoWhatWhereAndDigests()
    {
        using var client = Client("acme", "embed-client", Scopes.EmbedCreate);
        var body = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { model = Model, input = "audit me " + Guid.NewGuid() }));

        using var response = await client.PostAsync("/v1/embeddings", new ByteArrayContent(body) { Headers = { ContentType = new("application/json") } });
        var responseBody = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var requestId = RequestId(response);
        var row = await ReadRowAsync(requestId);
        Assert.NotNull(row);
        Assert.Equal("acme", row["tenant_id"]);
        Assert.Equal("allowed", row["decision"]);
        Assert.Equal("scope:embed:create", row["rule"]);
        Assert.Equal("POST /v1/embeddings", row["action"]);
        Assert.Equal("embed:create", row["scopes"]);
        Assert.Equal("embed-client", row["client_id"]);
        Assert.Equal("127.0.0.1", row["source_address"]);
        Assert.Equal("edge:dev-pi-1", row["target"]);
        Assert.Equal("dev-pi-1", row["device"]);
        Assert.Equal(Cluster.Edge("dev-pi-1").Address.ToString(), row["silo"]);
        Assert.Equal(Model, row["model"]);
        Assert.Equal(Price, row["cost_micros"]);
        Assert.Equal(200, row["status"]);
        Assert.Equal("ok", row["outcome"]);
        Assert.Equal(SHA256.HashData(body), row["request_sha256"]);
        Assert.Equal(SHA256.HashData(responseBody), row["response_sha256"]);
        Assert.Equal(DBNull.Value, row["request_body"]);
    }

    [Fact]
    public async Task Denials_AreAuditedWithTheirRule()
    {
        using var anonymous = Cluster.CreateHttpClient(token: null);
        using var unauthenticated = await anonymous.GetAsync("/v1/spend");
        using var wrongScope = Client("acme", "no-embed", Scopes.SpendRead);
        using var forbidden = await wrongScope.PostAsJsonAsync("/v1/embeddings", new { model = Model, input = "x" });
        using var broke = Client("broke", "broke-client", Scopes.EmbedCreate);
        using var unpaid = await broke.PostAsJsonAsync("/v1/embeddings", new { model = Model, input = "y" });
        using var hasty = Client("acme", "hasty", Scopes.SpendRead);
        HttpResponseMessage? limited = null;
        for (var i = 0; i < 100 && limited is null; i++)
        {
            var attempt = await hasty.GetAsync("/v1/spend");
            if (attempt.StatusCode == HttpStatusCode.TooManyRequests)
            {
                limited = attempt;
            }
            else
            {
                attempt.Dispose();
            }
        }

        using var rateLimited = Assert.IsType<HttpResponseMessage>(limited);
        Assert.Equal(
            [HttpStatusCode.Unauthorized, HttpStatusCode.Forbidden, HttpStatusCode.PaymentRequired],
            [unauthenticated.StatusCode, forbidden.StatusCode, unpaid.StatusCode]);
        await AssertDeniedAsync(unauthenticated, "_unauthenticated", "unauthenticated", "");
        await AssertDeniedAsync(forbidden, "acme", "insufficient_scope", "embed:create");
        await AssertDeniedAsync(unpaid, "broke", "budget-exhausted", "budget");
        await AssertDeniedAsync(rateLimited, "acme", "rate_limited", "rate limit");
    }

    [Fact]
    public async Task UnidentifiedCallersLog_ReadBySystemAdministratorsOnly()
    {
        using var anonymous = Cluster.CreateHttpClient(token: null);
        using var refused = await anonymous.GetAsync("/v1/devices");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        var requestId = RequestId(refused);
        using var admin = Client("system", "audit-reader", Scopes.Admin);

        var page = await admin.GetFromJsonAsync<JsonElement>($"/v1/admin/tenants/_unauthenticated/audit/events?request_id={requestId}");

        var found = Assert.Single(page.GetProperty("data").EnumerateArray());
        Assert.Equal(("denied", "unauthenticated", 401), (found.GetProperty("decision").GetString(), found.GetProperty("rule").GetString(), found.GetProperty("status").GetInt32()));

        // A tenant's own administrator reads that tenant's log here too, but neither the unidentified callers' nor another's.
        using var acmeAdmin = Client("acme", "acme-admin", Scopes.Admin);
        using var own = await acmeAdmin.GetAsync("/v1/admin/tenants/acme/audit/events?limit=1");
        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        using var unidentified = await acmeAdmin.GetAsync("/v1/admin/tenants/_unauthenticated/audit/events");
        Assert.Equal(HttpStatusCode.Forbidden, unidentified.StatusCode);
        using var other = await acmeAdmin.GetAsync("/v1/admin/tenants/broke/audit/events");
        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
    }

    [Fact]
    public async Task InclusionAndConsistencyProofs_VerifyOfflineAgainstSignedCheckpoints()
    {
        using var caller = Client("globex", "proof-client", Scopes.SpendRead, Scopes.AuditRead);
        var ids = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            using var response = await caller.GetAsync("/v1/spend");
            ids.Add(RequestId(response));
        }

        var first = await caller.PostAsync("/v1/audit/checkpoints", null);
        var early = await first.Content.ReadFromJsonAsync<JsonElement>();
        for (var i = 0; i < 5; i++)
        {
            using var response = await caller.GetAsync("/v1/spend");
            ids.Add(RequestId(response));
        }

        var key = (await caller.GetFromJsonAsync<JsonElement>("/v1/audit/keys")).GetProperty("data")[0];
        using var publicKey = ECDsa.Create();
        publicKey.ImportSubjectPublicKeyInfo(Convert.FromBase64String(key.GetProperty("public_key").GetString()!), out _);

        var proof = await caller.GetFromJsonAsync<JsonElement>($"/v1/audit/proofs/inclusion?request_id={ids[8]}");
        var leaf = Convert.FromBase64String(proof.GetProperty("leaf").GetString()!);
        var leafHash = SHA256.HashData([0x00, .. leaf]);
        Assert.Equal(ids[8], JsonDocument.Parse(leaf).RootElement.GetProperty("request_id").GetString());
        Assert.Equal(Convert.ToBase64String(leafHash), proof.GetProperty("leaf_hash").GetString());
        var checkpoint = proof.GetProperty("checkpoint");
        var root = Convert.FromBase64String(checkpoint.GetProperty("root_hash").GetString()!);
        var size = checkpoint.GetProperty("tree_size").GetInt64();
        var path = proof.GetProperty("audit_path").EnumerateArray().Select(p => Convert.FromBase64String(p.GetString()!)).ToList();
        Assert.True(Rfc9162Verifier.VerifyInclusion(leafHash, proof.GetProperty("leaf_index").GetInt64(), size, path, root));
        Assert.False(Rfc9162Verifier.VerifyInclusion(SHA256.HashData([0x00, .. leaf, 0x20]), proof.GetProperty("leaf_index").GetInt64(), size, path, root));
        Assert.True(VerifySignature(publicKey, checkpoint));
        var signedText = checkpoint.GetProperty("signed_text").GetString()!;
        Assert.Equal($"outpost.audit.checkpoint/v1\nglobex\n{size}\n{Convert.ToBase64String(root)}\n", signedText[..signedText.LastIndexOf('\n', signedText.Length - 2)] + "\n");

        var earlySize = early.GetProperty("tree_size").GetInt64();
        using var consistencyResponse = await caller.GetAsync($"/v1/audit/proofs/consistency?from={earlySize}&to={size}");
        var consistency = await consistencyResponse.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(consistencyResponse.IsSuccessStatusCode, consistency.ToString());
        var consistencyPath = consistency.GetProperty("proof").EnumerateArray().Select(p => Convert.FromBase64String(p.GetString()!)).ToList();
        var earlyRoot = Convert.FromBase64String(early.GetProperty("root_hash").GetString()!);
        Assert.True(VerifySignature(publicKey, early));
        Assert.True(Rfc9162Verifier.VerifyConsistency(earlySize, size, earlyRoot, root, consistencyPath));
        Assert.False(Rfc9162Verifier.VerifyConsistency(earlySize, size, SHA256.HashData(earlyRoot), root, consistencyPath));

        var verification = await caller.GetFromJsonAsync<JsonElement>("/v1/audit/verify");
        Assert.True(verification.GetProperty("valid").GetBoolean(), verification.ToString());
        Assert.True(verification.GetProperty("events_checked").GetInt64() >= 11);
    }

    [Fact]
    public async Task Events_FilteredPagedAndExported_AndInvisibleToOtherTenants()
    {
        using var caller = Client("acme", "pager", Scopes.SpendRead, Scopes.AuditRead);
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            using var response = await caller.GetAsync("/v1/spend");
            ids.Add(RequestId(response));
        }

        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var page = await caller.GetFromJsonAsync<JsonElement>(
                "/v1/audit/events?client_id=pager&action=GET%20/v1/spend&limit=2" + (cursor is null ? "" : "&cursor=" + cursor));
            seen.AddRange(page.GetProperty("data").EnumerateArray().Select(e => e.GetProperty("request_id").GetString()!));
            cursor = page.GetProperty("next_cursor").GetString();
        }
        while (cursor is not null);

        Assert.Equal(ids, seen);
        using var export = await caller.GetAsync("/v1/audit/export?client_id=pager");
        Assert.Equal("application/x-ndjson", export.Content.Headers.ContentType?.MediaType);
        var lines = (await export.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(ids, lines.Select(line => JsonDocument.Parse(line).RootElement.GetProperty("request_id").GetString()).Take(5));

        using var other = Client("globex", "snoop", Scopes.AuditRead);
        using var snooped = await other.GetAsync($"/v1/audit/events/{ids[0]}");
        Assert.Equal(HttpStatusCode.NotFound, snooped.StatusCode);
        Assert.Equal("application/problem+json", snooped.Content.Headers.ContentType?.MediaType);
        using var own = await caller.GetAsync($"/v1/audit/events/{ids[0]}");
        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
    }

    [Theory]
    [InlineData("/v1/audit/events?limit=0", "limit")]
    [InlineData("/v1/audit/events?cursor=not-a-cursor", "cursor")]
    [InlineData("/v1/audit/events?from=yesterday", "from")]
    [InlineData("/v1/audit/proofs/consistency?from=5&to=2", "size must be")]
    [InlineData("/v1/audit/proofs/inclusion", "request_id")]
    public async Task AuditApi_BadInput_Returns400NamingTheProblem(string url, string named)
    {
        using var caller = Client("acme", "bad-input", Scopes.AuditRead);
        using var response = await caller.GetAsync(url);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains(named, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task StoreBodies_TenantSetting_KeepsBodiesThatMatchTheirDigests()
    {
        using var admin = Client("system", "admin", Scopes.Admin);
        using var set = await admin.PutAsJsonAsync("/v1/admin/tenants/bodies/audit", new { retention_days = 30, store_bodies = true });
        Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        using var caller = Client("bodies", "body-client", Scopes.EmbedCreate, Scopes.AuditRead);
        var body = JsonSerializer.Serialize(new { model = Model, input = "keep this body" });

        using var response = await caller.PostAsync("/v1/embeddings", new StringContent(body, Encoding.UTF8, "application/json"));
        var responseBody = await response.Content.ReadAsByteArrayAsync();

        var audit = await caller.GetFromJsonAsync<JsonElement>($"/v1/audit/events/{RequestId(response)}");
        Assert.Equal(body, Encoding.UTF8.GetString(Convert.FromBase64String(audit.GetProperty("request_body").GetString()!)));
        Assert.Equal(responseBody, Convert.FromBase64String(audit.GetProperty("response_body").GetString()!));
        var settings = await admin.GetFromJsonAsync<JsonElement>("/v1/admin/tenants/bodies/audit");
        Assert.Equal(30, settings.GetProperty("retention_days").GetInt32());

        // The log of unidentified callers has a retention too, which only system administrators set.
        using var anonymous = await admin.PutAsJsonAsync("/v1/admin/tenants/_unauthenticated/audit", new { retention_days = 7 });
        Assert.Equal(HttpStatusCode.OK, anonymous.StatusCode);
        using var notAdmin = Client("bodies", "body-admin", Scopes.Admin);
        using var refused = await notAdmin.GetAsync("/v1/admin/tenants/_unauthenticated/audit");
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);

        // Even where bodies are stored, admin bodies are not: this one's response holds a new client's secret.
        using var systemBodies = await admin.PutAsJsonAsync("/v1/admin/tenants/system/audit", new { store_bodies = true });
        Assert.Equal(HttpStatusCode.OK, systemBodies.StatusCode);
        using var created = await admin.PostAsJsonAsync("/v1/admin/tenants/bodies/clients", new { name = "secretive", kind = "confidential", allowed_scopes = new[] { Scopes.SpendRead } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Contains("secret", await created.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var row = await ReadRowAsync(RequestId(created));
        Assert.NotNull(row);
        Assert.Equal(("system", DBNull.Value, DBNull.Value), ((string)row["tenant_id"], row["request_body"], row["response_body"]));
    }

    [Fact]
    public async Task AdminCli_AuditVerify_ChecksTheLogFromTheDatabase()
    {
        using var caller = Client("acme", "cli-client", Scopes.SpendRead, Scopes.AuditRead);
        using (await caller.GetAsync("/v1/spend"))
        {
        }

        using (await caller.PostAsync("/v1/audit/checkpoints", null))
        {
        }

        var (exitCode, output) = await RunCliAsync("audit", "verify", "acme");

        Assert.True(exitCode == 0, output);
        Assert.Contains("valid: latest checkpoint at size", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AuditKeyRotation_OverHttpAndCli_NewKeySignsNextCheckpointAndIsPublished()
    {
        using var system = Client("system", "key-rotator", Scopes.Admin);
        using var tenantAdmin = Client("acme", "acme-key-admin", Scopes.Admin);
        using var reader = Client("acme", "key-reader", Scopes.SpendRead, Scopes.AuditRead);

        using var refused = await tenantAdmin.PostAsync("/v1/admin/audit/keys/rotate", null);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        using var rotated = await system.PostAsync("/v1/admin/audit/keys/rotate", null);
        Assert.Equal(HttpStatusCode.OK, rotated.StatusCode);
        var overHttp = (await rotated.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key_id").GetString()!;
        Assert.Equal(overHttp, await SigningKeyAsync(reader));
        Assert.Equal(overHttp, await CheckpointKeyAsync(reader));

        var (exitCode, output) = await RunCliAsync("audit", "keys", "rotate");

        Assert.True(exitCode == 0, output);
        var byCli = System.Text.RegularExpressions.Regex.Match(output, "signing audit key: ([0-9a-f]{16})").Groups[1].Value;
        Assert.NotEqual(overHttp, byCli);
        Assert.Equal(byCli, await SigningKeyAsync(reader));
        Assert.Equal(byCli, await CheckpointKeyAsync(reader));
        var verified = await reader.GetFromJsonAsync<JsonElement>("/v1/audit/verify");
        Assert.True(verified.GetProperty("valid").GetBoolean(), verified.ToString());
    }

    // The admin CLI against this cluster's database, as its owner would run it.
    private async Task<(int ExitCode, string Output)> RunCliAsync(params string[] command)
    {
        var output = new StringWriter();
        var exitCode = await Outpost.Admin.AdminCli.RunAsync(
            [.. command, $"--ConnectionStrings:Outpost={Cluster.ConnectionString}", $"--Security:MasterKeyFile={Cluster.MasterKeyFile}"],
            new StringReader(""),
            output,
            new StringWriter());
        return (exitCode, output.ToString());
    }

    private static async Task<string> SigningKeyAsync(HttpClient reader)
    {
        var keys = await reader.GetFromJsonAsync<JsonElement>("/v1/audit/keys");
        return Assert.Single(keys.GetProperty("data").EnumerateArray(), key => key.GetProperty("signing").GetBoolean()).GetProperty("key_id").GetString()!;
    }

    // Grows the log by one request, then has it signed: the checkpoint names the key that signed it.
    private static async Task<string> CheckpointKeyAsync(HttpClient reader)
    {
        using (await reader.GetAsync("/v1/spend"))
        {
        }

        using var signed = await reader.PostAsync("/v1/audit/checkpoints", null);
        signed.EnsureSuccessStatusCode();
        return (await signed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key_id").GetString()!;
    }

    private static bool VerifySignature(ECDsa key, JsonElement checkpoint) => key.VerifyData(
        Encoding.UTF8.GetBytes(checkpoint.GetProperty("signed_text").GetString()!),
        Convert.FromBase64String(checkpoint.GetProperty("signature").GetString()!),
        HashAlgorithmName.SHA256,
        DSASignatureFormat.IeeeP1363FixedFieldConcatenation);

    private static string RequestId(HttpResponseMessage response)
    {
        var id = Assert.Single(response.Headers.GetValues("X-Request-Id"));
        Assert.Matches("^[0-9a-f]{32}$", id);
        return id;
    }

    private HttpClient Client(string tenant, string clientId, params string[] scopes) =>
        Cluster.CreateHttpClient(Cluster.IssueDevelopmentToken(tenant, scopes, clientId: clientId));

    private async Task AssertDeniedAsync(HttpResponseMessage response, string tenant, string rule, string reason)
    {
        var row = await ReadRowAsync(RequestId(response));
        Assert.NotNull(row);
        Assert.Equal((tenant, "denied", (int)response.StatusCode), ((string)row["tenant_id"], (string)row["decision"], (int)row["status"]));
        Assert.Contains(rule, (string)row["rule"], StringComparison.Ordinal);
        Assert.Contains(reason, (string)row["reason"], StringComparison.Ordinal);
    }

    private async Task<Dictionary<string, object>?> ReadRowAsync(string requestId)
    {
        if (await AuditRows.EnsureLoggedAsync(Cluster, requestId) is null)
        {
            return null;
        }

        await using var connection = new NpgsqlConnection(Cluster.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT * FROM outpost_audit_events WHERE request_id = @id", connection);
        command.Parameters.AddWithValue("id", requestId);
        await using var reader = await command.ExecuteReaderAsync();
        if (!await reader.ReadAsync())
        {
            return null;
        }

        return Enumerable.Range(0, reader.FieldCount).ToDictionary(reader.GetName, reader.GetValue);
    }
}
