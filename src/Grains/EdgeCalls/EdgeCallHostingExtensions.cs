namespace Outpost.Grains.EdgeCalls;

public static class EdgeCallHostingExtensions
{
    /// <summary>
    /// Puts the edge call filter in front of this silo's control-plane grains: an edge silo may only make the calls a
    /// device needs for itself (<see cref="EdgeCallPolicy"/>). Every control silo calls this.
    /// </summary>
    public static ISiloBuilder AddEdgeCallFilter(this ISiloBuilder silo)
    {
        ArgumentNullException.ThrowIfNull(silo);
        return silo.AddIncomingGrainCallFilter<EdgeCallFilter>();
    }
}
