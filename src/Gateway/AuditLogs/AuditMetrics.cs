using System.Diagnostics.Metrics;

namespace Outpost.Gateway.AuditLogs;

/// <summary>
/// How the gateway makes audit events durable, on the <c>Outpost.Audit</c> meter (OpenTelemetry, dotnet-counters):
/// events by path (<c>staged</c> through the intake, <c>direct</c> to the log), direct writes that fell back to the
/// intake, and hand-overs that gave up (their events wait for the sweeper).
/// </summary>
public sealed class AuditMetrics
{
    public const string MeterName = "Outpost.Audit";

    private readonly Counter<long> _events;
    private readonly Counter<long> _fallbacks;
    private readonly Counter<long> _abandoned;

    public AuditMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        _events = meter.CreateCounter<long>("outpost.audit.events", "{event}", "Audit events made durable, by path (staged or direct).");
        _fallbacks = meter.CreateCounter<long>(
            "outpost.audit.direct_fallbacks", "{event}", "Events whose direct write to their log failed or took too long, and were staged instead.");
        _abandoned = meter.CreateCounter<long>(
            "outpost.audit.handovers_abandoned", "{event}", "Staged events whose hand-over to their log gave up; the intake sweeper logs them.");
    }

    public void Durable(string path, int count) => _events.Add(count, new KeyValuePair<string, object?>("path", path));

    public void FellBack(int count) => _fallbacks.Add(count);

    public void Abandoned(int count) => _abandoned.Add(count);
}
