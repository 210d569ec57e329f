namespace Outpost.Gateway.Tests.Messages;

/// <summary><see cref="MessagesClusterFixture"/>'s cluster with a 5-second <c>Limits:RequestTimeout</c>.</summary>
public sealed class ShortTimeoutMessagesFixture : MessagesClusterFixture
{
    public ShortTimeoutMessagesFixture()
        : base(new Dictionary<string, string?> { ["Limits:RequestTimeout"] = "00:00:05" })
    {
    }
}
