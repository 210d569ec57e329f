using System.Text;
using System.Text.Encodings.Web;

namespace Outpost.Identity.DeviceFlow;

/// <summary>
/// The HTML of the device approval page. Every value that reaches the page is HTML-encoded; the page loads nothing
/// and runs no script, which its Content-Security-Policy enforces.
/// </summary>
public static class DeviceApprovalPage
{
    public const string ContentSecurityPolicy =
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    /// <summary>The form; <paramref name="request"/> describes the code when it is known.</summary>
    public static string Form(
        string action,
        string antiforgeryField,
        string antiforgeryToken,
        string? userCode,
        string? tenant,
        string? username,
        DeviceCodeInfo? request,
        string? clientName,
        string? error)
    {
        var html = new StringBuilder();
        Begin(html, "Sign in a device");
        if (error is not null)
        {
            html.Append("<p class=\"error\" role=\"alert\">").Append(Encode(error)).Append("</p>\n");
        }

        if (request is not null)
        {
            html.Append("<p>").Append(Encode(clientName ?? request.ClientId)).Append(" asks for: <code>")
                .Append(Encode(request.Scopes.Count == 0 ? "(no scopes)" : ScopeList.Format(request.Scopes)))
                .Append("</code></p>\n");
        }

        html.Append("<form method=\"post\" action=\"").Append(Encode(action)).Append("\" autocomplete=\"off\">\n")
            .Append("<input type=\"hidden\" name=\"").Append(Encode(antiforgeryField)).Append("\" value=\"").Append(Encode(antiforgeryToken)).Append("\">\n");
        Field(html, "user_code", "Code shown on your device", "text", userCode);
        Field(html, "tenant", "Tenant", "text", tenant);
        Field(html, "username", "Admin username", "text", username);
        Field(html, "password", "Password", "password", null);
        html.Append("<p><button type=\"submit\" name=\"decision\" value=\"approve\">Approve</button> ")
            .Append("<button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button></p>\n</form>\n");
        return End(html);
    }

    /// <summary>A page that only says something (approved, denied, failed).</summary>
    public static string Message(string title, string message)
    {
        var html = new StringBuilder();
        Begin(html, title);
        html.Append("<p>").Append(Encode(message)).Append("</p>\n");
        return End(html);
    }

    private static void Begin(StringBuilder html, string title) =>
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
            .Append("<title>Outpost: ").Append(Encode(title)).Append("</title>")
            .Append("<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}")
            .Append("label{display:block;margin-top:.8rem}input{width:100%;padding:.4rem;font-size:1rem}")
            .Append(".error{color:#a00}button{margin-top:1rem;padding:.5rem 1rem}</style></head><body>\n")
            .Append("<h1>").Append(Encode(title)).Append("</h1>\n");

    private static string End(StringBuilder html) => html.Append("</body></html>\n").ToString();

    private static void Field(StringBuilder html, string name, string label, string type, string? value)
    {
        html.Append("<label for=\"").Append(name).Append("\">").Append(Encode(label)).Append("</label>")
            .Append("<input id=\"").Append(name).Append("\" name=\"").Append(name).Append("\" type=\"").Append(type).Append('"');
        if (value is not null)
        {
            html.Append(" value=\"").Append(Encode(value)).Append('"');
        }

        html.Append(" required>\n");
    }

    private static string Encode(string value) => HtmlEncoder.Default.Encode(value);
}
