using Microsoft.Extensions.DependencyInjection.Extensions;
using Outpost.Identity.Clients;
using Outpost.Identity.DeviceFlow;
using Outpost.Identity.Endpoints;
using Outpost.Identity.SigningKeys;
using Outpost.Identity.Tenants;
using Outpost.Identity.Tokens;
using Outpost.ServiceDefaults.Configuration;
using Outpost.ServiceDefaults.Security;

namespace Outpost.Identity;

public static class IdentityExtensions
{
    /// <summary>
    /// Registers Outpost's authorization server: the <c>Security</c> options, the master key that seals the signing
    /// keys (<see cref="MasterKeyExtensions.AddMasterKey"/>), the stores (tenants, tenant admins, clients, device
    /// assignments, device codes, signing keys), the token issuer, the signing key refresher, and antiforgery for the
    /// device approval page; <see cref="SigningKeyStore"/> becomes the <see cref="IValidationKeySource"/>. The gateway
    /// hosts it and maps <see cref="OAuthEndpoints.MapOAuthApi"/>; the admin CLI uses its stores. Needs the
    /// <see cref="Npgsql.NpgsqlDataSource"/> that the database setup registers.
    /// </summary>
    public static IHostApplicationBuilder AddOutpostIdentity(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddValidatedOptions<SecurityOptions>(SecurityOptions.Section);
        builder.AddValidatedOptions<SigningKeyOptions>(SigningKeyOptions.Section);
        builder.AddValidatedOptions<DeviceFlowOptions>(DeviceFlowOptions.Section);
        builder.AddMasterKey();

        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton<SigningKeyStore>();

        // Outpost's own keys verify its tokens, in this process and in any that calls AddOutpostTokenValidation.
        builder.Services.TryAddSingleton<IValidationKeySource>(services => services.GetRequiredService<SigningKeyStore>());
        builder.Services.AddSingleton<TokenIssuer>();
        builder.Services.AddSingleton<TenantStore>();
        builder.Services.AddSingleton<ClientStore>();
        builder.Services.AddSingleton<TenantAdminStore>();
        builder.Services.AddSingleton<Logins.LoginThrottle>();
        builder.Services.AddSingleton<DeviceAssignmentStore>();
        builder.Services.AddSingleton<DeviceCodeStore>();
        builder.Services.TryAddSingleton<DisabledClients>();
        builder.Services.AddHostedService<SigningKeyRefreshService>();
        builder.Services.AddAntiforgery(o =>
        {
            // One antiforgery cookie for the server-rendered pages people use: the device approval page and the
            // gateway's task approval page (the options are per application, not per page).
            o.Cookie.Name = "outpost-csrf";
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.Path = "/";
            o.FormFieldName = "csrf_token";
        });
        return builder;
    }
}
