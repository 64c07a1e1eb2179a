using Ctm.Onnx;
using Ctm.Onnx.Model;

namespace Ctm.Predictor.Tests;

/// <summary>Models built with the project's own writer that are not tabular: every element type, ranks 1–4, strings, a Run-time failure.</summary>
internal static class AnyModels
{
    /// <summary>Every element type the protocols carry, one Identity each, at ranks 1–4, fixed and symbolic dimensions, sharing no row dimension.</summary>
    public static readonly (string Name, TensorElementType Type, string Datatype, long?[] Dims, long[] Shape)[] Typed =
    [
        ("f32", TensorElementType.Float, "FP32", [2, 3, 2, 2], [2, 3, 2, 2]),
        ("f64", TensorElementType.Double, "FP64", [null], [5]),
        ("f16", TensorElementType.Float16, "FP16", [2, null], [2, 3]),
        ("i8", TensorElementType.Int8, "INT8", [3], [3]),
        ("i16", TensorElementType.Int16, "INT16", [null, 2, 2], [1, 2, 2]),
        ("i32", TensorElementType.Int32, "INT32", [4], [4]),
        ("i64", TensorElementType.Int64, "INT64", [null, null], [2, 2]),
        ("u8", TensorElementType.UInt8, "UINT8", [1, 2, 2, 3], [1, 2, 2, 3]),
        ("u16", TensorElementType.UInt16, "UINT16", [2], [2]),
        ("u32", TensorElementType.UInt32, "UINT32", [null], [3]),
        ("u64", TensorElementType.UInt64, "UINT64", [2, 1], [2, 1]),
        ("flag", TensorElementType.Bool, "BOOL", [null, 3], [2, 3]),
        ("text", TensorElementType.String, "BYTES", [2, 2], [2, 2]),
    ];

    public static byte[] AllTypes()
    {
        var g = new OnnxGraphBuilder("all-types");
        foreach (var (name, type, _, dims, _) in Typed)
        {
            g.AddInput(name, type, dims);
            g.AddNode("Identity", [name], [name + "_out"]);
            g.AddOutput(name + "_out", type, dims);
        }

        return g.Build();
    }

    /// <summary>A string model with ONNX operators: StringNormalizer (upper case) on a [N] string input, LabelEncoder on a fixed [2, 2] matrix.</summary>
    public static byte[] Strings()
    {
        var g = new OnnxGraphBuilder("strings");
        g.AddInput("words", TensorElementType.String, [null], ["N"]);
        g.AddInput("codes", TensorElementType.String, [2, 2]);
        g.AddNode("StringNormalizer", ["words"], ["upper"], attributes: [OnnxAttribute.String("case_change_action", "UPPER")]);
        g.AddNode("LabelEncoder", ["codes"], ["names"], domain: "ai.onnx.ml", attributes:
        [
            OnnxAttribute.Strings("keys_strings", "r", "g"),
            OnnxAttribute.Strings("values_strings", "red", "green"),
            OnnxAttribute.String("default_string", "unknown"),
        ]);
        g.AddOutput("upper", TensorElementType.String, [null], ["N"]);
        g.AddOutput("names", TensorElementType.String, [2, 2]);
        return g.Build(new OnnxModelInfo { Opsets = { [""] = 17, ["ai.onnx.ml"] = 3 } });
    }

    /// <summary>x: float[N, 4] reshaped to [1, 4]: loads and warms up (N = 1), fails in ONNX Runtime for any other N.</summary>
    public static byte[] FailsAtRun()
    {
        var g = new OnnxGraphBuilder("fails-at-run");
        g.AddInput("x", TensorElementType.Float, [null, 4], ["N"]);
        g.AddInitializer("shape", new long[] { 1, 4 }, [2]);
        g.AddNode("Reshape", ["x", "shape"], ["y"]);
        g.AddOutput("y", TensorElementType.Float, [1, 4]);
        return g.Build();
    }

    /// <summary>Deterministic values of <paramref name="type"/> for a tensor of <paramref name="count"/> elements.</summary>
    public static Array Values(TensorElementType type, int count)
    {
        var i = Enumerable.Range(0, count).ToArray();
        return type switch
        {
            TensorElementType.Float => i.Select(x => (x * 0.75f) - 3.5f).ToArray(),
            TensorElementType.Double => i.Select(x => (x * 1.0e10) + 0.125).ToArray(),
            TensorElementType.Float16 => i.Select(x => (Half)((x * 0.5f) - 1)).ToArray(),
            TensorElementType.Int8 => i.Select(x => (sbyte)(x == 0 ? sbyte.MinValue : x * 40)).ToArray(),
            TensorElementType.Int16 => i.Select(x => (short)(x * -1000)).ToArray(),
            TensorElementType.Int32 => i.Select(x => x == 3 ? int.MaxValue : -x).ToArray(),
            TensorElementType.Int64 => i.Select(x => x == 0 ? long.MinValue : x * 10_000_000_000L).ToArray(),
            TensorElementType.UInt8 => i.Select(x => (byte)(x * 21)).ToArray(),
            TensorElementType.UInt16 => i.Select(x => (ushort)(65535 - x)).ToArray(),
            TensorElementType.UInt32 => i.Select(x => uint.MaxValue - (uint)x).ToArray(),
            TensorElementType.UInt64 => i.Select(x => ulong.MaxValue - (ulong)x).ToArray(),
            TensorElementType.Bool => i.Select(x => x % 2 == 0).ToArray(),
            TensorElementType.String => i.Select(x => $"wörd {x} \"quoted\"").ToArray(),
            _ => throw new ArgumentOutOfRangeException(nameof(type)),
        };
    }
}
