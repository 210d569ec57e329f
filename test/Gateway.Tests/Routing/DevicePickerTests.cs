using Outpost.Gateway.Routing;
using Outpost.Grains.EdgeDevices;
using Outpost.Grains.Inference;
using Xunit;

namespace Outpost.Gateway.Tests.Routing;

/// <summary>Router scoring on its own: which device the next request goes to, from load this gateway saw and devices reported.</summary>
public sealed class DevicePickerTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 3, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Pick_FewerCallsInFlight_Wins()
    {
        var picker = new DevicePicker(_ => 0);
        picker.Tracker("a").Begin();
        picker.Tracker("a").Begin();
        picker.Tracker("b").Begin();

        Assert.Equal("b", picker.Pick([Device("a"), Device("b")], new HashSet<string>(), Now));
    }

    [Fact]
    public void Pick_ReportedQueue_CountsAQuarter()
    {
        var picker = new DevicePicker(_ => 0);
        picker.Tracker("idle").Begin(); // one in flight here: score (1 + 1) x 1

        // Eight queued on the device: score (0 + 1 + 2) x 1, worse than one call in flight.
        Assert.Equal("idle", picker.Pick([Device("idle"), Device("queued", queue: 8)], new HashSet<string>(), Now));
    }

    [Fact]
    public void Pick_SlowerDevice_LosesAtEqualLoad()
    {
        var picker = new DevicePicker(_ => 0);
        for (var i = 0; i < 30; i++)
        {
            picker.Tracker("slow").Succeeded(TimeSpan.FromMilliseconds(50));
            picker.Tracker("fast").Succeeded(TimeSpan.FromMilliseconds(5));
        }

        Assert.Equal("fast", picker.Pick([Device("slow"), Device("fast")], new HashSet<string>(), Now));
    }

    [Fact]
    public void Pick_PenalizedDevice_OnlyWhenNoHealthyOneIsLeft()
    {
        var picker = new DevicePicker(_ => 0);
        picker.Tracker("failed").Penalize(Now.AddSeconds(5));
        picker.Tracker("busy").Begin();
        picker.Tracker("busy").Begin();
        var devices = new[] { Device("failed"), Device("busy") };

        Assert.Equal("busy", picker.Pick(devices, new HashSet<string>(), Now));
        Assert.Equal("failed", picker.Pick(devices, new HashSet<string> { "busy" }, Now));
        Assert.Equal("failed", picker.Pick([Device("failed")], new HashSet<string>(), Now.AddSeconds(6))); // penalty over
    }

    [Fact]
    public void Pick_OfflineOrTried_Skipped_NullWhenNoneLeft()
    {
        var picker = new DevicePicker(_ => 0);
        var devices = new[] { Device("down", online: false), Device("tried") };

        Assert.Null(picker.Pick(devices, new HashSet<string> { "tried" }, Now));
    }

    [Fact]
    public void Pick_Tie_BrokenByTheRandomSource()
    {
        var devices = new[] { Device("a"), Device("b") };

        Assert.Equal("a", new DevicePicker(_ => 1).Pick(devices, new HashSet<string>(), Now));
        Assert.Equal("b", new DevicePicker(_ => 0).Pick(devices, new HashSet<string>(), Now));
    }

    private static DeviceSummary Device(string id, bool online = true, int queue = 0) =>
        new(new DeviceRecord(
                new DeviceRegistration(id, "1.0", [], [new DeviceModel("all-MiniLM-L6-v2", DeviceTasks.Embed, "onnx")], id),
                SiloAddress.New(System.Net.IPAddress.Loopback, 11111, 1),
                Now,
                Now,
                new DeviceLoad(queue, 0, 1, 1, 1)),
            online);
}
