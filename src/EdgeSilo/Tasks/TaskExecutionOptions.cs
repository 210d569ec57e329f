using System.ComponentModel.DataAnnotations;

namespace Outpost.EdgeSilo.Tasks;

/// <summary>Remote execution on this device. Section <c>Edge:Tasks</c>.</summary>
public sealed class TaskExecutionOptions
{
    public const string Section = "Edge:Tasks";

    /// <summary>Whether the device takes task runs at all (it also needs a working sandbox).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// The device's result-signing key (PKCS#8 PEM), created on first start with mode 0600. Empty means
    /// <c>$XDG_DATA_HOME/outpost/edge/&lt;device&gt;/device-key.pem</c> (under the service user's home).
    /// </summary>
    public string KeyFile { get; set; } = "";

    /// <summary>The most an input archive may unpack to, in bytes (default 1 GiB).</summary>
    [Range(1, long.MaxValue, ErrorMessage = "must be a positive number of bytes.")]
    public long MaxUnpackedBytes { get; set; } = 1024L * 1024 * 1024;

    /// <summary>The most files an input archive may hold.</summary>
    [Range(1, 10_000_000, ErrorMessage = "must be from 1 to 10000000.")]
    public int MaxUnpackedFiles { get; set; } = 100_000;

    /// <summary>How often log output is sent to the control plane while a task runs.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:00:10", ErrorMessage = "must be a time span from 00:00:00.010 to 00:00:10.")]
    public TimeSpan LogFlushInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>How long a device keeps trying to deliver a result while the control plane is unreachable.</summary>
    [Range(typeof(TimeSpan), "00:00:05", "1.00:00:00", ErrorMessage = "must be a time span from 00:00:05 to 1.00:00:00.")]
    public TimeSpan DeliveryTimeout { get; set; } = TimeSpan.FromMinutes(10);
}
