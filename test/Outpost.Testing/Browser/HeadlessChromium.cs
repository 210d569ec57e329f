using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Outpost.Testing.Browser;

/// <summary>
/// Debian's chromium, headless, driven over the DevTools protocol: open a page, fill and submit its forms the way a
/// person does (real form posts, real cookies, the page's own Content-Security-Policy), and read what it shows.
/// </summary>
public sealed class HeadlessChromium : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _profile;
    private readonly ClientWebSocket _socket = new();
    private int _nextId;

    private HeadlessChromium(Process process, string profile)
    {
        _process = process;
        _profile = profile;
    }

    /// <summary>The browser binary: <c>OUTPOST_CHROMIUM</c>, else <c>chromium</c> on PATH.</summary>
    public static string Binary => Environment.GetEnvironmentVariable("OUTPOST_CHROMIUM") ?? "chromium";

    public static async Task<HeadlessChromium> StartAsync()
    {
        var profile = Directory.CreateTempSubdirectory("outpost-chromium-").FullName;
        var start = new ProcessStartInfo(Binary)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
                 {
                     "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                     "--disable-dev-shm-usage", "--remote-debugging-port=0", $"--user-data-dir={profile}", "about:blank",
                 })
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("chromium did not start.");
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var browser = new HeadlessChromium(process, profile);
        try
        {
            // Chromium writes the port it chose into the profile once it listens.
            var portFile = Path.Combine(profile, "DevToolsActivePort");
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (!File.Exists(portFile) || File.ReadAllLines(portFile).Length < 1)
            {
                if (process.HasExited || DateTime.UtcNow > deadline)
                {
                    throw new InvalidOperationException("chromium did not open its DevTools port.");
                }

                await Task.Delay(50);
            }

            var port = File.ReadAllLines(portFile)[0].Trim();
            using var http = new HttpClient();
            var targets = JsonNode.Parse(await http.GetStringAsync($"http://127.0.0.1:{port}/json/list"))!.AsArray();
            var page = targets.First(t => (string?)t!["type"] == "page")!;
            await browser._socket.ConnectAsync(new Uri((string)page["webSocketDebuggerUrl"]!), CancellationToken.None);
            await browser.SendAsync("Page.enable");
            return browser;
        }
        catch
        {
            await browser.DisposeAsync();
            throw;
        }
    }

    /// <summary>Opens <paramref name="url"/> and waits until it has loaded.</summary>
    public async Task NavigateAsync(string url)
    {
        await SendAsync("Page.navigate", new JsonObject { ["url"] = url });
        await WaitForLoadAsync(previous: null);
    }

    /// <summary>Runs <paramref name="expression"/> in the page and returns its value as JSON.</summary>
    public async Task<JsonNode?> EvaluateAsync(string expression)
    {
        var result = await SendAsync("Runtime.evaluate", new JsonObject { ["expression"] = expression, ["returnByValue"] = true, ["awaitPromise"] = true });
        if (result["exceptionDetails"] is { } error)
        {
            throw new InvalidOperationException($"The page threw: {error.ToJsonString()}");
        }

        return result["result"]?["value"]?.DeepClone();
    }

    /// <summary>The text of the page's body.</summary>
    public async Task<string> TextAsync() => (string?)await EvaluateAsync("document.body ? document.body.innerText : ''") ?? string.Empty;

    /// <summary>The current address.</summary>
    public async Task<string> UrlAsync() => (string?)await EvaluateAsync("location.href") ?? string.Empty;

    /// <summary>Sets the value of the input matching <paramref name="selector"/>, as typing would.</summary>
    public Task FillAsync(string selector, string value) =>
        EvaluateAsync($"(() => {{ const e = document.querySelector({Js(selector)}); if (!e) throw new Error('no element ' + {Js(selector)}); e.value = {Js(value)}; return true; }})()");

    /// <summary>Clicks the element matching <paramref name="selector"/> (a submit button) and waits for the next page.</summary>
    public async Task ClickAndWaitAsync(string selector)
    {
        var before = await EvaluateAsync("performance.timeOrigin");
        await EvaluateAsync($"(() => {{ const e = document.querySelector({Js(selector)}); if (!e) throw new Error('no element ' + {Js(selector)}); e.click(); return true; }})()");
        await WaitForLoadAsync(before?.GetValue<double>());
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_socket.State == WebSocketState.Open)
            {
                await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(2));
            }
        }
        catch (Exception ex) when (ex is WebSocketException or TimeoutException)
        {
            // The browser is killed next either way.
        }

        _socket.Dispose();
        try
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception ex) when (ex is InvalidOperationException or TimeoutException)
        {
            // Already gone.
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_profile, recursive: true);
        }
        catch (IOException)
        {
            // Chromium may still be flushing its profile; it is a temp directory.
        }
    }

    private async Task WaitForLoadAsync(double? previous)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
            try
            {
                var state = await EvaluateAsync("JSON.stringify([document.readyState, performance.timeOrigin])");
                var values = JsonNode.Parse((string)state!)!.AsArray();
                if ((string?)values[0] == "complete" && (previous is null || values[1]!.GetValue<double>() != previous))
                {
                    return;
                }
            }
            catch (InvalidOperationException)
            {
                // The old page went away mid-evaluation: the new one is loading.
            }
        }

        throw new TimeoutException("The page did not finish loading within 30 s.");
    }

    private async Task<JsonNode> SendAsync(string method, JsonObject? parameters = null)
    {
        var id = Interlocked.Increment(ref _nextId);
        var message = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters ?? [] };
        await _socket.SendAsync(Encoding.UTF8.GetBytes(message.ToJsonString()), WebSocketMessageType.Text, true, CancellationToken.None);
        var buffer = new byte[1 << 16];
        while (true)
        {
            using var received = new MemoryStream();
            WebSocketReceiveResult result;
            do
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                result = await _socket.ReceiveAsync(buffer, timeout.Token);
                received.Write(buffer, 0, result.Count);
            }
            while (!result.EndOfMessage);

            var reply = JsonNode.Parse(received.ToArray())!;
            if ((int?)reply["id"] != id)
            {
                continue; // an event, or the answer to nothing we wait for
            }

            if (reply["error"] is { } error)
            {
                throw new InvalidOperationException($"{method}: {error.ToJsonString()}");
            }

            return reply["result"] ?? new JsonObject();
        }
    }

    private static string Js(string value) => JsonSerializer.Serialize(value);
}
