namespace Outpost.Grains;

/// <summary>The grain storage providers every silo registers. One place, so a typo cannot lose state.</summary>
public static class StorageNames
{
    /// <summary>Grain state in PostgreSQL through Orleans' ADO.NET provider.</summary>
    public const string Default = "outpost";
}
