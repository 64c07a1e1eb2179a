using System.Text.Json;
using Ctm.Ml.Engine;
using Ctm.Onnx;

namespace Ctm.Ml.Tests;

/// <summary>The exported graph, run by ONNX Runtime on raw values, against the engine's own forward pass.</summary>
public sealed class OnnxParityTests
{
    [Theory]
    [InlineData(ModelTask.BinaryClassification, new int[0], OnnxInputLayout.Packed)]
    [InlineData(ModelTask.BinaryClassification, new[] { 16, 8 }, OnnxInputLayout.Packed)]
    [InlineData(ModelTask.BinaryClassification, new[] { 16, 8 }, OnnxInputLayout.PerFeature)]
    [InlineData(ModelTask.MulticlassClassification, new int[0], OnnxInputLayout.Packed)]
    [InlineData(ModelTask.MulticlassClassification, new[] { 12 }, OnnxInputLayout.Packed)]
    [InlineData(ModelTask.MulticlassClassification, new[] { 12 }, OnnxInputLayout.PerFeature)]
    [InlineData(ModelTask.Regression, new int[0], OnnxInputLayout.Packed)]
    [InlineData(ModelTask.Regression, new[] { 16, 8 }, OnnxInputLayout.Packed)]
    [InlineData(ModelTask.Regression, new[] { 16, 8 }, OnnxInputLayout.PerFeature)]
    public void ExportedModel_RawInputsWithMissingAndUnseen_MatchesEngineWithin1e5(ModelTask task, int[] hidden, OnnxInputLayout layout)
    {
        var model = new ManagedTrainingEngine().Train(TestData.Mixed(task, 600, seed: 1), TestData.Options(task, hidden));
        var input = RandomInputs(300, seed: 9);
        var expected = model.Predict(input);

        using var session = OnnxSession.Create(model.ToOnnx(new OnnxExportOptions { Layout = layout }));
        var outputs = Run(session, input, task == ModelTask.Regression ? ["prediction"] : ["label", "probabilities"]);

        if (task == ModelTask.Regression)
        {
            Assert.Equal([input.RowCount, 1L], outputs[0].Shape);
            AssertClose(expected.Values, outputs[0].AsFloat(), 1e-5, relative: true);
        }
        else
        {
            Assert.Equal([input.RowCount, (long)model.Classes.Count], outputs[1].Shape);
            AssertClose(expected.Values, outputs[1].AsFloat(), 1e-5, relative: false);
            Assert.Equal(expected.Labels, outputs[0].AsString());
        }
    }

    [Fact]
    public void ExportedModel_Interface_IsOneInputPerTypeWithColumnNamesInTheMetadata()
    {
        var model = new ManagedTrainingEngine().Train(TestData.Mixed(ModelTask.MulticlassClassification, 300, seed: 2), TestData.Options(ModelTask.MulticlassClassification, 8));
        using var session = OnnxSession.Create(model.ToOnnx(new OnnxExportOptions { Metadata = new Dictionary<string, string> { ["dataset"] = "d1" } }));

        Assert.Equal([(OnnxExporter.NumericInput, TensorElementType.Float, "-1,2"), (OnnxExporter.CategoricalInput, TensorElementType.String, "-1,2")],
            session.Inputs.Select(i => (i.Name, i.ElementType, string.Join(",", i.Shape))));
        Assert.Equal("2", session.Metadata["ctm.format"]);
        var columns = JsonSerializer.Deserialize<Dictionary<string, string[]>>(session.Metadata[OnnxExporter.InputsMetadata])!;
        Assert.Equal(["x1", "x2"], columns[OnnxExporter.NumericInput]);
        Assert.Equal(["color", "size"], columns[OnnxExporter.CategoricalInput]);
        AssertDocumentedMetadata(session);
    }

    [Fact]
    public void ExportedModel_PerFeatureLayout_IsOneInputPerFeatureAsBefore()
    {
        var model = new ManagedTrainingEngine().Train(TestData.Mixed(ModelTask.MulticlassClassification, 300, seed: 2), TestData.Options(ModelTask.MulticlassClassification, 8));
        using var session = OnnxSession.Create(model.ToOnnx(new OnnxExportOptions { Layout = OnnxInputLayout.PerFeature, Metadata = new Dictionary<string, string> { ["dataset"] = "d1" } }));

        Assert.Equal(["x1", "color", "x2", "size"], session.Inputs.Select(i => i.Name));
        Assert.Equal([TensorElementType.Float, TensorElementType.String, TensorElementType.Float, TensorElementType.String], session.Inputs.Select(i => i.ElementType));
        Assert.Equal("1", session.Metadata["ctm.format"]);
        Assert.False(session.Metadata.ContainsKey(OnnxExporter.InputsMetadata));
        AssertDocumentedMetadata(session);
    }

    private static void AssertDocumentedMetadata(OnnxSession session)
    {
        Assert.Equal(["label", "probabilities"], session.Outputs.Select(o => o.Name));
        Assert.Equal("MulticlassClassification", session.Metadata["ctm.task"]);
        Assert.Equal(["high", "low", "mid"], JsonSerializer.Deserialize<string[]>(session.Metadata["ctm.classes"])!);
        Assert.Equal("target", session.Metadata["ctm.label"]);
        Assert.Equal("d1", session.Metadata["dataset"]);
        using var features = JsonDocument.Parse(session.Metadata["ctm.features"]);
        Assert.Equal("color", features.RootElement[1].GetProperty("name").GetString());
        Assert.Equal("Categorical", features.RootElement[1].GetProperty("kind").GetString());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ExportedModel_OnlyNumericOrOnlyCategoricalFeatures_MatchesEngine(bool numericOnly)
    {
        var mixed = TestData.Mixed(ModelTask.BinaryClassification, 500, seed: 6);
        var builder = TabularDataset.CreateBuilder();
        var input = RandomInputs(100, seed: 3);
        var inputBuilder = TabularDataset.CreateBuilder();
        if (numericOnly)
        {
            builder.AddNumeric("x1", mixed.GetNumeric("x1")).AddNumeric("x2", mixed.GetNumeric("x2"));
            inputBuilder.AddNumeric("x1", input.GetNumeric("x1")).AddNumeric("x2", input.GetNumeric("x2"));
        }
        else
        {
            builder.AddCategorical("color", mixed.GetCategorical("color"));
            inputBuilder.AddCategorical("color", input.GetCategorical("color"));
        }

        var model = new ManagedTrainingEngine().Train(builder.WithLabel("target", mixed.ClassLabels!).Build(), TestData.Options(ModelTask.BinaryClassification, 4));
        var rows = inputBuilder.Build();

        using var session = OnnxSession.Create(model.ToOnnx());
        var outputs = Run(session, rows, ["probabilities"]);

        AssertClose(model.Predict(rows).Values, outputs[0].AsFloat(), 1e-5, relative: false);
    }

    [Fact]
    public void ExportedModel_MissingNumeric_IsImputedWithTheTrainingMean()
    {
        var data = TestData.Mixed(ModelTask.Regression, 400, seed: 4);
        var model = new ManagedTrainingEngine().Train(data, TestData.Options(ModelTask.Regression, 8));
        var mean = model.State.NumericMeans[1];
        var rows = TabularDataset.CreateBuilder()
            .AddNumeric("x1", [0.5, 0.5]).AddCategorical("color", ["red", "red"])
            .AddNumeric("x2", [double.NaN, mean]).AddCategorical("size", ["M", "M"]).Build();

        using var session = OnnxSession.Create(model.ToOnnx());
        var prediction = Run(session, rows, ["prediction"])[0].AsFloat();

        Assert.Equal(prediction[1], prediction[0], 5);
    }

    internal static TabularDataset RandomInputs(int rows, int seed)
    {
        var rng = new Rng((ulong)seed);
        var x1 = new double[rows];
        var x2 = new double[rows];
        var color = new string?[rows];
        var size = new string?[rows];
        string?[] colors = [.. TestData.Colors, "never-seen", null, ""];
        string?[] sizes = [.. TestData.Sizes, "XXL", null];
        for (var r = 0; r < rows; r++)
        {
            x1[r] = rng.NextDouble() < 0.1 ? double.NaN : (float)(rng.NextGaussian() * 3);
            x2[r] = rng.NextDouble() < 0.1 ? double.NaN : (float)(rng.NextGaussian() * 20);
            color[r] = colors[rng.NextInt(colors.Length)];
            size[r] = sizes[rng.NextInt(sizes.Length)];
        }

        return TabularDataset.CreateBuilder().AddNumeric("x1", x1).AddCategorical("color", color)
            .AddNumeric("x2", x2).AddCategorical("size", size).Build();
    }

    /// <summary>Runs an exported model of either layout on raw values (the packed one's columns found through <c>ctm.inputs</c>).</summary>
    internal static IReadOnlyList<OrtTensor> Run(OnnxSession session, TabularDataset data, string[] outputs)
    {
        var inputs = new Dictionary<string, OrtTensor>();
        if (session.Metadata.TryGetValue(OnnxExporter.InputsMetadata, out var json))
        {
            foreach (var (input, columns) in JsonSerializer.Deserialize<Dictionary<string, string[]>>(json)!)
            {
                if (input == OnnxExporter.NumericInput)
                {
                    var values = new float[data.RowCount * columns.Length];
                    for (var c = 0; c < columns.Length; c++)
                    {
                        var column = data.GetNumeric(columns[c]);
                        for (var r = 0; r < data.RowCount; r++)
                        {
                            values[(r * columns.Length) + c] = (float)column[r];
                        }
                    }

                    inputs[input] = OrtTensor.FromFloat(values, data.RowCount, columns.Length);
                }
                else
                {
                    var values = new string[data.RowCount * columns.Length];
                    for (var c = 0; c < columns.Length; c++)
                    {
                        var column = data.GetCategorical(columns[c]);
                        for (var r = 0; r < data.RowCount; r++)
                        {
                            values[(r * columns.Length) + c] = column[r] ?? "";
                        }
                    }

                    inputs[input] = OrtTensor.FromString(values, data.RowCount, columns.Length);
                }
            }

            return session.Run(inputs, outputs);
        }

        foreach (var f in data.Features)
        {
            inputs[f.Name] = f.Kind == FeatureKind.Numeric
                ? OrtTensor.FromFloat([.. data.GetNumeric(f.Name).Select(v => (float)v)], data.RowCount, 1)
                : OrtTensor.FromString([.. data.GetCategorical(f.Name).Select(v => v ?? "")], data.RowCount, 1);
        }

        return session.Run(inputs, outputs);
    }

    private static void AssertClose(float[] expected, float[] actual, double tolerance, bool relative)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            var bound = relative ? tolerance * Math.Max(1, Math.Abs(expected[i])) : tolerance;
            Assert.True(Math.Abs(expected[i] - actual[i]) <= bound, $"index {i}: engine {expected[i]}, onnx {actual[i]}");
        }
    }
}
