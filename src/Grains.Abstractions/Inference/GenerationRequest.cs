namespace Outpost.Grains.Inference;

/// <summary>A small-model completion to run on a device.</summary>
/// <param name="Model">The model's name as the device lists it, e.g. <c>qwen2.5:1.5b</c>.</param>
/// <param name="Messages">The conversation so far; a system prompt is a message with role <c>system</c>.</param>
/// <param name="MaxTokens">The most tokens to generate.</param>
/// <param name="Temperature">Sampling temperature, or null for the model's default.</param>
/// <param name="StopSequences">Sequences that end generation early.</param>
/// <param name="Tenant">Whose work it is: the device's queue caps each tenant's share (the router sets it).</param>
[GenerateSerializer, Immutable, Alias("outpost.GenerationRequest")]
public sealed record GenerationRequest(
    [property: Id(0)] string Model,
    [property: Id(1)] IReadOnlyList<ChatMessage> Messages,
    [property: Id(2)] int MaxTokens,
    [property: Id(3)] double? Temperature = null,
    [property: Id(4)] IReadOnlyList<string>? StopSequences = null,
    [property: Id(5)] string Tenant = "");
