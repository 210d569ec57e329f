using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Outpost.Gateway.Contracts;
using Outpost.Gateway.Errors;
using Outpost.Identity;
using Outpost.Identity.Clients;
using Outpost.Identity.SigningKeys;
using Outpost.Identity.Tenants;

namespace Outpost.Gateway.Endpoints;

/// <summary>
/// The admin API (scope <c>admin</c>, attached by the caller of <see cref="MapAdminApi"/>). The caller's tenant comes
/// from the token: admins of the <c>system</c> tenant manage every tenant, any other admin only their own, and another
/// tenant's objects answer 404 exactly as missing ones do, so that ids reveal nothing.
/// </summary>
public static class AdminEndpoints
{
    /// <summary>Maps the admin endpoints and returns their group, for the authorization policy to be attached to.</summary>
    public static RouteGroupBuilder MapAdminApi(this IEndpointRouteBuilder endpoints)
    {
        var admin = endpoints.MapGroup("/v1/admin").WithTags("Admin");
        admin.MapPost("/tenants", CreateTenantAsync)
            .WithName("CreateTenant")
            .WithSummary("Creates a tenant (system admins only).");
        admin.MapGet("/tenants", ListTenantsAsync)
            .WithName("ListTenants")
            .WithSummary("Lists the tenants the caller manages.");
        admin.MapPost("/tenants/{tenant}/clients", CreateClientAsync)
            .WithName("CreateClient")
            .WithSummary("Registers an OAuth client; a confidential client's secret is in this response and nowhere else, ever.");
        admin.MapGet("/tenants/{tenant}/clients", ListClientsAsync)
            .WithName("ListClients")
            .WithSummary("Lists a tenant's clients (without secrets).");
        admin.MapPatch("/tenants/{tenant}/clients/{clientId}", UpdateClientAsync)
            .WithName("UpdateClient")
            .WithSummary("Changes a client's allowed scopes, or disables or enables it.");
        admin.MapPost("/tenants/{tenant}/admins", CreateAdminAsync)
            .WithName("CreateTenantAdmin")
            .WithSummary("Creates a tenant admin, who can approve device sign-ins for the tenant.");
        admin.MapPut("/devices/{deviceId}/assignment", AssignDeviceAsync)
            .WithName("AssignDevice")
            .WithSummary("Assigns an edge device to a tenant, or makes it shared with null (system admins only).");
        admin.MapGet("/keys", ListKeysAsync)
            .WithName("ListSigningKeys")
            .WithSummary("Lists the token signing keys (system admins only).");
        admin.MapPost("/keys/rotate", RotateKeysAsync)
            .WithName("RotateSigningKeys")
            .WithSummary("Makes a new signing key active; the previous one verifies until its tokens expire (system admins only).");
        admin.MapDelete("/keys/{kid}", RemoveKeyAsync)
            .WithName("RemoveSigningKey")
            .WithSummary("Removes a signing key at once: its tokens are refused from now on (system admins only).");
        return admin;
    }

    public static async Task<Created<TenantResponse>> CreateTenantAsync(
        CreateTenantRequest? request, ClaimsPrincipal user, TenantStore tenants, CancellationToken cancellationToken)
    {
        RequireSystem(user, "Only system administrators create tenants.");
        if (string.IsNullOrWhiteSpace(request?.TenantId))
        {
            throw ProblemException.BadRequest("tenant_id is required.");
        }

        var tenant = await Run(() => tenants.CreateAsync(request.TenantId, request.DisplayName, cancellationToken));
        return TypedResults.Created($"/v1/admin/tenants/{tenant.TenantId}", TenantResponse.From(tenant));
    }

    public static async Task<Ok<ListResponse<TenantResponse>>> ListTenantsAsync(
        ClaimsPrincipal user, TenantStore tenants, CancellationToken cancellationToken)
    {
        var caller = CallerTenant(user);
        var all = await tenants.ListAsync(cancellationToken);
        var visible = all.Where(t => caller == OutpostClaims.SystemTenant || t.TenantId == caller).Select(TenantResponse.From).ToList();
        return TypedResults.Ok(new ListResponse<TenantResponse>(visible));
    }

    public static async Task<Created<CreatedClientResponse>> CreateClientAsync(
        string tenant,
        CreateClientRequest? request,
        ClaimsPrincipal user,
        TenantStore tenants,
        ClientStore clients,
        CancellationToken cancellationToken)
    {
        await RequireManagedTenantAsync(user, tenant, tenants, cancellationToken);
        if (request is null)
        {
            throw ProblemException.BadRequest("The body must be a JSON object with name and allowed_scopes.");
        }

        var kind = request.Kind switch
        {
            null or ClientResponse.Confidential => ClientKind.Confidential,
            ClientResponse.Public => ClientKind.Public,
            _ => throw ProblemException.BadRequest("kind must be 'confidential' or 'public'."),
        };
        var created = await Run(() => clients.CreateAsync(
            tenant, request.Name ?? "", kind, request.AllowedScopes ?? [], request.CertificateThumbprint, cancellationToken));
        return TypedResults.Created(
            $"/v1/admin/tenants/{tenant}/clients/{created.Client.ClientId}",
            new CreatedClientResponse(ClientResponse.From(created.Client), created.Secret));
    }

    public static async Task<Ok<ListResponse<ClientResponse>>> ListClientsAsync(
        string tenant, ClaimsPrincipal user, TenantStore tenants, ClientStore clients, CancellationToken cancellationToken)
    {
        await RequireManagedTenantAsync(user, tenant, tenants, cancellationToken);
        var list = await clients.ListAsync(tenant, cancellationToken);
        return TypedResults.Ok(new ListResponse<ClientResponse>(list.Select(ClientResponse.From).ToList()));
    }

    public static async Task<Results<Ok<ClientResponse>, ProblemHttpResult>> UpdateClientAsync(
        string tenant,
        string clientId,
        UpdateClientRequest? request,
        ClaimsPrincipal user,
        TenantStore tenants,
        ClientStore clients,
        Outpost.Identity.Tokens.DisabledClients disabledClients,
        CancellationToken cancellationToken)
    {
        await RequireManagedTenantAsync(user, tenant, tenants, cancellationToken);
        if (request is null || (request.AllowedScopes is null && request.Disabled is null))
        {
            throw ProblemException.BadRequest("Send allowed_scopes, disabled, or both.");
        }

        var updated = await Run(() => clients.UpdateAsync(tenant, clientId, request.AllowedScopes, request.Disabled, cancellationToken));
        if (updated is not null && request.Disabled is { } disabled)
        {
            // This gateway refuses the client's tokens from now on; the others within their next key refresh.
            disabledClients.Set(updated.ClientId, disabled);
        }

        return updated is null
            ? Problems.NotFound("client-not-found", "Client not found", $"Tenant '{tenant}' has no client '{clientId}'.")
            : TypedResults.Ok(ClientResponse.From(updated));
    }

    public static async Task<Created<AdminResponse>> CreateAdminAsync(
        string tenant,
        CreateAdminRequest? request,
        ClaimsPrincipal user,
        TenantStore tenants,
        TenantAdminStore admins,
        CancellationToken cancellationToken)
    {
        await RequireManagedTenantAsync(user, tenant, tenants, cancellationToken);
        if (string.IsNullOrEmpty(request?.Username) || string.IsNullOrEmpty(request.Password))
        {
            throw ProblemException.BadRequest("username and password are required.");
        }

        await Run(async () =>
        {
            await admins.CreateAsync(tenant, request.Username, request.Password, cancellationToken);
            return true;
        });
        return TypedResults.Created($"/v1/admin/tenants/{tenant}/admins/{request.Username}", new AdminResponse(tenant, request.Username));
    }

    public static async Task<Ok<DeviceAssignmentResponse>> AssignDeviceAsync(
        string deviceId,
        DeviceAssignmentRequest? request,
        ClaimsPrincipal user,
        DeviceAssignmentStore assignments,
        CancellationToken cancellationToken)
    {
        RequireSystem(user, "Only system administrators assign devices to tenants.");
        if (request is null)
        {
            throw ProblemException.BadRequest("The body must be {\"tenant\": \"<tenant id>\"} or {\"tenant\": null} for a shared device.");
        }

        var assignment = await Run(() => assignments.SetAsync(deviceId, request.Tenant, cancellationToken));
        return TypedResults.Ok(DeviceAssignmentResponse.From(assignment));
    }

    public static async Task<Ok<ListResponse<SigningKeyResponse>>> ListKeysAsync(
        ClaimsPrincipal user, SigningKeyStore keys, CancellationToken cancellationToken)
    {
        RequireSystem(user, "Only system administrators manage signing keys.");
        var list = await keys.ListAsync(cancellationToken);
        return TypedResults.Ok(new ListResponse<SigningKeyResponse>(list.Select(SigningKeyResponse.From).ToList()));
    }

    public static async Task<Ok<SigningKeyResponse>> RotateKeysAsync(
        ClaimsPrincipal user, SigningKeyStore keys, CancellationToken cancellationToken)
    {
        RequireSystem(user, "Only system administrators manage signing keys.");
        var key = await keys.RotateAsync(cancellationToken);
        return TypedResults.Ok(SigningKeyResponse.From(key));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> RemoveKeyAsync(
        string kid, ClaimsPrincipal user, SigningKeyStore keys, CancellationToken cancellationToken)
    {
        RequireSystem(user, "Only system administrators manage signing keys.");
        return await keys.RemoveAsync(kid, cancellationToken)
            ? TypedResults.NoContent()
            : Problems.NotFound("signing-key-not-found", "Signing key not found", $"No signing key '{kid}' is in use.");
    }

    /// <summary>The tenant the caller's token was issued for.</summary>
    public static string CallerTenant(ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return user.FindFirst(OutpostClaims.Tenant)?.Value is { Length: > 0 } tenant
            ? tenant
            : throw new ProblemException(StatusCodes.Status403Forbidden, "no-tenant", "No tenant", "The access token names no tenant.");
    }

    internal static void RequireSystem(ClaimsPrincipal user, string detail)
    {
        if (CallerTenant(user) != OutpostClaims.SystemTenant)
        {
            throw new ProblemException(StatusCodes.Status403Forbidden, "system-admin-required", "System administrator required", detail);
        }
    }

    // Another tenant's name answers exactly like a tenant that does not exist.
    internal static async Task RequireManagedTenantAsync(ClaimsPrincipal user, string tenant, TenantStore tenants, CancellationToken cancellationToken)
    {
        var caller = CallerTenant(user);
        var visible = caller == OutpostClaims.SystemTenant || string.Equals(caller, tenant, StringComparison.Ordinal);
        if (!visible || !TenantStore.IsValidId(tenant) || await tenants.FindAsync(tenant, cancellationToken) is null)
        {
            throw new ProblemException(StatusCodes.Status404NotFound, "tenant-not-found", "Tenant not found", $"There is no tenant '{tenant}'.");
        }
    }

    private static async Task<T> Run<T>(Func<Task<T>> action)
    {
        try
        {
            return await action();
        }
        catch (IdentityStoreException ex)
        {
            throw ex.Error switch
            {
                IdentityError.NotFound => new ProblemException(StatusCodes.Status404NotFound, "not-found", "Not found", ex.Message),
                IdentityError.Conflict => new ProblemException(StatusCodes.Status409Conflict, "conflict", "Already exists", ex.Message),
                IdentityError.Busy => new ProblemException(StatusCodes.Status503ServiceUnavailable, "busy", "Busy", ex.Message, TimeSpan.FromSeconds(5)),
                _ => ProblemException.BadRequest(ex.Message),
            };
        }
    }
}
