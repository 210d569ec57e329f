using Outpost.Testing.Cluster;
using Xunit;

namespace Outpost.ServiceDefaults.Tests;

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<OutpostClusterFixture>
{
    public const string Name = "cluster";
}
