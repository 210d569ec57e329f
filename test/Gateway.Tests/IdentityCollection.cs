using Outpost.Testing.PostgreSql;
using Xunit;

namespace Outpost.Gateway.Tests;

/// <summary>The identity tests share one throwaway PostgreSQL server; each test takes a fresh database.</summary>
[CollectionDefinition(Name)]
public sealed class IdentityCollection : ICollectionFixture<PostgreSqlFixture>
{
    public const string Name = "identity";
}
