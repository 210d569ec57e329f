namespace Outpost.Identity.Endpoints;

public static partial class OAuthEndpoints
{
    [LoggerMessage(EventId = 1, EventName = "AccessTokenIssued", Level = LogLevel.Information,
        Message = "Issued access token {TokenId} to client {ClientId} of tenant {Tenant} ({GrantType}, scope '{Scope}')")]
    private static partial void LogTokenIssued(ILogger logger, string clientId, string tenant, string grantType, string scope, string tokenId);

    [LoggerMessage(EventId = 2, EventName = "DeviceApprovalLoginFailed", Level = LogLevel.Warning,
        Message = "A device approval failed: wrong admin credentials for tenant {Tenant}")]
    private static partial void LogApprovalLoginFailed(ILogger logger, string tenant);

    [LoggerMessage(EventId = 20, EventName = "DeviceApprovalThrottled", Level = LogLevel.Warning,
        Message = "A device approval was refused before its password was checked: too many failed sign-ins for the account or address (tenant {Tenant})")]
    private static partial void LogApprovalThrottled(ILogger logger, string tenant);

    [LoggerMessage(EventId = 3, EventName = "DeviceCodeDecided", Level = LogLevel.Information,
        Message = "Device code of client {ClientId} decided by {Username} of tenant {Tenant}: approved {Approved}")]
    private static partial void LogDeviceDecision(ILogger logger, string clientId, string tenant, string username, bool approved);
}
