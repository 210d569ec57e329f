namespace Outpost.Grains.TaskRuns;

/// <summary>A long-term task-signing public key, as published.</summary>
/// <param name="KeyId">Its id (16 hex digits of the SHA-256 of its public key).</param>
/// <param name="Algorithm"><c>ECDSA-P256-SHA256</c>.</param>
/// <param name="PublicKey">SubjectPublicKeyInfo DER.</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="Current">True for the key that endorses new runs.</param>
[GenerateSerializer, Immutable, Alias("outpost.TaskSigningKey")]
public sealed record TaskSigningKey(
    [property: Id(0)] string KeyId,
    [property: Id(1)] string Algorithm,
    [property: Id(2)] byte[] PublicKey,
    [property: Id(3)] DateTimeOffset CreatedAt,
    [property: Id(4)] bool Current);
