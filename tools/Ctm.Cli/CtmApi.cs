using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Ctm.Cli;

/// <summary>The services' HTTP APIs, with their failures turned into <see cref="CliException"/>s that say what to do next.</summary>
public sealed class CtmApi(CliSettings settings, HttpClient http)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public CliSettings Settings => settings;

    public Task<JsonElement> GetAsync(string service, string path, CancellationToken ct, string? notFound = null) =>
        SendAsync(service, new HttpRequestMessage(HttpMethod.Get, new Uri(settings[service], path)), ct, notFound);

    public Task<JsonElement> PostAsync(string service, string path, object body, CancellationToken ct, string? notFound = null) =>
        SendAsync(service, new HttpRequestMessage(HttpMethod.Post, new Uri(settings[service], path)) { Content = JsonContent.Create(body, options: Json) }, ct, notFound);

    /// <summary>Sends <paramref name="request"/>; a 404 becomes <see cref="ExitCodes.NotFound"/> with <paramref name="notFound"/> as the message when given.</summary>
    public async Task<JsonElement> SendAsync(string service, HttpRequestMessage request, CancellationToken ct, string? notFound = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        // Set per request rather than on the client: the same client may also talk to RabbitMQ's management API.
        if (settings.ApiKey is { } key)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("ApiKey", key);
        }

        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        }
        catch (HttpRequestException e)
        {
            throw Unreachable(service, e.Message);
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            throw Unreachable(service, $"no answer within {http.Timeout.TotalSeconds:0} s");
        }

        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(ct);
            var body = TryParse(text);
            if (response.IsSuccessStatusCode)
            {
                return body ?? JsonDocument.Parse("null").RootElement;
            }

            var detail = Detail(body) ?? (text.Length > 0 ? text : response.ReasonPhrase ?? "no detail");
            throw response.StatusCode switch
            {
                HttpStatusCode.Unauthorized => new CliException(ExitCodes.Unauthorized,
                    settings.ApiKey is null ? $"{service} needs an API key and none is set." : $"{service} does not know the API key in {CliSettings.ApiKeyVariable} (or \"apiKey\" in the config file).",
                    $"Set {CliSettings.ApiKeyVariable} to a key with the role this command needs (export {CliSettings.ApiKeyVariable}=$(cat .ctm/keys/operator.key) after ./ctm demo), or put it as \"apiKey\" in ~/.config/ctm/config.json.", body),
                HttpStatusCode.Forbidden => new CliException(ExitCodes.Unauthorized, $"{service} refused this key: {detail}",
                    $"Use a key with the role named ({CliSettings.ApiKeyVariable}): operators release, discard, roll back and change policies; producers ingest; readers query.", body),
                HttpStatusCode.NotFound => new CliException(ExitCodes.NotFound, notFound ?? $"{service}: {detail}", "Check the name or id (list them with ./ctm batches DATASET or ./ctm versions DATASET).", body),
                HttpStatusCode.BadRequest or HttpStatusCode.Conflict or HttpStatusCode.UnprocessableEntity or HttpStatusCode.RequestEntityTooLarge
                    => new CliException(ExitCodes.Refused, $"{service} refused: {detail}", "Nothing was changed; fix what the message names and run the command again.", body),
                _ => new CliException(ExitCodes.Failed, $"{service} failed ({(int)response.StatusCode}): {detail}", $"See the {service}'s log; the request can be repeated.", body),
            };
        }
    }

    public CliException Unreachable(string service, string why) =>
        new(ExitCodes.Unreachable, $"{service} at {settings[service]} does not answer ({why}).",
            $"Start the system (./ctm demo) or point CTM_{service.ToUpperInvariant()}_URL (or \"{service.ToLowerInvariant()}\" in ~/.config/ctm/config.json) at it.");

    private static JsonElement? TryParse(string text)
    {
        if (text.Length == 0)
        {
            return null;
        }

        try
        {
            using var doc = JsonDocument.Parse(text);
            return doc.RootElement.Clone();
        }
        catch (JsonException)
        {
            return null;
        }
    }

    // Problem details (title, detail) or a service's own {message} answer.
    private static string? Detail(JsonElement? body)
    {
        if (body is not { ValueKind: JsonValueKind.Object } b)
        {
            return null;
        }

        var detail = b.TryGetProperty("detail", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString()
            : b.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
        var title = b.TryGetProperty("title", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
        return (title, detail) switch
        {
            (null, null) => null,
            (null, _) => detail,
            (_, null) => title,
            _ => $"{title}: {detail}",
        };
    }
}
