using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Outpost.ServiceDefaults.Security;

public static class MasterKeyExtensions
{
    /// <summary>
    /// Registers the process's one <see cref="MasterKey"/>, read from <c>Security:MasterKeyFile</c> (created when missing
    /// only with <c>Security:CreateMasterKeyFile</c>). Every library that seals or opens private keys calls this; the
    /// first call decides, later ones change nothing. Services load it now, so that a bad key file stops them at start;
    /// the admin CLI passes <paramref name="loadWhenFirstUsed"/>, so that commands that need no key run without one.
    /// </summary>
    public static IHostApplicationBuilder AddMasterKey(this IHostApplicationBuilder builder, bool loadWhenFirstUsed = false)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (builder.Services.Any(service => service.ServiceType == typeof(MasterKey)))
        {
            return builder;
        }

        var file = builder.Configuration[MasterKey.FileKey];
        var create = builder.Configuration.GetValue<bool>(MasterKey.CreateKey);
        if (loadWhenFirstUsed)
        {
            builder.Services.AddSingleton(_ => MasterKey.Load(file, create));
        }
        else
        {
            builder.Services.AddSingleton(MasterKey.Load(file, create));
        }

        return builder;
    }
}
