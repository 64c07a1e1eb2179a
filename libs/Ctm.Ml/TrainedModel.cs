using Ctm.Ml.Data;
using Ctm.Ml.Engine;

namespace Ctm.Ml;

/// <summary>A trained model version: its state, how training went, and the engine's own forward pass.</summary>
public sealed class TrainedModel
{
    private readonly Network _net;
    private readonly Preprocessing _prep;

    internal TrainedModel(ModelState state, IReadOnlyList<double> lossCurve, string engineName, TimeSpan duration, double samplesPerSecond, double? initialLoss)
    {
        State = state;
        LossCurve = lossCurve;
        EngineName = engineName;
        Duration = duration;
        SamplesPerSecond = samplesPerSecond;
        InitialLoss = initialLoss;
        _prep = Preprocessing.Of(state);
        _net = new Network(state.Task, state.NumericCount, state.CategoricalCount, state.LayerSizes, state.Weights, state.Biases);
    }

    /// <summary>Wraps a stored state (e.g. a parent version read back with <see cref="ModelState.FromBytes"/>) to predict or export.</summary>
    public static TrainedModel FromState(ModelState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        state.CheckConsistent();
        return new TrainedModel(state, [], "loaded", TimeSpan.Zero, 0, null);
    }

    /// <summary>Everything needed to serve, export or warm-start from this version.</summary>
    public ModelState State { get; }

    /// <summary>
    /// Mean training loss of each epoch: binary and multiclass cross-entropy (natural log), or, for regression,
    /// mean squared error of the standardized label.
    /// </summary>
    public IReadOnlyList<double> LossCurve { get; }

    /// <summary>With a warm start: the parent's mean loss on this training data before any update; otherwise null.</summary>
    public double? InitialLoss { get; }

    /// <summary>Validation log loss (or regression MSE) after each epoch, when the run had validation rows; else empty.</summary>
    public IReadOnlyList<double> ValidationCurve { get; init; } = [];

    /// <summary>The epoch whose weights were kept (0: a warm start's parent beat every epoch); the last epoch without validation rows.</summary>
    public int BestEpoch { get; init; }

    /// <summary>
    /// Rows this run processed: training rows × epochs run, plus one pass over the validation rows per check and for
    /// calibration (the compute of the run, in the unit the benchmarks compare).
    /// </summary>
    public long RunSamples { get; init; }

    /// <summary>Validation rows the run checked against (0 without validation).</summary>
    public int ValidationRows { get; init; }

    /// <summary>The calibration folded into the last layer, or null.</summary>
    public Engine.Calibration? Calibration { get; init; }

    /// <summary>The engine that trained the model.</summary>
    public string EngineName { get; }

    /// <summary>Wall time of the training run, preparation included.</summary>
    public TimeSpan Duration { get; }

    /// <summary>Training throughput, rows per second over all epochs.</summary>
    public double SamplesPerSecond { get; }

    /// <summary>What the model predicts.</summary>
    public ModelTask Task => State.Task;

    /// <summary>Class names in probability-column order (empty for regression).</summary>
    public IReadOnlyList<string> Classes => State.Classes;

    /// <summary>The model as ONNX with preprocessing inside; see <see cref="OnnxExporter"/> for the interface.</summary>
    public byte[] ToOnnx(OnnxExportOptions? options = null) => OnnxExporter.Export(State, options);

    /// <summary>
    /// Predicts with the engine's own forward pass (the exported ONNX graph computes the same within 1e-5).
    /// The dataset needs every model feature (extra columns are ignored); labels are not read.
    /// </summary>
    /// <exception cref="ArgumentException">A model feature is missing or of the wrong kind.</exception>
    public ModelPredictions Predict(TabularDataset data, int maxThreads = 0)
    {
        ArgumentNullException.ThrowIfNull(data);
        var encoded = _prep.Encode(data, withLabels: false);
        var columns = Task == ModelTask.Regression ? 1 : State.Classes.Length;
        var values = new float[encoded.Rows * columns];
        const int chunk = 512;
        var chunks = (encoded.Rows + chunk - 1) / chunk;
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = maxThreads > 0 ? maxThreads : Environment.ProcessorCount };
        Parallel.For(0, chunks, parallel, () => new Workspace(_net, chunk), (index, _, ws) =>
        {
            var start = index * chunk;
            var count = Math.Min(chunk, encoded.Rows - start);
            var rows = new int[count];
            for (var i = 0; i < count; i++)
            {
                rows[i] = start + i;
            }

            _net.Gather(ws, encoded, rows);
            _net.Forward(ws);
            _net.Outputs(ws, values.AsSpan(start * columns, count * columns), State.LabelMean, State.LabelStd);
            return ws;
        }, _ => { });

        string[]? labels = null;
        if (Task != ModelTask.Regression)
        {
            labels = new string[encoded.Rows];
            for (var r = 0; r < labels.Length; r++)
            {
                // First maximum wins, as ONNX ArgMax does.
                var row = values.AsSpan(r * columns, columns);
                var best = 0;
                for (var j = 1; j < columns; j++)
                {
                    if (row[j] > row[best])
                    {
                        best = j;
                    }
                }

                labels[r] = State.Classes[best];
            }
        }

        return new ModelPredictions(Task, State.Classes, columns, values, labels);
    }
}

/// <summary>Predictions for a dataset's rows.</summary>
/// <param name="Task">The model's task.</param>
/// <param name="Classes">Class names in column order (empty for regression).</param>
/// <param name="Columns">Values per row: the class count, or 1 for regression.</param>
/// <param name="Values">Row-major [rows, Columns]: class probabilities, or the regression prediction.</param>
/// <param name="Labels">The predicted class name per row (classification), or null.</param>
public sealed record ModelPredictions(ModelTask Task, IReadOnlyList<string> Classes, int Columns, float[] Values, string[]? Labels)
{
    /// <summary>Number of rows.</summary>
    public int Rows => Values.Length / Columns;
}
