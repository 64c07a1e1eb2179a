using Ctm.Onnx;

namespace Ctm.Predictor.Inference;

/// <summary>Rows of one request waiting for the model: all rows of <see cref="Block"/>, or those listed in <see cref="Rows"/>.</summary>
public sealed class WorkItem(RowBlock block, int[]? rows) : TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)
{
    public RowBlock Block { get; } = block;

    /// <summary>The span of the request that queued these rows (the batch that runs them links to it); default when none is traced.</summary>
    public System.Diagnostics.ActivityContext RequestContext { get; } = System.Diagnostics.Activity.Current?.Context ?? default;
    public int[]? Rows { get; } = rows;
    public int Count => Rows?.Length ?? Block.Count;

    /// <summary>One prediction per row, in the order of <see cref="Rows"/>; set before the item completes.</summary>
    public Prediction[] Results { get; } = new Prediction[rows?.Length ?? block.Count];

    public int RowAt(int i) => Rows is null ? i : Rows[i];
}

/// <summary>Buffers a batch thread reuses from batch to batch (the float path writes straight into them).</summary>
public sealed class BatchScratch
{
    private float[][] _inputs = [];
    private float[][] _outputs = [];

    public float[] Input(int index, int length) => Get(ref _inputs, index, length);

    public float[] Output(int index, int length) => Get(ref _outputs, index, length);

    private static float[] Get(ref float[][] buffers, int index, int length)
    {
        if (buffers.Length <= index)
        {
            Array.Resize(ref buffers, index + 1);
        }

        if (buffers[index] is not { } buffer || buffer.Length < length)
        {
            buffer = buffers[index] = new float[Math.Max(length, 64)];
        }

        return buffer;
    }
}

/// <summary>
/// Runs several requests' rows as one ONNX Runtime call. Float models (all inputs and outputs float, our classifiers'
/// string label derived) take the binding's in-place float path; others go through <see cref="OrtTensor"/>s.
/// </summary>
public sealed class BatchExecutor(OnnxSession session, ModelSignature signature)
{
    private readonly string[] _outputNames = [.. signature.Outputs.Select(o => o.Name)];
    private readonly int[] _floatOutputs = [.. Enumerable.Range(0, signature.Outputs.Count).Where(o => signature.Outputs[o].Type == TensorElementType.Float)];

    public ModelSignature Signature => signature;

    /// <summary>Fills every item's <see cref="WorkItem.Results"/>.</summary>
    public void Execute(IReadOnlyList<WorkItem> items, BatchScratch scratch)
    {
        var rows = 0;
        foreach (var item in items)
        {
            rows += item.Count;
        }

        if (rows == 0)
        {
            return;
        }

        if (signature.FloatPath)
        {
            ExecuteFloat(items, rows, scratch);
        }
        else
        {
            ExecuteTensors(items, rows);
        }
    }

    private void ExecuteFloat(IReadOnlyList<WorkItem> items, int rows, BatchScratch scratch)
    {
        var inputs = new FloatTensorInput[signature.Inputs.Count];
        var numberWidth = signature.NumberWidth;
        for (var j = 0; j < inputs.Length; j++)
        {
            var input = signature.Inputs[j];
            var width = input.Width;
            var buffer = scratch.Input(j, rows * width);
            var p = 0;
            foreach (var item in items)
            {
                var numbers = item.Block.Numbers;
                for (var i = 0; i < item.Count; i++)
                {
                    var offset = (item.RowAt(i) * numberWidth) + input.Slot;
                    for (var c = 0; c < width; c++)
                    {
                        buffer[p++] = (float)numbers[offset + c];
                    }
                }
            }

            inputs[j] = new FloatTensorInput(input.Name, buffer.AsMemory(0, rows * width), input.Flat ? [rows] : [rows, width]);
        }

        var outputs = new FloatTensorOutput[_floatOutputs.Length];
        for (var k = 0; k < outputs.Length; k++)
        {
            var output = signature.Outputs[_floatOutputs[k]];
            var shape = (long[])output.Node.Shape.Clone();
            shape[0] = rows;
            outputs[k] = new FloatTensorOutput(output.Name, scratch.Output(k, rows * output.Width).AsMemory(0, rows * output.Width), shape);
        }

        session.Run(inputs, outputs);

        var classes = signature.Classes;
        var row = 0;
        foreach (var item in items)
        {
            for (var i = 0; i < item.Count; i++, row++)
            {
                var values = new Array[signature.Outputs.Count];
                for (var k = 0; k < outputs.Length; k++)
                {
                    var width = signature.Outputs[_floatOutputs[k]].Width;
                    values[_floatOutputs[k]] = outputs[k].Buffer.Span.Slice(row * width, width).ToArray();
                }

                if (signature.IsClassifier)
                {
                    var probabilities = (float[])values[signature.ProbabilitiesIndex];
                    var best = 0;
                    for (var c = 1; c < probabilities.Length; c++)
                    {
                        if (probabilities[c] > probabilities[best])
                        {
                            best = c;
                        }
                    }

                    values[signature.LabelIndex] = new[] { best < classes!.Length ? classes[best] : string.Empty };
                }

                item.Results[i] = new Prediction(signature, values);
            }
        }
    }

    private void ExecuteTensors(IReadOnlyList<WorkItem> items, int rows)
    {
        var feeds = new Dictionary<string, OrtTensor>(signature.Inputs.Count, StringComparer.Ordinal);
        foreach (var input in signature.Inputs)
        {
            var width = input.Width;
            var data = Prediction.NewArray(input.Type, rows * width);
            var p = 0;
            foreach (var item in items)
            {
                var block = item.Block;
                for (var i = 0; i < item.Count; i++)
                {
                    var r = item.RowAt(i);
                    for (var c = 0; c < width; c++, p++)
                    {
                        switch (data)
                        {
                            case float[] f: f[p] = (float)block.Number(r, input, c); break;
                            case double[] d: d[p] = block.Number(r, input, c); break;
                            case bool[] b: b[p] = block.Number(r, input, c) != 0; break;
                            case long[] l: l[p] = block.Integer(r, input, c); break;
                            case int[] n: n[p] = (int)block.Integer(r, input, c); break;
                            case string[] s: s[p] = block.Text(r, input, c); break;
                        }
                    }
                }
            }

            feeds[input.Name] = OrtTensor.FromArray(input.Type, data, input.Flat ? [rows] : [rows, width]);
        }

        var results = session.Run(feeds, _outputNames);
        var widths = new int[results.Count];
        for (var o = 0; o < results.Count; o++)
        {
            widths[o] = (int)(results[o].ElementCount / rows);
            if (signature.Outputs[o].Width < 0)
            {
                signature.Outputs[o].Width = widths[o];
            }
        }

        var row = 0;
        foreach (var item in items)
        {
            for (var i = 0; i < item.Count; i++, row++)
            {
                var values = new Array[results.Count];
                for (var o = 0; o < results.Count; o++)
                {
                    var slice = Prediction.NewArray(signature.Outputs[o].Type, widths[o]);
                    Array.Copy(results[o].Data, row * widths[o], slice, 0, widths[o]);
                    values[o] = slice;
                }

                item.Results[i] = new Prediction(signature, values);
            }
        }
    }

    /// <summary>One synthetic row (zeros, empty strings), so the first real request does not pay for lazy initialization.</summary>
    public void WarmUp()
    {
        var block = new RowBlock(signature, 1);
        block.AddEmptyRow();
        Array.Fill(block.Texts, string.Empty);
        Execute([new WorkItem(block, null)], new BatchScratch());
    }
}
