using System.ComponentModel.DataAnnotations;

namespace Ctm.Predictor.Extensions;

/// <summary>Serving settings, from the <c>Serving</c> section.</summary>
public sealed class ServingOptions
{
    public const string Section = "Serving";

    /// <summary>ONNX Runtime threads per session (0 = ORT's default).</summary>
    [Range(0, 256)]
    public int IntraOpThreads { get; set; } = 1;

    /// <summary>Largest number of instances in one request.</summary>
    [Range(1, 1_000_000)]
    public int MaxInstancesPerRequest { get; set; } = 10_000;
}
