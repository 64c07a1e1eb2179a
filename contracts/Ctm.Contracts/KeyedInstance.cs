namespace Ctm.Contracts;

/// <summary>One instance of a <see cref="RequestPredictions"/>, with the key that comes back with its prediction.</summary>
public sealed record KeyedInstance
{
    /// <summary>The caller's key (any string; not interpreted).</summary>
    public required string Key { get; init; }
    /// <summary>The instance as a JSON object keyed by feature name, as in the HTTP <c>instances</c> array.</summary>
    public required string Json { get; init; }
}
