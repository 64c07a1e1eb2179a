namespace Ctm.Ml;

/// <summary>What a model predicts.</summary>
public enum ModelTask
{
    /// <summary>Two classes; the model outputs the probability of each.</summary>
    BinaryClassification,

    /// <summary>Three or more classes; the model outputs a softmax over them.</summary>
    MulticlassClassification,

    /// <summary>A real-valued target.</summary>
    Regression,
}

/// <summary>How a feature's raw values are read.</summary>
public enum FeatureKind
{
    /// <summary>A number; NaN (or an empty cell) means missing.</summary>
    Numeric,

    /// <summary>A category named by a string; null (or an empty string) means missing.</summary>
    Categorical,
}

/// <summary>One input column of a tabular model.</summary>
/// <param name="Name">The column name; it is also the name of the exported ONNX input.</param>
/// <param name="Kind">Numeric or categorical.</param>
public sealed record FeatureSpec(string Name, FeatureKind Kind);
