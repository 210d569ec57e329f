using Microsoft.Extensions.Logging;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Outpost.Grains.EdgeDevices;
using Outpost.Grains.Placement;

namespace Outpost.Grains.EdgeCalls;

/// <summary>
/// Runs on control silos in front of every control-plane grain (and the dashboard's): a call that comes from an edge
/// silo is let through only when <see cref="EdgeCallPolicy"/> allows that method for the calling device, and is refused
/// and logged otherwise. The caller is the device grain itself, or anything else running on a silo whose metadata says
/// it is an edge silo (its hosted client or one of its system targets).
/// </summary>
internal sealed partial class EdgeCallFilter(ISiloMetadataCache metadata, ILogger<EdgeCallFilter> logger) : IIncomingGrainCallFilter
{
    private static readonly GrainType DeviceGrainType = GrainType.Create(IEdgeDeviceGrain.GrainTypeName);
    private const string HostedClientPrefix = "hosted-";

    public Task Invoke(IIncomingGrainCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!IsGuarded(context.Grain.GetType()) || CallingDevice(context.SourceId) is not { } device)
        {
            return context.Invoke();
        }

        var refusal = EdgeCallPolicy.Check(context.InterfaceMethod, context.Request, device);
        if (refusal is null)
        {
            return context.Invoke();
        }

        LogRefused(logger, device, context.InterfaceName, context.MethodName, refusal);
        throw new UnauthorizedAccessException($"Edge device '{device}' may not call {context.InterfaceName}.{context.MethodName}: {refusal}.");
    }

    /// <summary>The grains an edge silo must not reach freely: Outpost's control plane and the Orleans Dashboard.</summary>
    private static bool IsGuarded(Type grainClass)
    {
        var assembly = grainClass.Assembly.GetName().Name ?? string.Empty;
        return grainClass.Assembly == typeof(EdgeCallFilter).Assembly || assembly.StartsWith("Orleans.Dashboard", StringComparison.Ordinal);
    }

    /// <summary>The device id of the edge silo a call comes from, or null when it does not come from one.</summary>
    private string? CallingDevice(GrainId? source)
    {
        if (source is not { } id)
        {
            return null;
        }

        if (id.Type == DeviceGrainType)
        {
            return id.Key.ToString();
        }

        SiloAddress? silo = null;
        if (SystemTargetGrainId.TryParse(id, out var systemTarget))
        {
            silo = systemTarget.GetSiloAddress();
        }
        else if (id.IsClient() && id.Key.ToString() is { } key && key.StartsWith(HostedClientPrefix, StringComparison.Ordinal))
        {
            // A silo's hosted client is "hosted-<silo address>" (an observer of it appends "+<id>").
            var address = key[HostedClientPrefix.Length..];
            var plus = address.IndexOf('+', StringComparison.Ordinal);
            silo = SiloAddress.FromParsableString(plus < 0 ? address : address[..plus]);
        }

        if (silo is null)
        {
            return null;
        }

        var values = metadata.GetSiloMetadata(silo).Metadata;
        return values.TryGetValue(SiloRoles.RoleKey, out var role) && role == SiloRoles.Edge
            ? values.GetValueOrDefault(SiloRoles.DeviceIdKey, "(unknown device)")
            : null;
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "Refused a call from edge device {Device} to {Interface}.{Method}: {Reason}")]
    private static partial void LogRefused(ILogger logger, string device, string @interface, string method, string reason);
}
