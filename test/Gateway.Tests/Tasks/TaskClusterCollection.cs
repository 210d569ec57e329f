using Xunit;

namespace Outpost.Gateway.Tests.Tasks;

[CollectionDefinition(Name)]
public sealed class TaskClusterCollection : ICollectionFixture<TaskClusterFixture>
{
    public const string Name = "task cluster";
}
