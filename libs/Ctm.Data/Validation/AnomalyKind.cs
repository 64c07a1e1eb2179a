namespace Ctm.Data.Validation;

/// <summary>What is wrong with a batch.</summary>
public enum AnomalyKind
{
    /// <summary>A column the schema requires is absent.</summary>
    MissingColumn,

    /// <summary>The batch has a column the schema does not know.</summary>
    UnexpectedColumn,

    /// <summary>Values of a numeric column are not numbers.</summary>
    TypeMismatch,

    /// <summary>Fewer rows carry a value than the schema requires.</summary>
    PresenceBelowRequired,

    /// <summary>More values fall outside the domain than the schema allows.</summary>
    OutOfDomain,

    /// <summary>More values fall outside the range than the schema allows.</summary>
    OutOfRange,

    /// <summary>NaN or infinite values where the schema allows none.</summary>
    NonFiniteValues,

    /// <summary>Rows without a label.</summary>
    MissingLabels,

    /// <summary>The batch's row count is far from the usual.</summary>
    RowCount,

    /// <summary>The same bytes were ingested before.</summary>
    DuplicateBatch,

    /// <summary>A feature's distribution moved away from the recent accepted window.</summary>
    Drift,

    /// <summary>A feature's serving distribution differs from the training baseline.</summary>
    Skew,
}
