namespace Outpost.ServiceDefaults.Schema;

/// <summary>
/// The database records a migration whose script differs from the one built into this program, so it was
/// migrated by a different build; the migrator stops without touching it.
/// </summary>
public sealed class SchemaMigrationException : Exception
{
    public SchemaMigrationException()
    {
    }

    public SchemaMigrationException(string message)
        : base(message)
    {
    }

    public SchemaMigrationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public SchemaMigrationException(int version, string name)
        : base($"Schema migration {version:D4} ({name}) in the database does not match this build's script: "
            + "the database was migrated by a different build of Outpost. No changes were made.")
    {
        Version = version;
    }

    /// <summary>The version of the migration that does not match, when known.</summary>
    public int? Version { get; }
}
