using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using Outpost.Grains.TaskRuns;

namespace Outpost.Gateway.Tasks;

/// <summary>
/// The HTML of the approval page: sign-in, the pending runs of the admin's tenant with what each would run, and a
/// decision form per run. Every value is HTML-encoded; the page loads nothing and runs no script, which its
/// Content-Security-Policy enforces.
/// </summary>
public static class ApprovalPageHtml
{
    public const string ContentSecurityPolicy =
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    public static string SignIn(string antiforgeryField, string antiforgeryToken, string? tenant, string? username, string? error)
    {
        var html = Begin("Approve tasks: sign in");
        Error(html, error);
        html.Append("<form method=\"post\" action=\"/approvals/login\" autocomplete=\"off\">\n");
        Hidden(html, antiforgeryField, antiforgeryToken);
        Field(html, "tenant", "Tenant", "text", tenant);
        Field(html, "username", "Tenant admin username", "text", username);
        Field(html, "password", "Password", "password", null);
        html.Append("<p><button type=\"submit\" id=\"sign-in\">Sign in</button></p>\n</form>\n");
        return End(html);
    }

    public static string Pending(
        string antiforgeryField, string antiforgeryToken, string tenant, string username, string subject, IReadOnlyList<TaskRunSnapshot> runs, string? notice, string? error)
    {
        var html = Begin("Tasks waiting for approval");
        html.Append("<p>Signed in as <b>").Append(Encode(username)).Append("</b>, tenant admin of <b>").Append(Encode(tenant)).Append("</b>.</p>\n");
        html.Append("<form method=\"post\" action=\"/approvals/logout\">");
        Hidden(html, antiforgeryField, antiforgeryToken);
        html.Append("<button type=\"submit\" id=\"sign-out\">Sign out</button></form>\n");
        if (notice is not null)
        {
            html.Append("<p class=\"notice\" role=\"status\" id=\"notice\">").Append(Encode(notice)).Append("</p>\n");
        }

        Error(html, error);
        if (runs.Count == 0)
        {
            html.Append("<p id=\"empty\">Nothing is waiting for a decision.</p>\n");
        }

        foreach (var run in runs)
        {
            var spec = run.Spec!;
            var own = string.Equals(spec.RequestedBy, subject, StringComparison.Ordinal);
            html.Append("<section class=\"run\" id=\"").Append(Encode(run.RunId)).Append("\">\n<h2>").Append(Encode(spec.Kind)).Append(" <small>")
                .Append(Encode(run.RunId)).Append("</small></h2>\n<dl>")
                .Append("<dt>Command</dt><dd><code>").Append(Encode(string.Join(' ', spec.Argv.Select(Quote)))).Append("</code></dd>")
                .Append("<dt>Requested by</dt><dd>").Append(Encode(spec.RequestedBy)).Append(" (client ").Append(Encode(spec.ClientId)).Append(")</dd>")
                .Append("<dt>Why it waits</dt><dd>policy rule ").Append(Encode(spec.PolicyRule)).Append(", needs ")
                .Append(spec.Approval == TaskApproval.TenantAdmin ? "a tenant admin" : "a person who decides approvals").Append("</dd>")
                .Append("<dt>Inputs</dt><dd>").Append(spec.Inputs.Count == 0 ? "none" : Encode(string.Join(", ", spec.Inputs.Select(i => $"{i.Digest[..19]}… → {i.Path}")))).Append("</dd>")
                .Append("<dt>Caps</dt><dd>").Append(Encode(string.Create(CultureInfo.InvariantCulture,
                    $"{spec.Limits.WallSeconds} s wall, {spec.Limits.CpuSeconds} s CPU, {spec.Limits.MemoryBytes / (1024 * 1024)} MB, {spec.Limits.Processes} processes, network {spec.Network}")))
                .Append("</dd><dt>Expires</dt><dd>").Append(Encode(run.ApprovalExpiresAt?.ToString("u", CultureInfo.InvariantCulture) ?? "never")).Append("</dd></dl>\n");
            if (own)
            {
                html.Append("<p class=\"own\">You requested this run; someone else must decide it.</p>\n");
            }
            else
            {
                html.Append("<form method=\"post\" action=\"/approvals/decide\">\n");
                Hidden(html, antiforgeryField, antiforgeryToken);
                Hidden(html, "run_id", run.RunId);
                html.Append("<label>Reason <input name=\"reason\" maxlength=\"1000\"></label>\n")
                    .Append("<button type=\"submit\" name=\"decision\" value=\"approve\" class=\"approve\">Approve</button> ")
                    .Append("<button type=\"submit\" name=\"decision\" value=\"reject\" class=\"reject\">Reject</button>\n</form>\n");
            }

            html.Append("</section>\n");
        }

        return End(html);
    }

    public static string Message(string title, string message)
    {
        var html = Begin(title);
        html.Append("<p>").Append(Encode(message)).Append("</p><p><a href=\"/approvals\">Back</a></p>\n");
        return End(html);
    }

    private static StringBuilder Begin(string title) =>
        new StringBuilder().Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
            .Append("<title>Outpost: ").Append(Encode(title)).Append("</title>")
            .Append("<style>body{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem}")
            .Append("label{display:block;margin-top:.6rem}input{padding:.4rem;font-size:1rem}.error{color:#a00}.notice{color:#060}")
            .Append(".run{border:1px solid #ccc;border-radius:.4rem;padding:.5rem 1rem;margin:1rem 0}dt{font-weight:bold}")
            .Append("button{margin-top:.6rem;padding:.4rem 1rem}code{white-space:pre-wrap}</style></head><body>\n")
            .Append("<h1>").Append(Encode(title)).Append("</h1>\n");

    private static string End(StringBuilder html) => html.Append("</body></html>\n").ToString();

    private static void Error(StringBuilder html, string? error)
    {
        if (error is not null)
        {
            html.Append("<p class=\"error\" role=\"alert\" id=\"error\">").Append(Encode(error)).Append("</p>\n");
        }
    }

    private static void Hidden(StringBuilder html, string name, string value) =>
        html.Append("<input type=\"hidden\" name=\"").Append(Encode(name)).Append("\" value=\"").Append(Encode(value)).Append("\">\n");

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

    private static string Quote(string arg) => arg.Length > 0 && arg.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=:,+@%".Contains(c, StringComparison.Ordinal)) ? arg : $"'{arg.Replace("'", "'\\''", StringComparison.Ordinal)}'";

    private static string Encode(string value) => HtmlEncoder.Default.Encode(value);
}
