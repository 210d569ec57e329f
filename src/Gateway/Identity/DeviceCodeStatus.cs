namespace Outpost.Gateway.Identity;

public enum DeviceCodeStatus
{
    Pending,
    Approved,
    Denied,
    Consumed,
}
