namespace Outpost.Grains.Inference;

/// <summary>Texts to embed with one model.</summary>
/// <param name="Model">The embedding model's name, e.g. <c>all-MiniLM-L6-v2</c>.</param>
/// <param name="Inputs">The texts; each gets exactly one vector back, in the same order.</param>
/// <param name="Truncate">Cut texts longer than the model's window instead of rejecting them.</param>
/// <param name="Tenant">Whose work it is: the device's queue shares its turns between tenants.</param>
[GenerateSerializer, Immutable, Alias("outpost.EmbeddingRequest")]
public sealed record EmbeddingRequest(
    [property: Id(0)] string Model,
    [property: Id(1)] IReadOnlyList<string> Inputs,
    [property: Id(2)] bool Truncate = false,
    [property: Id(3)] string Tenant = "");
