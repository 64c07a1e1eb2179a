namespace Ctm.Data.Schema;

/// <summary>
/// When a distribution change counts as drift (or skew), per feature or for a whole dataset.
/// <para>
/// Drift is judged against the dataset's own history: every accepted batch records how far it was from its
/// reference window (<see cref="Drift.Measures"/>), and a new batch is compared with the spread of those
/// distances (median + k × scaled MAD, see <see cref="Drift.EmpiricalNull"/>). Batches of a real stream always
/// differ from each other (daily and weekly cycles, label-rate swings), so "different" is not enough: a batch
/// is blocked only when it is further from its reference than this dataset's batches ever usually are
/// (<see cref="BlockDeviations"/>), or moderately so over several batches (<see cref="PersistBatches"/>).
/// </para>
/// <para>
/// While the history is shorter than <see cref="MinHistory"/> batches the judgement is seeded leniently: only
/// gross changes block (a location moved by <see cref="SeedLocation"/> reference spreads, a spread scaled by
/// <see cref="SeedScale"/>), and the sample-size-aware chi-square test (<see cref="Significance"/> with the
/// effect floors) only warns. Skew (serving against a training baseline) still uses the test and floors.
/// </para>
/// </summary>
public sealed record DriftThresholds
{
    /// <summary>Defaults for drift: batch against the recent accepted window.</summary>
    public static DriftThresholds DefaultDrift { get; } = new();

    /// <summary>Defaults for skew: training baseline against serving statistics.</summary>
    public static DriftThresholds DefaultSkew { get; } = new();

    /// <summary>The p-value below which a difference is considered real (per feature; default 1e-4). Decides skew; for drift it only warns while history is short.</summary>
    public double Significance { get; init; } = 1e-4;

    /// <summary>The smallest Jensen–Shannon divergence (bits, 0 to 1) on shared bins that counts for a numeric feature.</summary>
    public double JensenShannonFloor { get; init; } = 0.01;

    /// <summary>The smallest L-infinity distance between category frequencies that counts for a categorical feature.</summary>
    public double LInfinityFloor { get; init; } = 0.03;

    /// <summary>False to switch the distribution checks off for the feature (schema checks, unseen values and unit changes still apply).</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>A measure this many robust standard deviations (1.4826 × MAD) above the historical median warns.</summary>
    public double WarnDeviations { get; init; } = 4;

    /// <summary>A measure this many robust standard deviations above the historical median blocks.</summary>
    public double BlockDeviations { get; init; } = 12;

    /// <summary>Accepted batches of history a measure needs before it is judged against its empirical null (before that, the seeded limits apply).</summary>
    public int MinHistory { get; init; } = 10;

    /// <summary>The most recent accepted batches whose measures form the empirical null.</summary>
    public int HistoryBatches { get; init; } = 30;

    /// <summary>
    /// A persistent shift blocks once the evidence of a measure (a one-sided CUSUM that adds each batch's deviations
    /// beyond <see cref="WarnDeviations"/> and drains by those below) reaches what this many batches each ¾ ×
    /// <see cref="WarnDeviations"/> beyond the warning level would add; 0 switches the rule off.
    /// </summary>
    public int PersistBatches { get; init; } = 4;

    /// <summary>
    /// A categorical domain is young until this many accepted batches in a row brought no value outside it; a young
    /// domain's new values never block by themselves unless they are most of the batch (<see cref="YoungUnseenBlockFloor"/>).
    /// </summary>
    public int SettleBatches { get; init; } = 3;

    /// <summary>The least share of values outside a settled feature domain that blocks (a renamed or replaced category).</summary>
    public double UnseenBlockFloor { get; init; } = 0.1;

    /// <summary>The least share of values outside a young domain, or outside the label's domain (a new class is allowed to arrive), that blocks.</summary>
    public double YoungUnseenBlockFloor { get; init; } = 0.5;

    /// <summary>The least share of values outside a numeric column's range that blocks (below it the range widens with a warning).</summary>
    public double OutOfRangeBlockFloor { get; init; } = 0.25;

    /// <summary>While history is short: a median moved by this many reference spreads (IQR) blocks.</summary>
    public double SeedLocation { get; init; } = 5;

    /// <summary>While history is short: a spread (IQR) this many times larger or smaller than the reference's blocks (a unit change).</summary>
    public double SeedScale { get; init; } = 5;

    /// <summary>True when the change is both statistically real and larger than the effect floor.</summary>
    public bool Exceeds(Drift.DriftResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var floor = result.Type == ColumnType.Numeric ? JensenShannonFloor : LInfinityFloor;
        return Enabled && result.PValue < Significance && result.Distance >= floor;
    }
}
