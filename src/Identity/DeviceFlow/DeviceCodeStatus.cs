namespace Outpost.Identity.DeviceFlow;

public enum DeviceCodeStatus
{
    Pending,
    Approved,
    Denied,
    Consumed,
}
