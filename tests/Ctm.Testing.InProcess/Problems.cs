using System.Net;
using System.Text.Json;

namespace Ctm.Testing.InProcess;

/// <summary>An RFC 9457 problem as the services answer one: what a client shows its user.</summary>
public sealed record Problem(int Status, string Title, string Detail, JsonElement Body)
{
    /// <summary>An extension member (<c>line</c>, <c>column</c>, <c>field</c>), or null.</summary>
    public JsonElement? this[string name] => Body.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;
}

public static class Problems
{
    /// <summary>
    /// The problem in <paramref name="response"/>; fails, showing the body, unless it has status <paramref name="expected"/>,
    /// the problem media type, a title, and a detail or (a validation problem) errors by field.
    /// </summary>
    public static async Task<Problem> ProblemAsync(this HttpResponseMessage response, HttpStatusCode expected)
    {
        ArgumentNullException.ThrowIfNull(response);
        var text = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != expected)
        {
            throw new InvalidOperationException($"expected {(int)expected} {expected}, got {(int)response.StatusCode} {response.StatusCode}: {text}");
        }

        if (response.Content.Headers.ContentType?.MediaType != "application/problem+json")
        {
            throw new InvalidOperationException($"expected application/problem+json, got {response.Content.Headers.ContentType}: {text}");
        }

        var body = JsonDocument.Parse(text).RootElement;
        var detail = body.TryGetProperty("detail", out var d) ? d.GetString() : null;
        if (string.IsNullOrEmpty(detail) && !body.TryGetProperty("errors", out _))
        {
            throw new InvalidOperationException($"a problem that names nothing to fix (no detail, no errors): {text}");
        }

        return new Problem(
            (int)response.StatusCode,
            body.TryGetProperty("title", out var title) ? title.GetString() ?? "" : throw new InvalidOperationException($"no title: {text}"),
            detail ?? "",
            body);
    }
}
