namespace Outpost.Grains.Inference;

/// <summary>One turn of a conversation.</summary>
/// <param name="Role"><c>system</c>, <c>user</c> or <c>assistant</c>.</param>
/// <param name="Content">The text.</param>
[GenerateSerializer, Immutable, Alias("outpost.ChatMessage")]
public sealed record ChatMessage(
    [property: Id(0)] string Role,
    [property: Id(1)] string Content);
