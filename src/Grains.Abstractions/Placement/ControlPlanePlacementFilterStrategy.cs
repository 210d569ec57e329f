using Orleans.Placement;

namespace Outpost.Grains.Placement;

/// <summary>Drops edge silos from the candidates for a grain: control-plane state never lands on a device.</summary>
public sealed class ControlPlanePlacementFilterStrategy() : PlacementFilterStrategy(order: 0);
