using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Outpost.EdgeSilo.Inference.Hailo;
using Outpost.Grains.EdgeDevices;
using Outpost.Grains.Inference;
using Outpost.Testing.Hailo;
using Xunit;

namespace Outpost.EdgeSilo.Tests.Inference.Hailo;

/// <summary>The hailo-ollama backend against the stand-in server over loopback, and the stand-in's own promises.</summary>
public sealed class HailoOllamaBackendTests : IAsyncLifetime, IDisposable
{
    private const string Model = FakeHailoOllamaServer.DefaultModel;

    // Only bounds a wait that would otherwise hang the run; the scenarios finish in milliseconds.
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    // A client that would drain an unfinished response for as long as the server goes on sending it, instead of
    // SocketsHttpHandler's 2 s: the backend must free the server by closing the connection, whatever the handler does.
    private readonly HttpClient _httpClient = new(new SocketsHttpHandler { ResponseDrainTimeout = TimeSpan.FromMinutes(5) });
    private FakeHailoOllamaServer _server = null!;
    private HailoOllamaBackend _backend = null!;

    public async Task InitializeAsync()
    {
        _server = await FakeHailoOllamaServer.StartAsync();
        _backend = new HailoOllamaBackend(
            _httpClient,
            Options.Create(new HailoOllamaOptions { BaseUrl = _server.BaseUrl }),
            NullLogger<HailoOllamaBackend>.Instance);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    public void Dispose()
    {
        _backend?.Dispose();
        _httpClient.Dispose();
    }

    [Fact]
    public async Task RefreshModelsAsync_ServerListsModels_AdvertisesThemForGeneration()
    {
        _server.Models = [Model, "llama3.2:1b"];
        Assert.Empty(_backend.Models);

        await _backend.RefreshModelsAsync(CancellationToken.None);

        Assert.Equal(
            [new DeviceModel(Model, DeviceTasks.Generate, "hailo-ollama"), new DeviceModel("llama3.2:1b", DeviceTasks.Generate, "hailo-ollama")],
            _backend.Models);
    }

    [Fact]
    public async Task GenerateAsync_Completion_StreamsTokensThenUsage()
    {
        var request = new GenerationRequest(
            Model,
            [new ChatMessage("system", "Answer briefly."), new ChatMessage("user", "hello there small world")],
            MaxTokens: 100,
            Temperature: 0.2);

        var chunks = await CollectAsync(request);

        var text = chunks.SkipLast(1).ToArray();
        Assert.True(text.Length > 1, "the reply should arrive in several chunks, not at once");
        Assert.All(text, chunk => Assert.False(chunk.Done));
        Assert.Equal("echo: hello there small world", string.Concat(text.Select(chunk => chunk.Text)));

        var final = chunks[^1];
        Assert.True(final.Done);
        Assert.Equal("", final.Text);
        Assert.Equal(2 + 4, final.PromptTokens);
        Assert.Equal(5, final.CompletionTokens);
        Assert.Equal("end_turn", final.StopReason);
    }

    [Fact]
    public async Task GenerateAsync_Request_SentInOllamaChatFormat()
    {
        await using var server = await FakeHailoOllamaServer.StartAsync();
        using var httpClient = new HttpClient();
        using var backend = new HailoOllamaBackend(
            httpClient,
            Options.Create(new HailoOllamaOptions { BaseUrl = server.BaseUrl, KeepAlive = "10m" }),
            NullLogger<HailoOllamaBackend>.Instance);
        var request = new GenerationRequest(
            Model,
            [new ChatMessage("system", "Be brief."), new ChatMessage("user", "hi")],
            MaxTokens: 42,
            Temperature: 0.5,
            StopSequences: ["\n\n"]);

        await foreach (var _ in backend.GenerateAsync(request, CancellationToken.None))
        {
        }

        using var sent = JsonDocument.Parse(server.LastRequestBody!);
        var root = sent.RootElement;
        Assert.Equal(Model, root.GetProperty("model").GetString());
        Assert.True(root.GetProperty("stream").GetBoolean());
        Assert.Equal("10m", root.GetProperty("keep_alive").GetString());
        var messages = root.GetProperty("messages");
        Assert.Equal(["system", "user"], messages.EnumerateArray().Select(message => message.GetProperty("role").GetString()));
        Assert.Equal("Be brief.", messages[0].GetProperty("content").GetString());
        var options = root.GetProperty("options");
        Assert.Equal(42, options.GetProperty("num_predict").GetInt32());
        Assert.Equal(0.5, options.GetProperty("temperature").GetDouble());
        Assert.Equal(["\n\n"], options.GetProperty("stop").EnumerateArray().Select(stop => stop.GetString()));
    }

    [Fact]
    public async Task GenerateAsync_MaxTokensReached_StopsWithMaxTokens()
    {
        var request = new GenerationRequest(Model, [new ChatMessage("user", "one two three four")], MaxTokens: 3);

        var chunks = await CollectAsync(request);

        Assert.Equal("echo: one two", string.Concat(chunks.Select(chunk => chunk.Text)));
        Assert.Equal(3, chunks[^1].CompletionTokens);
        Assert.Equal("max_tokens", chunks[^1].StopReason);
    }

    [Fact]
    public async Task GenerateAsync_StopSequence_EndsBeforeSequenceAsEndTurn()
    {
        var request = new GenerationRequest(
            Model, [new ChatMessage("user", "one two STOP three")], MaxTokens: 100, StopSequences: ["STOP"]);

        var chunks = await CollectAsync(request);

        // Ollama ends a stop sequence with done_reason "stop", as at the end of a turn, so the two look alike.
        Assert.Equal("echo: one two ", string.Concat(chunks.Select(chunk => chunk.Text)));
        Assert.Equal("end_turn", chunks[^1].StopReason);
    }

    [Fact]
    public async Task GenerateAsync_UnknownModel_ThrowsUnknownModelRejection()
    {
        var request = new GenerationRequest("no-such-model:7b", [new ChatMessage("user", "hi")], MaxTokens: 10);

        var exception = await Assert.ThrowsAsync<InferenceRejectedException>(() => CollectAsync(request));

        Assert.Equal(InferenceRejection.UnknownModel, exception.Reason);
        Assert.Contains("no-such-model:7b", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GenerateAsync_ServerBusy_ThrowsWithServersErrorText()
    {
        _server.TokenDelay = TimeSpan.FromMilliseconds(50);
        using var other = new HttpClient { BaseAddress = _server.BaseUrl };
        using var running = await StartRawChatAsync(other, LongMessage(200));

        var request = new GenerationRequest(Model, [new ChatMessage("user", "hi")], MaxTokens: 10);
        var exception = await Assert.ThrowsAsync<HttpRequestException>(() => CollectAsync(request));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, exception.StatusCode);
        Assert.Contains("server busy", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GenerateAsync_CancelledMidStream_FreesServerForNextRequest()
    {
        using var cancellation = new CancellationTokenSource();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var chunk in _backend.GenerateAsync(StartLongCompletion(), cancellation.Token))
            {
                Assert.False(chunk.Done);
                await cancellation.CancelAsync();
            }
        });

        await AssertServerFreedAsync();
    }

    [Fact]
    public async Task GenerateAsync_ConsumerStopsReading_FreesServerForNextRequest()
    {
        await foreach (var chunk in _backend.GenerateAsync(StartLongCompletion(), CancellationToken.None))
        {
            Assert.False(chunk.Done);
            break;
        }

        await AssertServerFreedAsync();
    }

    [Fact]
    public async Task FakeServer_SecondConcurrentRequest_GetsBusyAndRunsOneAtATime()
    {
        _server.TokenDelay = TimeSpan.FromMilliseconds(50);
        using var first = new HttpClient { BaseAddress = _server.BaseUrl };
        using var second = new HttpClient { BaseAddress = _server.BaseUrl };
        using var running = await StartRawChatAsync(first, LongMessage(200));

        using var rejected = await second.PostAsJsonAsync("api/chat", ChatBody("hi"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, rejected.StatusCode);
        using var error = JsonDocument.Parse(await rejected.Content.ReadAsStringAsync());
        Assert.Equal("server busy", error.RootElement.GetProperty("error").GetString());
        Assert.Equal(1, _server.RejectedBusy);
        Assert.Equal(2, _server.TotalRequests);
        Assert.Equal(1, _server.MaxConcurrentRequests);
    }

    [Fact]
    public async Task FakeServer_GenerateWithoutStreaming_AnswersOneObjectWithUsage()
    {
        using var client = new HttpClient { BaseAddress = _server.BaseUrl };

        using var response = await client.PostAsJsonAsync(
            "api/generate", new { model = Model, prompt = "one two three", stream = false, options = new { num_predict = 2 } });

        response.EnsureSuccessStatusCode();
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = body.RootElement;
        Assert.Equal("echo: one", root.GetProperty("response").GetString());
        Assert.True(root.GetProperty("done").GetBoolean());
        Assert.Equal("length", root.GetProperty("done_reason").GetString());
        Assert.Equal(3, root.GetProperty("prompt_eval_count").GetInt32());
        Assert.Equal(2, root.GetProperty("eval_count").GetInt32());
    }

    /// <summary>A completion of 400 tokens at 25 ms each: a server left generating it stays busy for ten seconds.</summary>
    private GenerationRequest StartLongCompletion()
    {
        _server.TokenDelay = TimeSpan.FromMilliseconds(25);
        return new GenerationRequest(Model, [new ChatMessage("user", LongMessage(399))], MaxTokens: 1000);
    }

    /// <summary>
    /// Checks that the server noticed the client go away well before the abandoned completion would have ended, and
    /// then takes the next request without turning anyone away as busy.
    /// </summary>
    private async Task AssertServerFreedAsync()
    {
        await _server.WaitUntilIdleAsync().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(1, _server.AbortedRequests);

        _server.TokenDelay = TimeSpan.FromMilliseconds(1);
        var next = await CollectAsync(new GenerationRequest(Model, [new ChatMessage("user", "again")], MaxTokens: 10));

        Assert.Equal("echo: again", string.Concat(next.Select(chunk => chunk.Text)));
        Assert.Equal(0, _server.RejectedBusy);
    }

    private async Task<List<GenerationChunk>> CollectAsync(GenerationRequest request)
    {
        using var timeout = new CancellationTokenSource(Patience);
        var chunks = new List<GenerationChunk>();
        await foreach (var chunk in _backend.GenerateAsync(request, timeout.Token))
        {
            chunks.Add(chunk);
        }

        return chunks;
    }

    /// <summary>Starts a streamed chat on the stand-in and returns once its first token has arrived, so it is running.</summary>
    private static async Task<HttpResponseMessage> StartRawChatAsync(HttpClient client, string message)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/chat") { Content = JsonContent.Create(ChatBody(message)) };
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var firstLine = await reader.ReadLineAsync().WaitAsync(Patience);
        Assert.Contains("\"done\":false", firstLine, StringComparison.Ordinal);
        return response;
    }

    private static object ChatBody(string message) =>
        new { model = Model, messages = new[] { new { role = "user", content = message } } };

    private static string LongMessage(int words) =>
        string.Join(' ', Enumerable.Range(1, words).Select(word => $"w{word}"));
}
