using System.Text.Json.Serialization;

namespace Outpost.Gateway.Contracts;

/// <summary>A page of runs, newest first; <c>next_before</c> continues it (pass it as <c>before</c>).</summary>
public sealed record TaskListResponse(IReadOnlyList<TaskListItem> Data, DateTimeOffset? NextBefore)
{
    [JsonPropertyName("object")]
    public string Kind => "list";
}
