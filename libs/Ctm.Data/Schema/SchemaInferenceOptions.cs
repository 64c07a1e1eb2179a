namespace Ctm.Data.Schema;

/// <summary>How <see cref="DataSchema.Infer"/> turns statistics into a first schema.</summary>
public sealed record SchemaInferenceOptions
{
    /// <summary>Defaults.</summary>
    public static SchemaInferenceOptions Default { get; } = new();

    /// <summary>
    /// A categorical column with more distinct values than this gets no domain (free text). Columns with hundreds of
    /// values that repeat keep theirs, so that a renamed value can be told from a new one; identifiers (nearly every
    /// value seen once) never get one.
    /// </summary>
    public int MaxDomainSize { get; init; } = 10_000;

    /// <summary>True to record the observed numeric range.</summary>
    public bool InferRanges { get; init; } = true;

    /// <summary>
    /// Out-of-range allowance per inferred range, as expected new extremes per observed row: a fresh value falls
    /// outside the sample's range with probability about 2/(n+1), so the allowance is this over n (capped at 10%).
    /// </summary>
    public double RangeExceedanceRows { get; init; } = 10;
}
