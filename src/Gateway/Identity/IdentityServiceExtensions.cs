using Microsoft.Extensions.DependencyInjection.Extensions;
using Outpost.Gateway.Security;
using Outpost.ServiceDefaults.Configuration;
using Outpost.ServiceDefaults.Security;

namespace Outpost.Gateway.Identity;

public static class IdentityServiceExtensions
{
    /// <summary>
    /// Registers Outpost's authorization server: the master key (loaded now, so a bad <c>Security:MasterKeyFile</c>
    /// stops the process at start), the stores, the token issuer, the signing key refresher, and antiforgery for the
    /// device approval page; <see cref="SigningKeyStore"/> becomes the <see cref="IValidationKeySource"/>. Needs the
    /// <see cref="Npgsql.NpgsqlDataSource"/> the cluster client registers.
    /// </summary>
    public static WebApplicationBuilder AddOutpostIdentity(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var security = builder.AddValidatedOptions<SecurityOptions>(SecurityOptions.Section);
        builder.AddValidatedOptions<SigningKeyOptions>(SigningKeyOptions.Section);
        builder.AddValidatedOptions<DeviceFlowOptions>(DeviceFlowOptions.Section);

        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(MasterKey.Load(security.MasterKeyFile, security.CreateMasterKeyFile));
        builder.Services.AddSingleton<SigningKeyStore>();

        // Outpost's own keys verify its tokens (replacing the authentication setup's empty placeholder if it came first).
        builder.Services.AddSingleton<IValidationKeySource>(services => services.GetRequiredService<SigningKeyStore>());
        builder.Services.AddSingleton<TokenIssuer>();
        builder.Services.AddSingleton<TenantStore>();
        builder.Services.AddSingleton<ClientStore>();
        builder.Services.AddSingleton<TenantAdminStore>();
        builder.Services.AddSingleton<DeviceAssignmentStore>();
        builder.Services.AddSingleton<DeviceCodeStore>();
        builder.Services.AddHostedService<SigningKeyRefreshService>();
        builder.Services.AddAntiforgery(o =>
        {
            o.Cookie.Name = "outpost-device-csrf";
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.Path = Endpoints.OAuthEndpoints.DevicePath;
            o.FormFieldName = "csrf_token";
        });
        return builder;
    }
}
