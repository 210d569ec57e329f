using System.Text.Json.Serialization;

namespace Outpost.Gateway.Contracts;

/// <summary>A page of audit events; pass <see cref="NextCursor"/> as <c>cursor</c> for the next one (null: no more).</summary>
public sealed record AuditEventPage(IReadOnlyList<AuditEventResponse> Data, string? NextCursor)
{
    [JsonPropertyName("object")]
    public string Kind => "list";
}
