using System.ComponentModel.DataAnnotations;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Outpost.ServiceDefaults.Configuration;

/// <summary>Binds and validates an options section while the host is being built.</summary>
public static partial class ConfigurationBinding
{
    /// <summary>
    /// Registers <typeparamref name="TOptions"/> for injection (validated on start) and returns its value now, already
    /// validated: cluster endpoints and similar settings are needed while the host is still being composed.
    /// </summary>
    public static TOptions AddValidatedOptions<TOptions>(this IHostApplicationBuilder builder, string section)
        where TOptions : class, new()
    {
        builder.Services.AddOptions<TOptions>()
            .BindConfiguration(section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        return builder.Configuration.GetValidated<TOptions>(section);
    }

    /// <summary>Binds <paramref name="section"/> and throws a one-line <see cref="StartupConfigurationException"/> on the first problem.</summary>
    public static TOptions GetValidated<TOptions>(this IConfiguration configuration, string section)
        where TOptions : class, new()
    {
        TOptions options;
        try
        {
            options = configuration.GetSection(section).Get<TOptions>() ?? new TOptions();
        }
        catch (InvalidOperationException ex)
        {
            // The binder's message quotes the offending value, which may be a secret: name the key and type only.
            var key = BinderKey().Match(ex.Message) is { Success: true } k ? k.Groups[1].Value : section;
            var type = BinderType().Match(ex.Message) is { Success: true } t ? t.Groups[1].Value.Replace("System.", "", StringComparison.Ordinal) : "the expected type";
            throw new StartupConfigurationException($"{key}: the value is not a valid {type}.", ex);
        }

        var results = new List<ValidationResult>();
        if (!Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true))
        {
            var first = results[0];
            var member = first.MemberNames.FirstOrDefault();
            var key = member is null ? section : $"{section}:{member}";
            throw new StartupConfigurationException($"{key}: {first.ErrorMessage}");
        }

        return options;
    }

    [GeneratedRegex(@" at '([^']+)'")]
    private static partial Regex BinderKey();

    [GeneratedRegex(@" to type '([^']+)'")]
    private static partial Regex BinderType();
}
