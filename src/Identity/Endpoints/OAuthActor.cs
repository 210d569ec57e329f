namespace Outpost.Identity.Endpoints;

/// <summary>
/// Who an authorization-server request acted as, once the server knows: the tenant, the client and the subject. These
/// requests carry no bearer token, so without this their audit events would only have an address; the gateway's audit
/// middleware reads it (an HTTP feature) and writes the event to that tenant's log.
/// </summary>
public sealed record OAuthActor(string Tenant, string ClientId, string Subject)
{
    /// <summary>The actor recorded for <paramref name="context"/>, or null.</summary>
    public static OAuthActor? Of(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Features.Get<OAuthActor>();
    }

    internal static void Set(HttpContext context, string tenant, string clientId, string subject) =>
        context.Features.Set(new OAuthActor(tenant, clientId, subject));
}
