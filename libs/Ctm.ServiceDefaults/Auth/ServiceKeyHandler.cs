using System.Net.Http.Headers;
using Ctm.ServiceDefaults.Http;
using Microsoft.Extensions.Options;

namespace Ctm.ServiceDefaults.Auth;

/// <summary>
/// Puts this service's own key (<c>Auth:ServiceKey</c> or <c>Auth:ServiceKeyPath</c>) on calls to the other Ctm services,
/// and only to them: a claim-check location can name any host, and the key must never leave for one that is not ours.
/// </summary>
public sealed class ServiceKeyHandler(IOptions<AuthOptions> auth, IOptions<ServiceUrls> urls) : DelegatingHandler
{
    private readonly Lazy<string?> _key = new(() => Read(auth.Value));

    /// <inheritdoc />
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (_key.Value is { } key && request.Headers.Authorization is null && request.RequestUri is { } uri && IsOurs(uri))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue(ApiKeyAuthenticationHandler.SchemeName, key);
        }

        return base.SendAsync(request, cancellationToken);
    }

    private bool IsOurs(Uri uri)
    {
        var u = urls.Value;
        return new[] { u.Ingest, u.Validator, u.Trainer, u.Registry, u.Predictor }
            .Any(s => s is not null && Uri.Compare(s, uri, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0);
    }

    internal static string? Read(AuthOptions options)
    {
        if (!string.IsNullOrWhiteSpace(options.ServiceKey))
        {
            return options.ServiceKey.Trim();
        }

        if (string.IsNullOrWhiteSpace(options.ServiceKeyPath))
        {
            return null;
        }

        try
        {
            return File.ReadAllText(options.ServiceKeyPath).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"Auth:ServiceKeyPath {options.ServiceKeyPath} cannot be read: {e.Message}", e);
        }
    }
}
