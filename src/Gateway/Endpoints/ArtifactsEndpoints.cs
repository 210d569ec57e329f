using System.Security.Claims;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Outpost.Execution.Artifacts;
using Outpost.Gateway.Contracts;
using Outpost.Gateway.Errors;
using Outpost.Gateway.Security;
using Outpost.Identity;

namespace Outpost.Gateway.Endpoints;

public static class ArtifactsEndpoints
{
    public static IEndpointRouteBuilder MapArtifactsApi(this IEndpointRouteBuilder endpoints)
    {
        var artifacts = endpoints.MapGroup("/v1/artifacts").WithTags("Artifacts");
        artifacts.MapPut("/", UploadAsync).RequireAuthorization(Scopes.CodeExecute)
            .WithName("UploadArtifact").WithSummary("Uploads an artifact (streamed, any content type) and answers its sha256: digest.");
        artifacts.MapGet("/{digest}", DownloadAsync).RequireAuthorization(Scopes.TasksRead)
            .WithName("DownloadArtifact").WithSummary("Downloads an artifact this tenant uploaded or one of its runs produced.");
        return endpoints;
    }

    public static async Task<Created<ArtifactResponse>> UploadAsync(
        IArtifactStore store, IOptions<ArtifactStoreOptions> options, HttpContext context, CancellationToken cancellationToken)
    {
        var caller = CallerContext.From(context.User);
        // The store counts the bytes and stops at the limit; Kestrel's own cap is lifted for this request only, so that
        // an upload is refused by the store's rule with a problem naming it.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = options.Value.MaxArtifactBytes + 1;
        }

        if (context.Request.ContentLength is { } declared && declared > options.Value.MaxArtifactBytes)
        {
            throw TooLarge($"The artifact is {declared} bytes; an artifact may have at most {options.Value.MaxArtifactBytes}.");
        }

        try
        {
            var artifact = await store.PutAsync(caller.Tenant, context.Request.Body, ArtifactInfo.Uploaded, caller.Subject, cancellationToken);
            return TypedResults.Created($"/v1/artifacts/{artifact.Digest}", new ArtifactResponse(artifact.Digest, artifact.Size, artifact.Origin, artifact.CreatedAt));
        }
        catch (ArtifactTooLargeException ex)
        {
            throw TooLarge(ex.Message);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw TooLarge($"An artifact may have at most {options.Value.MaxArtifactBytes} bytes.");
        }
    }

    public static async Task DownloadAsync(string digest, IArtifactStore store, ClaimsPrincipal user, HttpContext context, CancellationToken cancellationToken)
    {
        var caller = CallerContext.From(user);
        var artifact = (ArtifactDigest.IsValid(digest) ? await store.FindAsync(caller.Tenant, digest, cancellationToken) : null)
            ?? throw new ProblemException(StatusCodes.Status404NotFound, "artifact-not-found", "Artifact not found", $"This tenant has no artifact {digest}.");
        context.Response.ContentType = "application/octet-stream";
        context.Response.ContentLength = artifact.Size;
        context.Response.Headers.ETag = $"\"{artifact.Digest}\"";
        context.Response.Headers["Digest"] = "sha-256=" + Convert.ToBase64String(Convert.FromHexString(ArtifactDigest.Hex(artifact.Digest)));
        await store.CopyToAsync(artifact.Digest, context.Response.Body, cancellationToken);
    }

    private static ProblemException TooLarge(string detail) =>
        new(StatusCodes.Status413PayloadTooLarge, "artifact-too-large", "Artifact too large", detail);
}
