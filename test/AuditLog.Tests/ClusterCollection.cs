using Outpost.Testing.Cluster;
using Xunit;

namespace Outpost.AuditLog.Tests;

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<OutpostClusterFixture>
{
    public const string Name = "cluster";
}
