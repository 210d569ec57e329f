namespace Outpost.ServiceDefaults.Schema;

/// <summary>
/// What <see cref="SchemaMigrator.MigrateAsync"/> did: the migrations it applied and the ones it found in place,
/// each named like its script (<c>0001_orleans_clustering</c>), in version order.
/// </summary>
public sealed record SchemaMigrationResult(IReadOnlyList<string> Applied, IReadOnlyList<string> AlreadyApplied);
