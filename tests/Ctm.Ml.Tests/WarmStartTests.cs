using Ctm.Ml.Data;
using Ctm.Ml.Engine;

namespace Ctm.Ml.Tests;

public sealed class WarmStartTests
{
    private static readonly string[] OldColors = ["red", "green", "blue"];

    [Fact]
    public void WarmStart_NewCategories_GrowVocabularyAndKeepLearnedRows()
    {
        var engine = new ManagedTrainingEngine();
        var options = TestData.Options(ModelTask.BinaryClassification, 8);
        var parent = engine.Train(TestData.Mixed(ModelTask.BinaryClassification, 800, 1, OldColors), options).State;
        var childData = TestData.Mixed(ModelTask.BinaryClassification, 800, 2, TestData.Colors);

        var prep = Preprocessing.Fit(childData, options, parent);
        var net = Network.FromParent(parent, prep);

        var oldVocabulary = parent.Vocabularies[0];
        Assert.Equal(oldVocabulary, prep.Vocabularies[0][..oldVocabulary.Length]);
        Assert.Equal(["black", "white"], prep.Vocabularies[0][oldVocabulary.Length..].Order());
        Assert.Equal(parent.Vocabularies[1], prep.Vocabularies[1]);
        Assert.Equal(parent.NumericMeans, prep.Means);
        Assert.Equal(parent.NumericStds, prep.Stds);

        var h = parent.LayerSizes[1];
        var oldOffset = parent.CategoricalOffsets()[0];
        var newOffset = prep.CategoricalOffsets()[0];
        var oldRow = (int row) => parent.Weights[0].AsSpan((oldOffset + row) * h, h).ToArray();
        var newRow = (int row) => net.W[0].AsSpan((newOffset + row) * h, h).ToArray();
        for (var row = 0; row < oldVocabulary.Length; row++)
        {
            Assert.Equal(oldRow(row), newRow(row));
        }

        // New categories start where the parent served them: the out-of-vocabulary row.
        var oov = oldRow(oldVocabulary.Length);
        Assert.Equal(oov, newRow(oldVocabulary.Length));
        Assert.Equal(oov, newRow(oldVocabulary.Length + 1));
        Assert.Equal(oov, newRow(prep.Vocabularies[0].Length));
        Assert.Equal(parent.Weights[0].AsSpan(0, parent.NumericCount * h).ToArray(), net.W[0].AsSpan(0, prep.NumericCount * h).ToArray());
        Assert.Equal(parent.Weights[1], net.W[1]);
    }

    [Fact]
    public void WarmStart_ContinuedTraining_StartsFromTheParentsLoss()
    {
        var engine = new ManagedTrainingEngine();
        var options = TestData.Options(ModelTask.BinaryClassification, 8) with { Epochs = 8 };
        var parent = engine.Train(TestData.Mixed(ModelTask.BinaryClassification, 2000, 1, OldColors), options);
        var childData = TestData.Mixed(ModelTask.BinaryClassification, 2000, 2, TestData.Colors);

        var child = engine.Train(childData, options with { Epochs = 2 }, parent.State);
        var fresh = engine.Train(childData, options with { Epochs = 2 });
        var parentOnChildData = Evaluator.Evaluate(parent, childData).Overall.LogLoss!.Value;

        Assert.Equal(parentOnChildData, child.InitialLoss!.Value, 4);
        Assert.True(child.LossCurve[0] < fresh.LossCurve[0], $"child {child.LossCurve[0]} vs fresh {fresh.LossCurve[0]}");
        Assert.True(child.LossCurve[0] < parentOnChildData * 1.05, $"child epoch 1 {child.LossCurve[0]} vs parent {parentOnChildData}");
        Assert.Equal(parent.State.TrainedSamples + (2 * 2000), child.State.TrainedSamples);
        Assert.Equal(parent.State.LayerSizes[1..], child.State.LayerSizes[1..]);
    }

    [Fact]
    public void WarmStart_CategoriesAbsentFromNewData_KeepTheirRowsExactly()
    {
        var engine = new ManagedTrainingEngine();
        var options = TestData.Options(ModelTask.BinaryClassification, 8);
        var parent = engine.Train(TestData.Mixed(ModelTask.BinaryClassification, 800, 1), options).State;

        var child = engine.Train(TestData.Mixed(ModelTask.BinaryClassification, 800, 2, ["red", "green"]), options, parent).State;

        var h = parent.LayerSizes[1];
        var offset = parent.CategoricalOffsets()[0];
        foreach (var color in new[] { "blue", "black", "white" })
        {
            var row = offset + Array.IndexOf(parent.Vocabularies[0], color);
            Assert.Equal(parent.Weights[0].AsSpan(row * h, h).ToArray(), child.Weights[0].AsSpan(row * h, h).ToArray());
        }

        var red = offset + Array.IndexOf(parent.Vocabularies[0], "red");
        Assert.NotEqual(parent.Weights[0].AsSpan(red * h, h).ToArray(), child.Weights[0].AsSpan(red * h, h).ToArray());
    }

    [Fact]
    public void WarmStart_FromBytes_ContinuesLikeTheInMemoryState()
    {
        var engine = new ManagedTrainingEngine();
        var options = TestData.Options(ModelTask.Regression, 8);
        var parent = engine.Train(TestData.Mixed(ModelTask.Regression, 500, 1), options).State;
        var childData = TestData.Mixed(ModelTask.Regression, 500, 2);

        var a = engine.Train(childData, options, parent).State.ToBytes();
        var b = engine.Train(childData, options, ModelState.FromBytes(parent.ToBytes())).State.ToBytes();

        Assert.Equal(a, b);
    }
}
