namespace Ctm.Testing.Streams;

/// <summary>
/// SplitMix64: our own generator so that the same seed gives the same stream on every .NET version
/// (<see cref="Random"/>'s sequence is not a documented contract).
/// </summary>
internal sealed class StreamRandom(ulong seed)
{
    private ulong _state = seed;
    private double? _spareNormal;

    public static StreamRandom For(int seed, ulong stream) => new(((ulong)(uint)seed * 0x9E3779B97F4A7C15UL) ^ (stream * 0xD1B54A32D192ED03UL));

    public ulong NextUInt64()
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    public int Next(int maxExclusive) => (int)(NextDouble() * maxExclusive);

    public bool Chance(double p) => NextDouble() < p;

    public double Normal(double mean = 0, double sd = 1)
    {
        if (_spareNormal is { } spare)
        {
            _spareNormal = null;
            return mean + (sd * spare);
        }

        double u, v, s;
        do
        {
            u = (2 * NextDouble()) - 1;
            v = (2 * NextDouble()) - 1;
            s = (u * u) + (v * v);
        }
        while (s >= 1 || s == 0);

        var factor = Math.Sqrt(-2 * Math.Log(s) / s);
        _spareNormal = v * factor;
        return mean + (sd * u * factor);
    }

    /// <summary>Poisson by multiplication (Knuth); the rates here stay below a few hundred per draw.</summary>
    public int Poisson(double lambda)
    {
        if (lambda > 200)
        {
            return Math.Max(0, (int)Math.Round(Normal(lambda, Math.Sqrt(lambda))));
        }

        var limit = Math.Exp(-lambda);
        var k = 0;
        var p = NextDouble();
        while (p > limit)
        {
            k++;
            p *= NextDouble();
        }

        return k;
    }
}

/// <summary>Draws indices in proportion to weights that can be appended to (a growing population).</summary>
internal sealed class WeightedPicker
{
    private readonly List<double> _weights = [];
    private double[] _cumulative = [];
    private bool _dirty;

    public int Count => _weights.Count;

    public void Add(double weight)
    {
        _weights.Add(weight);
        _dirty = true;
    }

    public int Pick(StreamRandom random)
    {
        if (_dirty)
        {
            _cumulative = new double[_weights.Count];
            var sum = 0.0;
            for (var i = 0; i < _weights.Count; i++)
            {
                sum += _weights[i];
                _cumulative[i] = sum;
            }

            _dirty = false;
        }

        var target = random.NextDouble() * _cumulative[^1];
        var index = Array.BinarySearch(_cumulative, target);
        return Math.Min(index < 0 ? ~index : index + 1, _cumulative.Length - 1);
    }
}
