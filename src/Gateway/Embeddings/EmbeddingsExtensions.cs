using Outpost.ServiceDefaults.Configuration;

namespace Outpost.Gateway.Embeddings;

public static class EmbeddingsExtensions
{
    /// <summary>The embeddings route's services: its options, the cluster cache's client and the service that routes misses.</summary>
    public static WebApplicationBuilder AddEmbeddings(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddValidatedOptions<EmbeddingsOptions>(EmbeddingsOptions.Section);
        builder.AddValidatedOptions<EmbeddingCacheClientOptions>(EmbeddingCacheClientOptions.Section);
        builder.Services.AddSingleton<EmbeddingCache>();
        builder.Services.AddSingleton<EmbeddingService>();
        return builder;
    }
}
