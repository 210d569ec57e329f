using Npgsql;
using Outpost.AuditLog.Storage;
using Outpost.Testing.Cluster;
using Xunit;

namespace Outpost.AuditLog.Tests.Storage;

/// <summary>Retention defaults: a tenant keeps its events until told otherwise; the unauthenticated log does not.</summary>
[Collection(ClusterCollection.Name)]
public sealed class AuditSettingsTests(OutpostClusterFixture fixture)
{
    [Fact]
    public async Task Defaults_UnauthenticatedLogHasARetention_TenantsKeepEverything_AndASetValueWins()
    {
        await using var data = NpgsqlDataSource.Create(fixture.Cluster.ConnectionString);
        var store = new AuditStore(data);

        var unauthenticated = await store.GetSettingsAsync(AuditSettings.UnauthenticatedTenant);
        var tenant = await store.GetSettingsAsync("settings-default");
        await store.SetSettingsAsync("settings-set", new AuditSettings(RetentionDays: null, StoreBodies: true));
        var set = await store.GetSettingsAsync("settings-set");

        Assert.Equal(new AuditSettings(AuditSettings.UnauthenticatedRetentionDays, false), unauthenticated);
        Assert.Equal(new AuditSettings(null, false), tenant);
        Assert.Equal(new AuditSettings(null, true), set);
    }
}
