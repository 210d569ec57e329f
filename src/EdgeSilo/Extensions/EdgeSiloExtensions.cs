using Microsoft.Extensions.Options;
using Outpost.EdgeSilo.EdgeDevices;
using Outpost.EdgeSilo.Inference;
using Outpost.EdgeSilo.Inference.Hailo;
using Outpost.EdgeSilo.Inference.Onnx;
using Outpost.EdgeSilo.Tasks;
using Outpost.EdgeSilo.Tasks.Sandbox;
using Outpost.ServiceDefaults.Clustering;
using Outpost.ServiceDefaults.Configuration;

namespace Outpost.EdgeSilo.Extensions;

public static class EdgeSiloExtensions
{
    /// <summary>
    /// Adds the edge silo for the device named by <c>Edge:DeviceId</c>: no client gateway (the gateway never talks to a
    /// device directly), only the device grain, and the device's inference backends and queues.
    /// </summary>
    public static IHostApplicationBuilder AddEdgeSilo(this IHostApplicationBuilder builder)
    {
        var edge = builder.AddValidatedOptions<EdgeOptions>(EdgeOptions.Section);
        if (builder.Configuration[$"{OutpostClusterOptions.Section}:{nameof(OutpostClusterOptions.GatewayPort)}"] is null)
        {
            builder.Configuration[$"{OutpostClusterOptions.Section}:{nameof(OutpostClusterOptions.GatewayPort)}"] = "0";
        }

        builder.AddInferenceBackends();
        builder.AddTaskExecution();
        builder.AddOutpostSilo(SiloRole.Edge(edge.DeviceId), silo =>
            silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, DeviceLifecycle>());
        return builder;
    }

    /// <summary>
    /// Remote execution: the sandbox, the device key (created on first start), manifest verification and the executor
    /// that runs verified manifests.
    /// </summary>
    public static IHostApplicationBuilder AddTaskExecution(this IHostApplicationBuilder builder)
    {
        builder.AddValidatedOptions<TaskExecutionOptions>(TaskExecutionOptions.Section);
        builder.AddSandbox();
        builder.Services.AddSingleton<DeviceKey>();
        builder.Services.AddSingleton<ManifestVerifier>();
        builder.Services.AddSingleton<TaskExecutor>();
        return builder;
    }

    /// <summary>
    /// The ONNX Runtime embedding model (on unless <c>Inference:Embeddings:Enabled</c> is false) and the HAT's LLM server
    /// (when <c>Inference:Hailo:BaseUrl</c> is set), each behind its queue.
    /// </summary>
    public static IHostApplicationBuilder AddInferenceBackends(this IHostApplicationBuilder builder)
    {
        builder.AddValidatedOptions<InferenceQueueOptions>(InferenceQueueOptions.Section);
        builder.Services.AddSingleton<InferenceMetrics>();
        builder.Services.AddSingleton<DeviceInference>();

        var onnx = builder.AddValidatedOptions<OnnxEmbeddingOptions>(OnnxEmbeddingOptions.Section);
        if (onnx.Enabled)
        {
            builder.Services.AddSingleton<IEmbeddingBackend>(services =>
                new OnnxEmbeddingBackend(onnx, services.GetRequiredService<ILogger<OnnxEmbeddingBackend>>()));
        }

        var hailo = builder.AddValidatedOptions<HailoOllamaOptions>(HailoOllamaOptions.Section);
        if (hailo.BaseUrl is not null)
        {
            builder.Services.AddSingleton<IGenerationBackend>(services => new HailoOllamaBackend(
                new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }),
                services.GetRequiredService<IOptions<HailoOllamaOptions>>(),
                services.GetRequiredService<ILogger<HailoOllamaBackend>>()));
        }

        return builder;
    }
}
