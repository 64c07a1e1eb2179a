namespace Ctm.ServiceDefaults.Http;

/// <summary>
/// Base URLs of the services' public HTTP APIs, bound from the <c>Services</c> section. A service uses its
/// own entry to build claim-check locations that others can fetch.
/// </summary>
public sealed class ServiceUrls
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Services";

    /// <summary>Ingest's base URL.</summary>
    public Uri? Ingest { get; set; }

    /// <summary>Validator's base URL.</summary>
    public Uri? Validator { get; set; }

    /// <summary>Trainer's base URL.</summary>
    public Uri? Trainer { get; set; }

    /// <summary>Registry's base URL.</summary>
    public Uri? Registry { get; set; }

    /// <summary>Predictor's base URL.</summary>
    public Uri? Predictor { get; set; }

    /// <summary>The URL of <paramref name="service"/>, or an error naming the missing setting.</summary>
    public static Uri Require(Uri? url, string service) =>
        url ?? throw new InvalidOperationException($"The setting Services:{service} (env Services__{service}) is missing: it must be {service}'s base URL.");
}
