using Ctm.Ml.Data;
using Ctm.Ml.Engine;
using Ctm.Ml.Engine.Ort;
using Ctm.Onnx;
using Ctm.Testing.Streams;

namespace Ctm.Ml.Tests;

/// <summary>
/// The ONNX Runtime engine against the managed engine, and its graphs against calculus. On the CPU provider by
/// default; <c>CTM_TEST_TRAINING_DEVICE=cuda</c> runs the same tests on CUDA (a machine with a GPU).
/// </summary>
public sealed class OnnxRuntimeEngineTests
{
    private static readonly OrtTrainingDevice Device =
        Environment.GetEnvironmentVariable("CTM_TEST_TRAINING_DEVICE") is "cuda" ? OrtTrainingDevice.Cuda : OrtTrainingDevice.Cpu;
    private static readonly OnnxRuntimeTrainingEngine Ort = new(Device);
    private static readonly ManagedTrainingEngine Managed = new();

    [Fact]
    public void Fit_EventsStream_BinaryAccuracyMatchesTheManagedEngine()
    {
        var batches = PrequentialTests.CleanBatches(StreamGenerator.Generate(StreamOptions.EventsBenchmark), ModelTask.BinaryClassification);
        AssertSameAccuracy(batches, ModelTask.BinaryClassification);
    }

    [Fact]
    public void Fit_WeatherStream_MulticlassAccuracyMatchesTheManagedEngine()
    {
        var batches = PrequentialTests.CleanBatches(StreamGenerator.Generate(StreamOptions.WeatherBenchmark), ModelTask.MulticlassClassification);
        AssertSameAccuracy(batches, ModelTask.MulticlassClassification);
    }

    private static void AssertSameAccuracy(List<TabularDataset> batches, ModelTask task)
    {
        var train = TabularDataset.Concat(batches[..12]);
        var test = TabularDataset.Concat(batches[12..16]);
        var options = new TrainingOptions
        {
            Task = task, HiddenLayers = [32], Epochs = 6, BatchSize = 64, LearningRate = 5e-3, WeightDecay = 0.01,
            Schedule = LearningRateSchedule.Cosine, Seed = 3, MaxThreads = 1,
        };

        var managed = Evaluator.Evaluate(Managed.Train(train, options), test).Overall.Accuracy!.Value;
        var ort = Ort.Train(train, options);
        var accuracy = Evaluator.Evaluate(ort, test).Overall.Accuracy!.Value;

        Assert.Equal(Device == OrtTrainingDevice.Cuda ? "ctm-onnxruntime-cuda" : "ctm-onnxruntime-cpu", ort.EngineName);
        Assert.InRange(accuracy - managed, -0.005, 0.005);
        Assert.True(accuracy > 0.6, $"accuracy {accuracy}");
    }

    [Theory]
    [InlineData(ModelTask.BinaryClassification)]
    [InlineData(ModelTask.MulticlassClassification)]
    [InlineData(ModelTask.Regression)]
    public void GradientGraph_Float64_MatchesFiniteDifferencesOfItsOwnLoss(ModelTask task)
    {
        var (data, net) = Small(task, rows: 24);
        var model = TrainingGraph.Build(task, net.NumericCount, net.CategoricalCount, net.Sizes, 0f, TrainingGraphKind.Gradients, TensorElementType.Double);
        using var session = OnnxSession.Create(model);
        var parameters = TrainingGraph.ParameterNames(net.Layers);
        double[][] values = [.. net.W.Concat(net.B).Select(p => p.Select(v => (double)v).ToArray())];
        var shapes = TrainingGraph.ParameterShapes(net.Sizes);
        var inputs = BatchInputs(data, net, task);
        double Loss()
        {
            for (var i = 0; i < parameters.Length; i++)
            {
                inputs[parameters[i]] = OrtTensor.FromDouble(values[i], shapes[i]);
            }

            return session.Run(inputs, ["loss"])[0].AsDouble()[0] * inputs["hyper"].AsDouble()[3];
        }

        _ = Loss();
        var gradients = session.Run(inputs, [.. parameters.Select(p => $"grad_{p}")]).Select(t => t.AsDouble()).ToArray();
        const double h = 1e-6;
        var checkedEntries = 0;
        for (var i = 0; i < parameters.Length; i++)
        {
            for (var j = 0; j < values[i].Length; j++)
            {
                var keep = values[i][j];
                values[i][j] = keep + h;
                var up = Loss();
                values[i][j] = keep - h;
                var down = Loss();
                values[i][j] = keep;
                var numeric = (up - down) / (2 * h);
                Assert.True(
                    Math.Abs(numeric - gradients[i][j]) <= 1e-6 + (1e-5 * Math.Abs(numeric)),
                    $"{parameters[i]}[{j}]: finite difference {numeric}, graph {gradients[i][j]}");
                checkedEntries++;
            }
        }

        Assert.Equal(net.ParameterCount, checkedEntries);
        Assert.Contains(gradients[0], g => g != 0);
    }

    [Theory]
    [InlineData(ModelTask.BinaryClassification)]
    [InlineData(ModelTask.MulticlassClassification)]
    public void GradientGraph_Float32_EqualsTheManagedBackwardPass(ModelTask task)
    {
        var (data, net) = Small(task, rows: 100);
        var model = TrainingGraph.Build(task, net.NumericCount, net.CategoricalCount, net.Sizes, 0f, TrainingGraphKind.Gradients);
        using var session = OnnxSession.Create(model);
        var inputs = BatchInputs(data, net, task, TensorElementType.Float);
        var shapes = TrainingGraph.ParameterShapes(net.Sizes);
        var parameters = TrainingGraph.ParameterNames(net.Layers);
        float[][] all = [.. net.W, .. net.B];
        for (var i = 0; i < parameters.Length; i++)
        {
            inputs[parameters[i]] = OrtTensor.FromFloat(all[i], shapes[i]);
        }

        var outputs = session.Run(inputs, ["loss", .. parameters.Select(p => $"grad_{p}")]);

        var ws = new Workspace(net, data.Rows);
        var rows = Enumerable.Range(0, data.Rows).ToArray();
        net.Gather(ws, data, rows);
        net.Forward(ws);
        var loss = net.LossAndLogitGradient(ws, rows, data, data.W!.Sum());
        net.Backward(ws);
        Assert.Equal(loss, outputs[0].AsFloat()[0], 1e-3 * Math.Abs(loss));
        float[][] managed = [.. ws.GW, .. ws.GB];
        for (var i = 0; i < parameters.Length; i++)
        {
            var graph = outputs[i + 1].AsFloat();
            for (var j = 0; j < graph.Length; j++)
            {
                // Rows of W0 whose category is not in the batch are stale in the managed workspace: the graph's are 0.
                var expected = i == 0 && j / net.Sizes[1] >= net.NumericCount && !ws.Wrote(j / net.Sizes[1]) ? 0f : managed[i][j];
                Assert.True(Math.Abs(expected - graph[j]) <= 1e-5 + (1e-3 * Math.Abs(expected)), $"{parameters[i]}[{j}]: managed {expected}, graph {graph[j]}");
            }
        }
    }

    [Theory]
    [InlineData(ModelTask.BinaryClassification)]
    [InlineData(ModelTask.MulticlassClassification)]
    [InlineData(ModelTask.Regression)]
    public void Train_ExportedGraph_HasTheManagedShape_AndPredictsWhatTheEngineDoes(ModelTask task)
    {
        var train = TestData.Mixed(task, 1500, 1, weights: true);
        var options = TestData.Options(task, 16, 8) with { L2 = 1e-4, WeightDecay = 0.01 };
        var ort = Ort.Train(train, options);
        var managed = Managed.Train(train, options);
        using var ortSession = OnnxSession.Create(ort.ToOnnx());
        using var managedSession = OnnxSession.Create(managed.ToOnnx());

        Assert.Equal(managedSession.Inputs.Select(i => (i.Name, i.ElementType, string.Join(",", i.Shape))), ortSession.Inputs.Select(i => (i.Name, i.ElementType, string.Join(",", i.Shape))));
        Assert.Equal(managedSession.Outputs.Select(o => (o.Name, o.ElementType, string.Join(",", o.Shape))), ortSession.Outputs.Select(o => (o.Name, o.ElementType, string.Join(",", o.Shape))));
        Assert.Equal(managed.State.LayerSizes, ort.State.LayerSizes);

        var input = OnnxParityTests.RandomInputs(300, 5);
        var output = task == ModelTask.Regression ? OnnxExporter.PredictionOutput : OnnxExporter.ProbabilitiesOutput;
        var served = OnnxParityTests.Run(ortSession, input, [output])[0].AsFloat();
        var own = ort.Predict(input).Values;
        Assert.Equal(own.Length, served.Length);
        for (var i = 0; i < own.Length; i++)
        {
            Assert.True(Math.Abs(own[i] - served[i]) <= 1e-4 * Math.Max(1, Math.Abs(own[i])), $"value {i}: engine {own[i]}, served {served[i]}");
        }
    }

    [Fact]
    public void Train_FirstSteps_TakeTheManagedEnginesSteps()
    {
        // Same init, same batches, same Adam: after one epoch the weights differ only by float summation order.
        var train = TestData.Mixed(ModelTask.BinaryClassification, 640, 2);
        var options = TestData.Options(ModelTask.BinaryClassification, 8) with { Epochs = 1, L2 = 1e-3, WeightDecay = 0.05, MaxThreads = 1 };
        var ort = Ort.Train(train, options).State;
        var managed = Managed.Train(train, options).State;
        for (var l = 0; l < managed.Weights.Length; l++)
        {
            for (var i = 0; i < managed.Weights[l].Length; i++)
            {
                Assert.True(Math.Abs(managed.Weights[l][i] - ort.Weights[l][i]) < 1e-4, $"W{l}[{i}]: managed {managed.Weights[l][i]}, ort {ort.Weights[l][i]}");
            }
        }
    }

    [Fact]
    public void Train_WarmStart_GrowsTheVocabularyAndImprovesOnTheParent()
    {
        var options = TestData.Options(ModelTask.BinaryClassification, 8);
        var parent = Ort.Train(TestData.Mixed(ModelTask.BinaryClassification, 1000, 1), options);
        var fresh = TestData.Mixed(ModelTask.BinaryClassification, 1000, 2, colors: [.. TestData.Colors, "purple"]);

        var child = Ort.Train(fresh, options, parent.State);

        Assert.Contains("purple", child.State.Vocabularies[0]);
        Assert.NotNull(child.InitialLoss);
        Assert.True(child.LossCurve[^1] < child.InitialLoss, $"initial {child.InitialLoss}, last {child.LossCurve[^1]}");
        Assert.Equal(parent.State.TrainedSamples + (5 * 1000), child.State.TrainedSamples);
    }

    [Fact]
    public void Fit_EarlyStopping_StopsAndKeepsTheBestEpoch()
    {
        var train = TestData.Mixed(ModelTask.BinaryClassification, 300, 1);
        var validation = TestData.Mixed(ModelTask.BinaryClassification, 300, 9);
        // Wide and fast on few rows: it overfits within a few epochs.
        var options = TestData.Options(ModelTask.BinaryClassification, 128, 128) with { Epochs = 60, LearningRate = 0.02, EarlyStoppingPatience = 3, Calibrate = true };

        var model = Ort.Fit(train, validation, options);

        Assert.True(model.LossCurve.Count < 60, $"ran {model.LossCurve.Count} epochs");
        Assert.Equal(model.LossCurve.Count, model.ValidationCurve.Count);
        var bestEpoch = model.ValidationCurve.Select((loss, i) => (loss, i)).MinBy(p => p.loss).i + 1;
        Assert.Equal(bestEpoch, model.BestEpoch);
        Assert.Equal(model.BestEpoch + 3, model.LossCurve.Count);
        Assert.NotNull(model.Calibration);
    }

    [Fact]
    public void Cuda_TrainsWhereCudaLoads_AndSaysWhyWhereItDoesNot()
    {
        var engine = new OnnxRuntimeTrainingEngine(OrtTrainingDevice.Cuda);
        Assert.Equal("ctm-onnxruntime-cuda", engine.Name);
        var data = TestData.Mixed(ModelTask.BinaryClassification, 100, 1);
        if (OnnxRuntimeTrainingEngine.IsCudaAvailable)
        {
            Assert.Equal("ctm-onnxruntime-cuda", engine.Train(data, TestData.Options(ModelTask.BinaryClassification, 4)).EngineName);
            return;
        }

        Assert.Contains("CUDA 13", OnnxRuntimeTrainingEngine.CudaUnavailableReason);
        var error = Assert.Throws<OnnxRuntimeException>(() => engine.Train(data, TestData.Options(ModelTask.BinaryClassification, 4)));
        Assert.Contains("CUDA execution provider is not available", error.Message);
    }

    [Fact]
    public void Select_NamesAndDevices_AndAutoFollowsWhetherCudaLoads()
    {
        var expected = OnnxRuntimeTrainingEngine.IsCudaAvailable ? "cuda" : "cpu";
        var auto = TrainingEngines.Select(TrainingEngines.OnnxRuntime, TrainingEngines.Auto);
        Assert.Equal(expected, auto.Device);
        Assert.Equal(expected, TrainingEngines.Select(TrainingEngines.Managed, TrainingEngines.Auto).Device);
        if (expected == "cpu")
        {
            Assert.IsType<ManagedTrainingEngine>(auto.Engine);
        }

        var cpu = TrainingEngines.Select(TrainingEngines.OnnxRuntime, TrainingEngines.Cpu);
        Assert.Equal(OrtTrainingDevice.Cpu, Assert.IsType<OnnxRuntimeTrainingEngine>(cpu.Engine).Device);
        Assert.Throws<ArgumentException>(() => TrainingEngines.Select(TrainingEngines.Managed, TrainingEngines.Cuda));
        Assert.Throws<ArgumentException>(() => TrainingEngines.Select("torch", TrainingEngines.Cpu));
    }

    [Fact]
    public void StepMultiplyAdds_CountsOneForwardPassOverABatch_AndAutoTakesCudaOnlyForBigSteps()
    {
        // 32 → 64 → 64 → 1 at batch 1024: the H200 cell where the managed engine trained 4× faster than CUDA.
        Assert.Equal(1024L * ((32 * 64) + (64 * 64) + 64), TrainingEngines.StepMultiplyAdds(1024, 32, [64, 64], 1));
        // 32 → 256 → 256 → 1 at batch 256: where CUDA trained 1.6× faster.
        var big = TrainingEngines.StepMultiplyAdds(256, 32, [256, 256], 1);
        Assert.True(TrainingEngines.StepMultiplyAdds(1024, 32, [64, 64], 1) < TrainingEngines.DefaultAutoCudaMinStepMultiplyAdds);
        Assert.True(big >= TrainingEngines.DefaultAutoCudaMinStepMultiplyAdds);
        // auto takes CUDA for a big step only where CUDA loads, never for a small one; a named device is never second-guessed.
        Assert.Equal(OnnxRuntimeTrainingEngine.IsCudaAvailable ? "cuda" : "cpu",
            TrainingEngines.Select(TrainingEngines.OnnxRuntime, TrainingEngines.Auto, big, TrainingEngines.DefaultAutoCudaMinStepMultiplyAdds).Device);
        Assert.IsType<ManagedTrainingEngine>(TrainingEngines.Select(
            TrainingEngines.OnnxRuntime, TrainingEngines.Auto, TrainingEngines.StepMultiplyAdds(32, 20, [32], 1), TrainingEngines.DefaultAutoCudaMinStepMultiplyAdds).Engine);
        Assert.IsType<OnnxRuntimeTrainingEngine>(TrainingEngines.Select(TrainingEngines.OnnxRuntime, TrainingEngines.Cpu, 1, long.MaxValue).Engine);
    }

    private static (EncodedData Data, Network Net) Small(ModelTask task, int rows)
    {
        var options = TestData.Options(task, 5);
        var (_, data, net) = ManagedTrainingEngine.Prepare(TestData.Mixed(task, rows, 4, weights: true), options, null);
        return (data, net);
    }

    private static Dictionary<string, OrtTensor> BatchInputs(EncodedData data, Network net, ModelTask task, TensorElementType type = TensorElementType.Double)
    {
        _ = task;
        OrtTensor Values(float[] v, params long[] shape) => type == TensorElementType.Double
            ? OrtTensor.FromDouble([.. v.Select(x => (double)x)], shape)
            : OrtTensor.FromFloat(v, shape);
        var weight = data.W!.Sum();
        return new Dictionary<string, OrtTensor>
        {
            ["x"] = Values(data.X, data.Rows, net.NumericCount),
            ["cat"] = OrtTensor.FromInt64([.. data.Cat.Select(c => (long)c)], data.Rows, net.CategoricalCount),
            ["y"] = Values(data.Y!, data.Rows),
            ["w"] = Values(data.W!, data.Rows),
            ["hyper"] = type == TensorElementType.Double ? OrtTensor.FromDouble([0, 1, 1, 1.0 / weight], 4) : OrtTensor.FromFloat([0, 1, 1, 1f / weight], 4),
        };
    }
}
