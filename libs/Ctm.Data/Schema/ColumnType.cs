namespace Ctm.Data.Schema;

/// <summary>How a column's values are interpreted.</summary>
public enum ColumnType
{
    /// <summary>Numbers (integers or reals); NaN and infinities are numeric but not finite.</summary>
    Numeric,

    /// <summary>Text values from a domain.</summary>
    Categorical,
}
