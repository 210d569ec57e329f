using System.Text.Json;
using Outpost.Gateway.Messages;
using Xunit;

namespace Outpost.Gateway.Tests.Messages;

/// <summary>Parsing an Anthropic Messages request on its own: what is kept, and how each bad field is named.</summary>
public sealed class MessagesRequestTests
{
    [Fact]
    public void Parse_FullRequest_KeepsEveryField()
    {
        var request = Parse("""
            {"model":"claude-sonnet-4-5","max_tokens":64,"stream":true,"temperature":0.5,"stop_sequences":["END"],
             "system":[{"type":"text","text":"Be brief."},{"type":"text","text":" Answer in English."}],
             "messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":[{"type":"text","text":"Hello"}]},{"role":"user","content":"Bye"}]}
            """);

        Assert.Equal(("claude-sonnet-4-5", 64, true, 0.5), (request.Model, request.MaxTokens, request.Stream, request.Temperature));
        Assert.Equal(["END"], request.StopSequences!);
        Assert.Equal("Be brief. Answer in English.", request.System);
        Assert.Equal(["user:Hi", "assistant:Hello", "user:Bye"], request.Messages.Select(m => $"{m.Role}:{m.Content}"));
        Assert.Equal(JsonValueKind.Array, request.RawMessages.ValueKind);
    }

    [Fact]
    public void EdgeMessages_SystemPromptFirst()
    {
        var request = Parse("""{"model":"m","max_tokens":5,"system":"Be brief.","messages":[{"role":"user","content":"Hi"}]}""");

        Assert.Equal(["system:Be brief.", "user:Hi"], request.EdgeMessages.Select(m => $"{m.Role}:{m.Content}"));
        Assert.Equal(System.Text.Encoding.UTF8.GetByteCount("Be brief.Hi"), request.PromptBytes);
    }

    [Theory]
    [InlineData("[]", "The request body must be a JSON object.")]
    [InlineData("""{"max_tokens":5,"messages":[{"role":"user","content":"x"}]}""", "model: Field required")]
    [InlineData("""{"model":"","max_tokens":5,"messages":[{"role":"user","content":"x"}]}""", "model: must not be empty")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"x"}]}""", "max_tokens: Field required")]
    [InlineData("""{"model":"m","max_tokens":0,"messages":[{"role":"user","content":"x"}]}""", "max_tokens: must be an integer from 1 to 128000")]
    [InlineData("""{"model":"m","max_tokens":5,"temperature":1.5,"messages":[{"role":"user","content":"x"}]}""", "temperature: must be from 0 to 1")]
    [InlineData("""{"model":"m","max_tokens":5,"stream":"yes","messages":[{"role":"user","content":"x"}]}""", "stream: has the wrong type (string)")]
    [InlineData("""{"model":"m","max_tokens":5,"stop_sequences":[""],"messages":[{"role":"user","content":"x"}]}""", "stop_sequences: every item must be a non-empty string")]
    [InlineData("""{"model":"m","max_tokens":5}""", "messages: Field required")]
    [InlineData("""{"model":"m","max_tokens":5,"messages":[]}""", "messages: at least one message is required")]
    [InlineData("""{"model":"m","max_tokens":5,"messages":["hi"]}""", "messages.0: must be an object")]
    [InlineData("""{"model":"m","max_tokens":5,"messages":[{"role":"robot","content":"x"}]}""", "messages.0.role: Input should be 'user' or 'assistant'")]
    [InlineData("""{"model":"m","max_tokens":5,"messages":[{"role":"user"}]}""", "messages.0.content: Field required")]
    [InlineData("""{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"image"}]}]}""", "messages.0.content.0.type: only 'text' content blocks")]
    [InlineData("""{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"text"}]}]}""", "messages.0.content.0.text: Field required")]
    [InlineData("""{"model":"m","max_tokens":5,"messages":[{"role":"assistant","content":"x"}]}""", "the first message must use the 'user' role")]
    [InlineData("""{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"\ud800"}]}""", "messages.0.content: is not valid text")]
    public void Parse_BadField_NamesIt(string json, string expected)
    {
        var error = Assert.Throws<MessagesApiException>(() => Parse(json));

        Assert.Equal(400, error.Status);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    private static MessagesRequest Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        return MessagesRequest.Parse(document.RootElement.Clone());
    }
}
