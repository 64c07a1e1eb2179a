using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Ctm.Ml.Engine;

/// <summary>
/// The few vector loops of the training step, compiled fully optimized on first call: library equivalents start
/// as tier-0 or ReadyToRun code and are recompiled only after a delay, which would skew short runs and estimates.
/// Each element's arithmetic is the same on every path, so results do not depend on the vector width.
/// </summary>
internal static class Simd
{
    /// <summary>destination[i] += source[i].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Add(Span<float> destination, ReadOnlySpan<float> source)
    {
        ref var d = ref MemoryMarshal.GetReference(destination);
        ref var s = ref MemoryMarshal.GetReference(source);
        var n = destination.Length;
        var i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + 16 <= n; i += 16)
            {
                (Vector512.LoadUnsafe(ref d, (nuint)i) + Vector512.LoadUnsafe(ref s, (nuint)i)).StoreUnsafe(ref d, (nuint)i);
            }
        }

        for (; i + 8 <= n; i += 8)
        {
            (Vector256.LoadUnsafe(ref d, (nuint)i) + Vector256.LoadUnsafe(ref s, (nuint)i)).StoreUnsafe(ref d, (nuint)i);
        }

        for (; i < n; i++)
        {
            Unsafe.Add(ref d, i) += Unsafe.Add(ref s, i);
        }
    }

    /// <summary>destination[i] += scale · source[i] (fused).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyAdd(Span<float> destination, ReadOnlySpan<float> source, float scale)
    {
        ref var d = ref MemoryMarshal.GetReference(destination);
        ref var s = ref MemoryMarshal.GetReference(source);
        var n = destination.Length;
        var i = 0;
        var v = Vector256.Create(scale);
        for (; i + 8 <= n; i += 8)
        {
            Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref s, (nuint)i), v, Vector256.LoadUnsafe(ref d, (nuint)i)).StoreUnsafe(ref d, (nuint)i);
        }

        for (; i < n; i++)
        {
            Unsafe.Add(ref d, i) = MathF.FusedMultiplyAdd(Unsafe.Add(ref s, i), scale, Unsafe.Add(ref d, i));
        }
    }

    /// <summary>Σ a[i]·b[i], accumulated in 8 lanes then summed in a fixed order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        ref var x = ref MemoryMarshal.GetReference(a);
        ref var y = ref MemoryMarshal.GetReference(b);
        var n = a.Length;
        var i = 0;
        var acc = Vector256<float>.Zero;
        for (; i + 8 <= n; i += 8)
        {
            acc = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref x, (nuint)i), Vector256.LoadUnsafe(ref y, (nuint)i), acc);
        }

        var sum = Vector256.Sum(acc);
        for (; i < n; i++)
        {
            sum = MathF.FusedMultiplyAdd(Unsafe.Add(ref x, i), Unsafe.Add(ref y, i), sum);
        }

        return sum;
    }

    /// <summary>values[i] = max(values[i], 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Relu(Span<float> values)
    {
        ref var d = ref MemoryMarshal.GetReference(values);
        var n = values.Length;
        var i = 0;
        for (; i + 8 <= n; i += 8)
        {
            Vector256.Max(Vector256.LoadUnsafe(ref d, (nuint)i), Vector256<float>.Zero).StoreUnsafe(ref d, (nuint)i);
        }

        for (; i < n; i++)
        {
            ref var v = ref Unsafe.Add(ref d, i);
            v = v > 0 ? v : 0;
        }
    }
}
