using System.Text;

namespace Ctm.Ml;

/// <summary>
/// Everything a model version is: schema, preprocessing statistics (training means and standard deviations,
/// categorical vocabularies), class names, and weights. A child version warm-starts from it; it round-trips
/// through <see cref="ToBytes"/> and <see cref="FromBytes"/> for the registry.
/// </summary>
/// <remarks>
/// The first layer's input is laid out as: one row per numeric feature (standardized, missing = 0, i.e. the
/// training mean), then for each categorical feature a block of <c>vocabulary length + 1</c> rows, one per
/// category in vocabulary order and the last for out-of-vocabulary, rare and missing values. A categorical
/// value therefore selects one row of the first layer's weights (an embedding, the same as one-hot times the matrix).
/// </remarks>
public sealed class ModelState
{
    private const uint Magic = 0x4D4D5443; // "CTMM"
    private const int FormatVersion = 1;

    internal ModelState(
        ModelTask task, IReadOnlyList<FeatureSpec> features, string labelName, string[] classes,
        float[] numericMeans, float[] numericStds, string[][] vocabularies, float labelMean, float labelStd,
        int[] layerSizes, float[][] weights, float[][] biases, long trainedSamples)
    {
        Task = task;
        Features = features;
        LabelName = labelName;
        Classes = classes;
        NumericMeans = numericMeans;
        NumericStds = numericStds;
        Vocabularies = vocabularies;
        LabelMean = labelMean;
        LabelStd = labelStd;
        LayerSizes = layerSizes;
        Weights = weights;
        Biases = biases;
        TrainedSamples = trainedSamples;
    }

    /// <summary>What the model predicts.</summary>
    public ModelTask Task { get; }

    /// <summary>Input features, in order.</summary>
    public IReadOnlyList<FeatureSpec> Features { get; }

    /// <summary>The label column's name.</summary>
    public string LabelName { get; }

    /// <summary>Class names in output order (ordinal sort); empty for regression. For binary, index 1 is the positive class.</summary>
    public string[] Classes { get; }

    /// <summary>Training mean of each numeric feature (in feature order, numerics only); missing values are imputed with it.</summary>
    public float[] NumericMeans { get; }

    /// <summary>Training standard deviation of each numeric feature (1 where it was 0 or unknown).</summary>
    public float[] NumericStds { get; }

    /// <summary>Vocabulary of each categorical feature (in feature order, categoricals only); index = row in the feature's block.</summary>
    public string[][] Vocabularies { get; }

    /// <summary>Regression: training mean of the label (the network predicts the standardized label).</summary>
    public float LabelMean { get; }

    /// <summary>Regression: training standard deviation of the label.</summary>
    public float LabelStd { get; }

    /// <summary>Layer widths: first-layer input width, hidden widths, output width.</summary>
    public int[] LayerSizes { get; }

    /// <summary>Weights per layer, row-major [input, output].</summary>
    public float[][] Weights { get; }

    /// <summary>Biases per layer.</summary>
    public float[][] Biases { get; }

    /// <summary>Rows seen in training, summed over this version and its ancestors (epochs count each pass).</summary>
    public long TrainedSamples { get; }

    /// <summary>Hidden layer widths.</summary>
    public IReadOnlyList<int> HiddenLayers => LayerSizes[1..^1];

    /// <summary>Trainable parameters.</summary>
    public long ParameterCount => Weights.Sum(w => (long)w.Length) + Biases.Sum(b => (long)b.Length);

    internal int NumericCount => NumericMeans.Length;

    internal int CategoricalCount => Vocabularies.Length;

    /// <summary>First row of each categorical feature's block in the first layer.</summary>
    internal int[] CategoricalOffsets()
    {
        var offsets = new int[Vocabularies.Length];
        var next = NumericCount;
        for (var c = 0; c < offsets.Length; c++)
        {
            offsets[c] = next;
            next += Vocabularies[c].Length + 1;
        }

        return offsets;
    }

    /// <summary>Serializes the state (a versioned binary format, little-endian).</summary>
    public byte[] ToBytes()
    {
        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Magic);
            w.Write(FormatVersion);
            w.Write((int)Task);
            w.Write(LabelName);
            w.Write(Features.Count);
            foreach (var f in Features)
            {
                w.Write(f.Name);
                w.Write((int)f.Kind);
            }

            WriteStrings(w, Classes);
            WriteFloats(w, NumericMeans);
            WriteFloats(w, NumericStds);
            w.Write(Vocabularies.Length);
            foreach (var v in Vocabularies)
            {
                WriteStrings(w, v);
            }

            w.Write(LabelMean);
            w.Write(LabelStd);
            w.Write(LayerSizes.Length);
            foreach (var s in LayerSizes)
            {
                w.Write(s);
            }

            for (var l = 0; l < Weights.Length; l++)
            {
                WriteFloats(w, Weights[l]);
                WriteFloats(w, Biases[l]);
            }

            w.Write(TrainedSamples);
        }

        return stream.ToArray();
    }

    /// <summary>Reads a state written by <see cref="ToBytes"/>.</summary>
    /// <exception cref="InvalidDataException">The bytes are not a model state, or are of an unknown format version.</exception>
    public static ModelState FromBytes(byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        try
        {
            using var r = new BinaryReader(new MemoryStream(bytes), Encoding.UTF8);
            if (r.ReadUInt32() != Magic)
            {
                throw new InvalidDataException("Not a Ctm model state (bad magic number).");
            }

            var version = r.ReadInt32();
            if (version != FormatVersion)
            {
                throw new InvalidDataException($"Model state format version {version} is not supported (expected {FormatVersion}).");
            }

            var task = (ModelTask)r.ReadInt32();
            var label = r.ReadString();
            var features = new FeatureSpec[r.ReadInt32()];
            for (var i = 0; i < features.Length; i++)
            {
                features[i] = new FeatureSpec(r.ReadString(), (FeatureKind)r.ReadInt32());
            }

            var classes = ReadStrings(r);
            var means = ReadFloats(r);
            var stds = ReadFloats(r);
            var vocabularies = new string[r.ReadInt32()][];
            for (var i = 0; i < vocabularies.Length; i++)
            {
                vocabularies[i] = ReadStrings(r);
            }

            var labelMean = r.ReadSingle();
            var labelStd = r.ReadSingle();
            var sizes = new int[r.ReadInt32()];
            for (var i = 0; i < sizes.Length; i++)
            {
                sizes[i] = r.ReadInt32();
            }

            var weights = new float[sizes.Length - 1][];
            var biases = new float[sizes.Length - 1][];
            for (var l = 0; l < weights.Length; l++)
            {
                weights[l] = ReadFloats(r);
                biases[l] = ReadFloats(r);
            }

            var trained = r.ReadInt64();
            var state = new ModelState(task, features, label, classes, means, stds, vocabularies, labelMean, labelStd, sizes, weights, biases, trained);
            state.CheckConsistent();
            return state;
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException("Model state is truncated.", e);
        }
    }

    internal void CheckConsistent()
    {
        var numeric = Features.Count(f => f.Kind == FeatureKind.Numeric);
        if (numeric != NumericMeans.Length || numeric != NumericStds.Length || Features.Count - numeric != Vocabularies.Length)
        {
            throw new InvalidDataException("Model state: feature statistics do not match the features.");
        }

        if (LayerSizes.Length < 2 || LayerSizes[0] != numeric + Vocabularies.Sum(v => v.Length + 1))
        {
            throw new InvalidDataException("Model state: first layer width does not match the features.");
        }

        for (var l = 0; l < Weights.Length; l++)
        {
            if (Weights[l].Length != LayerSizes[l] * LayerSizes[l + 1] || Biases[l].Length != LayerSizes[l + 1])
            {
                throw new InvalidDataException($"Model state: layer {l} has the wrong number of weights.");
            }
        }
    }

    private static void WriteStrings(BinaryWriter w, string[] values)
    {
        w.Write(values.Length);
        foreach (var v in values)
        {
            w.Write(v);
        }
    }

    private static string[] ReadStrings(BinaryReader r)
    {
        var values = new string[r.ReadInt32()];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = r.ReadString();
        }

        return values;
    }

    private static void WriteFloats(BinaryWriter w, float[] values)
    {
        w.Write(values.Length);
        w.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
    }

    private static float[] ReadFloats(BinaryReader r)
    {
        var values = new float[r.ReadInt32()];
        var bytes = r.ReadBytes(values.Length * sizeof(float));
        if (bytes.Length != values.Length * sizeof(float))
        {
            throw new EndOfStreamException();
        }

        Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
        return values;
    }
}
