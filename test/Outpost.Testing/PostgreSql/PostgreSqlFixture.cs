using Xunit;

namespace Outpost.Testing.PostgreSql;

/// <summary>
/// Shares one throwaway PostgreSQL server among the tests of a class or collection; each test asks it
/// for a fresh database.
/// </summary>
public sealed class PostgreSqlFixture : IAsyncLifetime
{
    private PostgreSqlServer? _server;

    public PostgreSqlServer Server =>
        _server ?? throw new InvalidOperationException("The PostgreSQL fixture has not been initialized.");

    public async Task InitializeAsync() => _server = await PostgreSqlServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
