using Ctm.Onnx;
using Ctm.Onnx.Model;

namespace Ctm.Ml.Engine.Ort;

/// <summary>What a training graph computes after the forward pass and the loss.</summary>
internal enum TrainingGraphKind
{
    /// <summary>Loss, backward and an Adam step: outputs <c>loss</c> and the updated parameters and moments.</summary>
    AdamStep,

    /// <summary>Loss and backward only: outputs <c>loss</c> and each parameter's gradient (<c>grad_w0</c>, …).</summary>
    Gradients,
}

/// <summary>
/// Writes one training step of <see cref="Network"/> as an ONNX graph: the forward pass (numerics × W0's numeric rows
/// plus one gathered W0 row per categorical value, ReLU hidden layers), the managed engine's losses and row weighting
/// (<see cref="Network.LossAndLogitGradient"/>), the backward pass written out operator by operator, and
/// <see cref="TrainingRun"/>'s Adam (L2 in the gradient, decoupled decay, lazy embedding rows).
/// </summary>
/// <remarks>
/// Inputs: <c>x</c> [N, numeric] standardized numerics, <c>cat</c> int64 [N, categorical] first-layer rows,
/// <c>y</c> [N] targets (class index as a number, or the standardized label), <c>w</c> [N] row weights,
/// <c>hyper</c> [4] = (step size = rate / (1 − β₁ᵗ), √(1 − β₂ᵗ), decay = 1 − rate × weight decay, 1 / Σ batch weight),
/// then <c>w{l}</c>, <c>b{l}</c> and, for a step, <c>m_w{l}</c>, <c>v_w{l}</c>, <c>m_b{l}</c>, <c>v_b{l}</c>.
/// Outputs: <c>loss</c> [1] = Σ weight × loss over the batch, then <c>new_…</c> for every parameter and moment
/// (or <c>grad_…</c>). Parameters and their updates have distinct names, so a caller can ping-pong two buffer sets.
/// </remarks>
internal static class TrainingGraph
{
    public const float Beta1 = 0.9f, Beta2 = 0.999f, Epsilon = 1e-8f;
    private const long Opset = 17;

    /// <summary>Names of the trainable tensors in the order the engine binds them: W0…, then B0….</summary>
    public static string[] ParameterNames(int layers) =>
        [.. Enumerable.Range(0, layers).Select(l => $"w{l}"), .. Enumerable.Range(0, layers).Select(l => $"b{l}")];

    /// <summary>Parameters, then first moments, then second moments: the state a step reads and rewrites.</summary>
    public static string[] StateNames(int layers)
    {
        var p = ParameterNames(layers);
        return [.. p, .. p.Select(n => $"m_{n}"), .. p.Select(n => $"v_{n}")];
    }

    /// <summary>The shape of each of <see cref="ParameterNames"/>.</summary>
    public static long[][] ParameterShapes(int[] sizes)
    {
        var layers = sizes.Length - 1;
        return [.. Enumerable.Range(0, layers).Select(l => new long[] { sizes[l], sizes[l + 1] }),
            .. Enumerable.Range(0, layers).Select(l => new long[] { sizes[l + 1] })];
    }

    public static byte[] Build(
        ModelTask task, int numericCount, int categoricalCount, int[] sizes, float l2,
        TrainingGraphKind kind, TensorElementType type = TensorElementType.Float) =>
        new Writer(task, numericCount, categoricalCount, sizes, l2, kind, type).Build();

    private sealed class Writer(
        ModelTask task, int numericCount, int categoricalCount, int[] sizes, float l2, TrainingGraphKind kind, TensorElementType type)
    {
        private readonly OnnxGraphBuilder _g = new("ctm_training_step");
        private readonly int _layers = sizes.Length - 1;
        private int _constants;

        public byte[] Build()
        {
            var g = _g;
            long? n = null;
            if (numericCount > 0)
            {
                g.AddInput("x", type, [n, numericCount], ["N"]);
            }

            if (categoricalCount > 0)
            {
                g.AddInput("cat", TensorElementType.Int64, [n, categoricalCount], ["N"]);
            }

            g.AddInput("y", type, [n], ["N"]);
            g.AddInput("w", type, [n], ["N"]);
            g.AddInput("hyper", type, [4]);
            var parameters = ParameterNames(_layers);
            var shapes = ParameterShapes(sizes);
            for (var i = 0; i < parameters.Length; i++)
            {
                g.AddInput(parameters[i], type, [.. shapes[i].Select(d => (long?)d)]);
            }

            if (kind == TrainingGraphKind.AdamStep)
            {
                foreach (var moment in new[] { "m", "v" })
                {
                    for (var i = 0; i < parameters.Length; i++)
                    {
                        g.AddInput($"{moment}_{parameters[i]}", type, [.. shapes[i].Select(d => (long?)d)]);
                    }
                }
            }

            g.AddNode("Split", ["hyper", Ints("split4", 1, 1, 1, 1)], ["step_size", "bc2_sqrt", "decay", "inv_weight"], attributes: [OnnxAttribute.Int("axis", 0)]);

            var activations = Forward();
            var delta = Loss(activations[^1]);
            var gradients = Backward(delta);

            g.AddOutput("loss", type, [1]);
            if (kind == TrainingGraphKind.Gradients)
            {
                for (var i = 0; i < parameters.Length; i++)
                {
                    g.AddNode("Identity", [gradients[i]], [$"grad_{parameters[i]}"]);
                    g.AddOutput($"grad_{parameters[i]}", type, [.. shapes[i].Select(d => (long?)d)]);
                }
            }
            else
            {
                var touched = categoricalCount > 0 ? TouchedRows() : null;
                for (var i = 0; i < parameters.Length; i++)
                {
                    Adam(parameters[i], gradients[i], isWeight: i < _layers, rowMask: i == 0 ? touched : null);
                }

                foreach (var prefix in new[] { "new_", "new_m_", "new_v_" })
                {
                    for (var i = 0; i < parameters.Length; i++)
                    {
                        g.AddOutput(prefix + parameters[i], type, [.. shapes[i].Select(d => (long?)d)]);
                    }
                }
            }

            return g.Build(new OnnxModelInfo { Opsets = { [""] = Opset } });
        }

        /// <summary>Pre-activations and ReLU outputs in order, [z0, a0, z1, a1, …]; the last is the logits.</summary>
        private List<string> Forward()
        {
            var g = _g;
            var terms = new List<string>();
            if (numericCount > 0)
            {
                g.AddNode("Slice", ["w0", Ints("zero1", 0), Ints("numeric_end", numericCount), Ints("axis0", 0)], ["w0_numeric"]);
                g.AddNode("MatMul", ["x", "w0_numeric"], ["z0_numeric"]);
                terms.Add("z0_numeric");
            }

            if (categoricalCount > 0)
            {
                g.AddNode("Gather", ["w0", "cat"], ["embeddings"], attributes: [OnnxAttribute.Int("axis", 0)]);
                g.AddNode("ReduceSum", ["embeddings", Ints("axis1", 1)], ["z0_categorical"], attributes: [OnnxAttribute.Int("keepdims", 0)]);
                terms.Add("z0_categorical");
            }

            if (terms.Count == 0)
            {
                throw new ArgumentException("A training graph needs at least one numeric or categorical feature.");
            }

            g.AddNode("Sum", [.. terms, "b0"], ["z0"]);
            var values = new List<string> { "z0" };
            for (var l = 1; l < _layers; l++)
            {
                g.AddNode("Relu", [$"z{l - 1}"], [$"a{l - 1}"]);
                g.AddNode("Gemm", [$"a{l - 1}", $"w{l}", $"b{l}"], [$"z{l}"]);
                values.Add($"a{l - 1}");
                values.Add($"z{l}");
            }

            return values;
        }

        /// <summary>Σ weight × loss into <c>loss</c>; returns dLoss/dLogits of the weighted mean loss, [N, outputs].</summary>
        private string Loss(string logits)
        {
            var g = _g;
            g.AddNode("Mul", ["w", "inv_weight"], ["row_scale"]);
            string rowLoss;
            if (task == ModelTask.MulticlassClassification)
            {
                var classes = sizes[^1];
                g.AddNode("Cast", ["y"], ["y_index"], attributes: [OnnxAttribute.Int("to", (long)TensorElementType.Int64)]);
                // One-hot as index == class (OneHot has no double kernel on the CPU provider).
                g.AddNode("Unsqueeze", ["y_index", Ints("axis1", 1)], ["y_column"]);
                g.AddNode("Equal", ["y_column", Ints("classes", [.. Enumerable.Range(0, classes).Select(c => (long)c)])], ["is_target"]);
                g.AddNode("Cast", ["is_target"], ["target"], attributes: [OnnxAttribute.Int("to", (long)type)]);
                g.AddNode("LogSoftmax", [logits], ["log_p"], attributes: [OnnxAttribute.Int("axis", 1)]);
                g.AddNode("Mul", ["target", "log_p"], ["target_log_p"]);
                g.AddNode("ReduceSum", ["target_log_p", Ints("axis1", 1)], ["neg_row_loss"], attributes: [OnnxAttribute.Int("keepdims", 0)]);
                g.AddNode("Neg", ["neg_row_loss"], ["row_loss"]);
                g.AddNode("Softmax", [logits], ["p"], attributes: [OnnxAttribute.Int("axis", 1)]);
                g.AddNode("Sub", ["p", "target"], ["row_gradient"]);
                g.AddNode("Unsqueeze", ["row_scale", Ints("axis1", 1)], ["row_scale_column"]);
                g.AddNode("Mul", ["row_gradient", "row_scale_column"], ["delta_out"]);
                rowLoss = "row_loss";
            }
            else
            {
                g.AddNode("Reshape", [logits, Ints("flat", -1)], ["z_flat"]);
                if (task == ModelTask.BinaryClassification)
                {
                    // max(z, 0) − z·t + log(1 + e^−|z|): the stable form, as the managed engine computes it.
                    g.AddNode("Relu", ["z_flat"], ["z_pos"]);
                    g.AddNode("Mul", ["z_flat", "y"], ["z_t"]);
                    g.AddNode("Abs", ["z_flat"], ["z_abs"]);
                    g.AddNode("Neg", ["z_abs"], ["z_neg_abs"]);
                    g.AddNode("Exp", ["z_neg_abs"], ["z_exp"]);
                    g.AddNode("Add", ["z_exp", Scalar(1)], ["z_exp1"]);
                    g.AddNode("Log", ["z_exp1"], ["z_softplus"]);
                    g.AddNode("Sub", ["z_pos", "z_t"], ["z_margin"]);
                    g.AddNode("Add", ["z_margin", "z_softplus"], ["row_loss"]);
                    g.AddNode("Sigmoid", ["z_flat"], ["p"]);
                    g.AddNode("Sub", ["p", "y"], ["row_gradient"]);
                }
                else
                {
                    g.AddNode("Sub", ["z_flat", "y"], ["residual"]);
                    g.AddNode("Mul", ["residual", "residual"], ["row_loss"]);
                    g.AddNode("Mul", ["residual", Scalar(2)], ["row_gradient"]);
                }

                g.AddNode("Mul", ["row_gradient", "row_scale"], ["delta_flat"]);
                g.AddNode("Unsqueeze", ["delta_flat", Ints("axis1", 1)], ["delta_out"]);
                rowLoss = "row_loss";
            }

            g.AddNode("Mul", [rowLoss, "w"], ["weighted_loss"]);
            g.AddNode("ReduceSum", ["weighted_loss"], ["loss"], attributes: [OnnxAttribute.Int("keepdims", 1)]);
            return "delta_out";
        }

        /// <summary>Gradients in <see cref="ParameterNames"/> order.</summary>
        private string[] Backward(string delta)
        {
            var g = _g;
            var gw = new string[_layers];
            var gb = new string[_layers];
            for (var l = _layers - 1; l >= 0; l--)
            {
                g.AddNode("ReduceSum", [delta, Ints("axis0", 0)], [$"gb{l}"], attributes: [OnnxAttribute.Int("keepdims", 0)]);
                gb[l] = $"gb{l}";
                if (l > 0)
                {
                    var input = $"a{l - 1}";
                    g.AddNode("Gemm", [input, delta], [$"gw{l}"], attributes: [OnnxAttribute.Int("transA", 1)]);
                    g.AddNode("Gemm", [delta, $"w{l}"], [$"da{l - 1}"], attributes: [OnnxAttribute.Int("transB", 1)]);
                    // ReLU's derivative: A > 0 exactly where Z > 0.
                    g.AddNode("Greater", [input, Scalar(0)], [$"active{l - 1}"]);
                    g.AddNode("Where", [$"active{l - 1}", $"da{l - 1}", Scalar(0)], [$"dz{l - 1}"]);
                    gw[l] = $"gw{l}";
                    delta = $"dz{l - 1}";
                    continue;
                }

                gw[0] = FirstLayerGradient(delta);
            }

            return [.. gw, .. gb];
        }

        /// <summary>
        /// dW0: Xᵀ·dZ for the numeric rows, and each row's dZ added into the W0 row of each of its categories
        /// (ScatterND with add, the transpose of the forward Gather).
        /// </summary>
        private string FirstLayerGradient(string delta)
        {
            var g = _g;
            var h = sizes[1];
            var categoricalRows = sizes[0] - numericCount;
            if (numericCount > 0)
            {
                g.AddNode("Gemm", ["x", delta], ["gw0_numeric"], attributes: [OnnxAttribute.Int("transA", 1)]);
            }

            if (categoricalCount == 0)
            {
                return "gw0_numeric";
            }

            g.AddNode("ConstantOfShape", [Ints("categorical_block", categoricalRows, h)], ["gw0_categorical_zero"],
                attributes: [OnnxAttribute.Tensor("value", ScalarTensor(0))]);
            if (numericCount > 0)
            {
                g.AddNode("Concat", ["gw0_numeric", "gw0_categorical_zero"], ["gw0_base"], attributes: [OnnxAttribute.Int("axis", 0)]);
            }
            else
            {
                g.AddNode("Identity", ["gw0_categorical_zero"], ["gw0_base"]);
            }

            g.AddNode("Unsqueeze", [delta, Ints("axis1", 1)], ["delta0_column"]);
            g.AddNode("Shape", ["embeddings"], ["embeddings_shape"]);
            g.AddNode("Expand", ["delta0_column", "embeddings_shape"], ["delta0_per_category"]);
            g.AddNode("Reshape", ["delta0_per_category", Ints("rows_by_width", -1, h)], ["category_updates"]);
            g.AddNode("Reshape", ["cat", Ints("column", -1, 1)], ["category_rows"]);
            g.AddNode("ScatterND", ["gw0_base", "category_rows", "category_updates"], ["gw0"], attributes: [OnnxAttribute.String("reduction", "add")]);
            return "gw0";
        }

        /// <summary>[rows of W0, 1] bool: numeric rows always, an embedding row only when its category is in the batch.</summary>
        private string TouchedRows()
        {
            var g = _g;
            var rows = sizes[0];
            var initial = new float[rows];
            Array.Fill(initial, 1f, 0, numericCount);
            _g.AddInitializer("touched_base", initial, [rows, 1]);
            g.AddNode("Shape", ["category_rows"], ["category_rows_shape"]);
            g.AddNode("ConstantOfShape", ["category_rows_shape"], ["category_ones"],
                attributes: [OnnxAttribute.Tensor("value", OrtTensor.FromFloat([1f], 1))]);
            g.AddNode("ScatterND", ["touched_base", "category_rows", "category_ones"], ["touched_count"], attributes: [OnnxAttribute.String("reduction", "add")]);
            g.AddNode("Greater", ["touched_count", Float32Scalar(0)], ["touched"]);
            return "touched";
        }

        /// <summary>TrainingRun.AdamStep as operators: g += l2·p (weights), m, v, p = p·decay − step·m / (√v / √(1−β₂ᵗ) + ε).</summary>
        private void Adam(string p, string gradient, bool isWeight, string? rowMask)
        {
            var g = _g;
            var grad = gradient;
            if (isWeight && l2 > 0)
            {
                g.AddNode("Mul", [p, Scalar(l2)], [$"{p}_l2"]);
                g.AddNode("Add", [gradient, $"{p}_l2"], [$"{p}_g"]);
                grad = $"{p}_g";
            }

            g.AddNode("Mul", [$"m_{p}", Scalar(Beta1)], [$"{p}_m_old"]);
            g.AddNode("Mul", [grad, Scalar(1 - Beta1)], [$"{p}_m_new"]);
            g.AddNode("Add", [$"{p}_m_old", $"{p}_m_new"], [$"{p}_m"]);
            g.AddNode("Mul", [$"v_{p}", Scalar(Beta2)], [$"{p}_v_old"]);
            g.AddNode("Mul", [grad, Scalar(1 - Beta2)], [$"{p}_g_scaled"]);
            g.AddNode("Mul", [$"{p}_g_scaled", grad], [$"{p}_v_new"]);
            g.AddNode("Add", [$"{p}_v_old", $"{p}_v_new"], [$"{p}_v"]);
            g.AddNode("Sqrt", [$"{p}_v"], [$"{p}_v_sqrt"]);
            g.AddNode("Div", [$"{p}_v_sqrt", "bc2_sqrt"], [$"{p}_v_corrected"]);
            g.AddNode("Add", [$"{p}_v_corrected", Scalar(Epsilon)], [$"{p}_denominator"]);
            g.AddNode("Mul", ["step_size", $"{p}_m"], [$"{p}_step_m"]);
            g.AddNode("Div", [$"{p}_step_m", $"{p}_denominator"], [$"{p}_update"]);
            var kept = p;
            if (isWeight)
            {
                g.AddNode("Mul", [p, "decay"], [$"{p}_decayed"]);
                kept = $"{p}_decayed";
            }

            g.AddNode("Sub", [kept, $"{p}_update"], [$"{p}_next"]);
            if (rowMask is null)
            {
                g.AddNode("Identity", [$"{p}_next"], [$"new_{p}"]);
                g.AddNode("Identity", [$"{p}_m"], [$"new_m_{p}"]);
                g.AddNode("Identity", [$"{p}_v"], [$"new_v_{p}"]);
                return;
            }

            // Lazy rows: an embedding row whose category is not in the batch keeps its weights and moments.
            g.AddNode("Where", [rowMask, $"{p}_next", p], [$"new_{p}"]);
            g.AddNode("Where", [rowMask, $"{p}_m", $"m_{p}"], [$"new_m_{p}"]);
            g.AddNode("Where", [rowMask, $"{p}_v", $"v_{p}"], [$"new_v_{p}"]);
        }

        private string Ints(string name, params long[] values)
        {
            name = $"const_{name}";
            if (!_defined.Contains(name))
            {
                _g.AddInitializer(name, values, [values.Length]);
                _defined.Add(name);
            }

            return name;
        }

        private readonly HashSet<string> _defined = new(StringComparer.Ordinal);

        /// <summary>A rank-0 constant of the graph's element type (a float's value, so the double graph computes what the float one does).</summary>
        private string Scalar(float value)
        {
            var name = $"const_s{_constants++}";
            _g.AddInitializer(name, ScalarTensor(value));
            return name;
        }

        private string Float32Scalar(float value)
        {
            var name = $"const_f{_constants++}";
            _g.AddInitializer(name, OrtTensor.FromFloat([value]));
            return name;
        }

        private OrtTensor ScalarTensor(float value) => type == TensorElementType.Double
            ? OrtTensor.FromDouble([value], 1)
            : OrtTensor.FromFloat([value], 1);
    }
}
