using Outpost.Testing.Cluster;
using Xunit;

namespace Outpost.Silo.Tests;

/// <summary>Tests that share one running Outpost cluster (and its PostgreSQL server).</summary>
[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<OutpostClusterFixture>
{
    public const string Name = "cluster";
}
