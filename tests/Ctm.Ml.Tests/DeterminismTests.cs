using Ctm.Ml.Engine;

namespace Ctm.Ml.Tests;

public sealed class DeterminismTests
{
    [Fact]
    public void Train_SameSeedAndData_GivesBitIdenticalWeights()
    {
        var data = TestData.Mixed(ModelTask.MulticlassClassification, 1500, seed: 1);
        var options = TestData.Options(ModelTask.MulticlassClassification, 16, 8) with { BatchSize = 300 };
        var engine = new ManagedTrainingEngine();

        var a = engine.Train(data, options).State.ToBytes();
        var b = engine.Train(data, options).State.ToBytes();
        var oneThread = engine.Train(data, options with { MaxThreads = 1 }).State.ToBytes();
        var otherSeed = engine.Train(data, options with { Seed = 8 }).State.ToBytes();

        Assert.Equal(a, b);
        Assert.Equal(a, oneThread);
        Assert.NotEqual(a, otherSeed);
    }
}
