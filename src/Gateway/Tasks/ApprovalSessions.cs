using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;

namespace Outpost.Gateway.Tasks;

/// <summary>
/// The approval page's sign-in: after a tenant admin's password checks out, a cookie holding the tenant and username,
/// encrypted and authenticated by ASP.NET Core Data Protection, valid for <see cref="Lifetime"/>. HttpOnly,
/// SameSite=Strict, Secure over HTTPS, and scoped to <c>/approvals</c>; every form on the page also carries an
/// antiforgery token. The key ring is the process's own: a restarted gateway signs everyone out.
/// </summary>
public sealed class ApprovalSessions(IDataProtectionProvider protection)
{
    public const string CookieName = "outpost_approvals";
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(30);

    private readonly ITimeLimitedDataProtector _protector = protection.CreateProtector("outpost.approvals.session/v1").ToTimeLimitedDataProtector();

    public void SignIn(HttpContext context, string tenant, string username)
    {
        ArgumentNullException.ThrowIfNull(context);
        var value = _protector.Protect($"{tenant}\n{username}", Lifetime);
        context.Response.Cookies.Append(CookieName, value, new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Secure = context.Request.IsHttps,
            Path = "/approvals",
            MaxAge = Lifetime,
            IsEssential = true,
        });
    }

    public static void SignOut(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.Cookies.Delete(CookieName, new CookieOptions { Path = "/approvals" });
    }

    /// <summary>The signed-in admin, or null when there is no valid, unexpired session.</summary>
    public (string Tenant, string Username)? Current(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!context.Request.Cookies.TryGetValue(CookieName, out var value) || string.IsNullOrEmpty(value))
        {
            return null;
        }

        try
        {
            var parts = _protector.Unprotect(value).Split('\n');
            return parts.Length == 2 ? (parts[0], parts[1]) : null;
        }
        catch (CryptographicException)
        {
            return null;
        }
    }
}
