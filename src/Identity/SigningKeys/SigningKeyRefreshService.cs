using Microsoft.Extensions.Options;
using Npgsql;

namespace Outpost.Identity.SigningKeys;

/// <summary>
/// Makes sure a signing key exists at start and keeps <see cref="SigningKeyStore"/>'s snapshot current, and with it
/// the list of disabled clients whose tokens are refused (<see cref="Tokens.DisabledClients"/>). The identity
/// tables may not exist yet when the gateway starts before the control silo has migrated the schema: then it retries.
/// </summary>
internal sealed partial class SigningKeyRefreshService(
    SigningKeyStore store,
    Tokens.DisabledClients disabledClients,
    IOptions<SigningKeyOptions> options,
    ILogger<SigningKeyRefreshService> logger) : BackgroundService
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(2);

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // One attempt before the gateway serves, so that tokens verify from the first request when the database is ready.
        await TryRefreshAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var delay = store.RefreshedAt is null ? RetryDelay : options.Value.RefreshInterval;
            try
            {
                await Task.Delay(delay, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            await TryRefreshAsync(stoppingToken);
        }
    }

    private async Task TryRefreshAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (store.RefreshedAt is null)
            {
                await store.EnsureActiveKeyAsync(cancellationToken);
            }

            await store.RefreshAsync(cancellationToken);
            await disabledClients.RefreshAsync(cancellationToken);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            LogSchemaMissing(logger);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            // Keep the last snapshot: tokens keep verifying while the database is briefly away.
            LogRefreshFailed(logger, ex);
        }
    }
}
