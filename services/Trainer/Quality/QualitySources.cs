namespace Ctm.Trainer.Quality;

/// <summary>Where a point of the quality series comes from.</summary>
public static class QualitySources
{
    /// <summary>A labeled batch scored by the version serving when it arrived, before any training on it.</summary>
    public const string TestThenTrain = "test-then-train";

    /// <summary>Predictions a version actually served (serving, canary or shadow), joined by key to labels that came later.</summary>
    public const string Served = "served";
}
