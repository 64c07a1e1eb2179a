namespace Ctm.ServiceDefaults.Http;

/// <summary>The bytes at a claim-check location are not the ones the message announced.</summary>
public sealed class ClaimCheckMismatchException(string location, string actual, string expected)
    : IOException($"The content at {location} has SHA-256 {actual}, not the announced {expected}")
{
    /// <summary>The location fetched.</summary>
    public string Location { get; } = location;

    /// <summary>The SHA-256 of what was fetched.</summary>
    public string Actual { get; } = actual;

    /// <summary>The SHA-256 the message announced.</summary>
    public string Expected { get; } = expected;
}
