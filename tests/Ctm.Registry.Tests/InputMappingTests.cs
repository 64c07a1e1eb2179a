using Ctm.Contracts;
using Ctm.Onnx;
using Ctm.Registry.External;

namespace Ctm.Registry.Tests;

public sealed class InputMappingTests
{
    private static readonly FeatureInfo[] Features = [new("tenure", ColumnKind.Numeric), new("plan", ColumnKind.Categorical), new("fee", ColumnKind.Numeric)];
    private static readonly OnnxNodeInfo[] Outputs = [new("prediction", TensorElementType.Float, [-1, 1], ["N", null])];

    private static OnnxNodeInfo Input(string name, TensorElementType type, params long[] shape) => new(name, type, shape, new string?[shape.Length]);

    [Fact]
    public void Resolve_InputsNamedAfterFeatures_NeedNoMapping()
    {
        var (mapping, error) = InputMapping.Resolve([Input("tenure", TensorElementType.Float, -1, 1), Input("plan", TensorElementType.String, -1, 1)], Outputs, new Dictionary<string, string>(), Features);
        Assert.Null(error);
        Assert.Equal("tenure", mapping!["tenure"]);
    }

    [Fact]
    public void Resolve_MatrixInput_MapsToFeaturesInColumnOrder()
    {
        var (mapping, error) = InputMapping.Resolve([Input("x", TensorElementType.Float, -1, 2)], Outputs, new Dictionary<string, string> { ["x"] = "fee, tenure" }, Features);
        Assert.Null(error);
        Assert.Equal("fee,tenure", mapping!["x"]);
    }

    [Theory]
    [InlineData("x", "", "'x'")]
    [InlineData("x", "x=nope", "'nope' which is not a feature")]
    [InlineData("x", "y=tenure", "does not have as inputs")]
    [InlineData("x", "x=tenure,fee", "2 features")]
    [InlineData("x", "x=plan,fee,tenure", "categorical")]
    public void Resolve_Unmappable_SaysWhy(string input, string mapping, string expected)
    {
        var requested = mapping.Length == 0 ? new Dictionary<string, string>() : new Dictionary<string, string> { [mapping.Split('=')[0]] = mapping.Split('=')[1] };
        var (resolved, error) = InputMapping.Resolve([Input(input, TensorElementType.Float, -1, 3)], Outputs, requested, Features);
        Assert.Null(resolved);
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_TypeMismatch_SaysWhich()
    {
        var (_, error) = InputMapping.Resolve([Input("plan", TensorElementType.Float, -1, 1)], Outputs, new Dictionary<string, string>(), Features);
        Assert.Contains("feature 'plan' is categorical", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_NoTensorOutput_SuggestsExportingWithoutZipMap()
    {
        var (_, error) = InputMapping.Resolve([Input("tenure", TensorElementType.Float, -1, 1)], [new OnnxNodeInfo("probs", TensorElementType.Undefined, [], []) { Kind = OnnxValueKind.Sequence }], new Dictionary<string, string>(), Features);
        Assert.Contains("zipmap", error, StringComparison.OrdinalIgnoreCase);
    }
}
