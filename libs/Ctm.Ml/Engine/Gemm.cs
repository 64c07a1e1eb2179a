using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Ctm.Ml.Engine;

/// <summary>
/// Single-precision matrix product for the small, skinny matrices of tabular MLPs, where a call is a few
/// microseconds and library dispatch overhead would dominate. A is read through two strides so the same
/// register-blocked kernel serves A·B and Aᵀ·B; B and C are row-major with contiguous columns.
/// </summary>
internal static unsafe class Gemm
{
    /// <summary>C[i,j] (+)= Σp A[i·ars + p·acs] · B[p·ldb + j] for i &lt; m, j &lt; n, p &lt; k.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply(int m, int n, int k, float* a, int ars, int acs, float* b, int ldb, float* c, int ldc, bool accumulate)
    {
        if (m == 0 || n == 0)
        {
            return;
        }

        if (k == 0)
        {
            if (!accumulate)
            {
                for (var i = 0; i < m; i++)
                {
                    new Span<float>(c + ((long)i * ldc), n).Clear();
                }
            }

            return;
        }

        if (n < 8)
        {
            Narrow(m, n, k, a, ars, acs, b, ldb, c, ldc, accumulate);
            return;
        }

        var i0 = 0;
        for (; i0 + 4 <= m; i0 += 4)
        {
            var ai = a + ((long)i0 * ars);
            var ci = c + ((long)i0 * ldc);
            var j = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                for (; j + 32 <= n; j += 32)
                {
                    Block4x32(k, ai, ars, acs, b + j, ldb, ci + j, ldc, accumulate);
                }
            }

            for (; j + 16 <= n; j += 16)
            {
                Block4x16(k, ai, ars, acs, b + j, ldb, ci + j, ldc, accumulate);
            }

            for (; j + 8 <= n; j += 8)
            {
                Block4x8(k, ai, ars, acs, b + j, ldb, ci + j, ldc, accumulate);
            }

            for (var r = 0; r < 4; r++)
            {
                ScalarColumns(j, n, k, ai + ((long)r * ars), acs, b, ldb, ci + ((long)r * ldc), accumulate);
            }
        }

        for (; i0 < m; i0++)
        {
            var ai = a + ((long)i0 * ars);
            var ci = c + ((long)i0 * ldc);
            var j = 0;
            for (; j + 8 <= n; j += 8)
            {
                var acc = accumulate ? Vector256.Load(ci + j) : Vector256<float>.Zero;
                var ap = ai;
                var bp = b + j;
                for (var p = 0; p < k; p++, ap += acs, bp += ldb)
                {
                    acc = Vector256.FusedMultiplyAdd(Vector256.Create(*ap), Vector256.Load(bp), acc);
                }

                acc.Store(ci + j);
            }

            ScalarColumns(j, n, k, ai, acs, b, ldb, ci, accumulate);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block4x32(int k, float* a0, int ars, int acs, float* b, int ldb, float* c, int ldc, bool accumulate)
    {
        float* a1 = a0 + ars, a2 = a1 + ars, a3 = a2 + ars;
        float* c1 = c + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
        Vector512<float> c00, c01, c10, c11, c20, c21, c30, c31;
        if (accumulate)
        {
            c00 = Vector512.Load(c); c01 = Vector512.Load(c + 16);
            c10 = Vector512.Load(c1); c11 = Vector512.Load(c1 + 16);
            c20 = Vector512.Load(c2); c21 = Vector512.Load(c2 + 16);
            c30 = Vector512.Load(c3); c31 = Vector512.Load(c3 + 16);
        }
        else
        {
            c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = Vector512<float>.Zero;
        }

        for (var p = 0; p < k; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            b += ldb;
            var x = Vector512.Create(*a0);
            c00 = Vector512.FusedMultiplyAdd(x, b0, c00);
            c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(*a1);
            c10 = Vector512.FusedMultiplyAdd(x, b0, c10);
            c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(*a2);
            c20 = Vector512.FusedMultiplyAdd(x, b0, c20);
            c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(*a3);
            c30 = Vector512.FusedMultiplyAdd(x, b0, c30);
            c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
            a0 += acs; a1 += acs; a2 += acs; a3 += acs;
        }

        c00.Store(c); c01.Store(c + 16);
        c10.Store(c1); c11.Store(c1 + 16);
        c20.Store(c2); c21.Store(c2 + 16);
        c30.Store(c3); c31.Store(c3 + 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block4x16(int k, float* a0, int ars, int acs, float* b, int ldb, float* c, int ldc, bool accumulate)
    {
        float* a1 = a0 + ars, a2 = a1 + ars, a3 = a2 + ars;
        float* c1 = c + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
        Vector256<float> c00, c01, c10, c11, c20, c21, c30, c31;
        if (accumulate)
        {
            c00 = Vector256.Load(c); c01 = Vector256.Load(c + 8);
            c10 = Vector256.Load(c1); c11 = Vector256.Load(c1 + 8);
            c20 = Vector256.Load(c2); c21 = Vector256.Load(c2 + 8);
            c30 = Vector256.Load(c3); c31 = Vector256.Load(c3 + 8);
        }
        else
        {
            c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = Vector256<float>.Zero;
        }

        for (var p = 0; p < k; p++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            b += ldb;
            var x = Vector256.Create(*a0);
            c00 = Vector256.FusedMultiplyAdd(x, b0, c00);
            c01 = Vector256.FusedMultiplyAdd(x, b1, c01);
            x = Vector256.Create(*a1);
            c10 = Vector256.FusedMultiplyAdd(x, b0, c10);
            c11 = Vector256.FusedMultiplyAdd(x, b1, c11);
            x = Vector256.Create(*a2);
            c20 = Vector256.FusedMultiplyAdd(x, b0, c20);
            c21 = Vector256.FusedMultiplyAdd(x, b1, c21);
            x = Vector256.Create(*a3);
            c30 = Vector256.FusedMultiplyAdd(x, b0, c30);
            c31 = Vector256.FusedMultiplyAdd(x, b1, c31);
            a0 += acs; a1 += acs; a2 += acs; a3 += acs;
        }

        c00.Store(c); c01.Store(c + 8);
        c10.Store(c1); c11.Store(c1 + 8);
        c20.Store(c2); c21.Store(c2 + 8);
        c30.Store(c3); c31.Store(c3 + 8);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block4x8(int k, float* a0, int ars, int acs, float* b, int ldb, float* c, int ldc, bool accumulate)
    {
        float* a1 = a0 + ars, a2 = a1 + ars, a3 = a2 + ars;
        float* c1 = c + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
        Vector256<float> c0, c1v, c2v, c3v;
        if (accumulate)
        {
            c0 = Vector256.Load(c); c1v = Vector256.Load(c1); c2v = Vector256.Load(c2); c3v = Vector256.Load(c3);
        }
        else
        {
            c0 = c1v = c2v = c3v = Vector256<float>.Zero;
        }

        for (var p = 0; p < k; p++)
        {
            var b0 = Vector256.Load(b);
            b += ldb;
            c0 = Vector256.FusedMultiplyAdd(Vector256.Create(*a0), b0, c0);
            c1v = Vector256.FusedMultiplyAdd(Vector256.Create(*a1), b0, c1v);
            c2v = Vector256.FusedMultiplyAdd(Vector256.Create(*a2), b0, c2v);
            c3v = Vector256.FusedMultiplyAdd(Vector256.Create(*a3), b0, c3v);
            a0 += acs; a1 += acs; a2 += acs; a3 += acs;
        }

        c0.Store(c); c1v.Store(c1); c2v.Store(c2); c3v.Store(c3);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ScalarColumns(int j0, int n, int k, float* ai, int acs, float* b, int ldb, float* ci, bool accumulate)
    {
        for (var j = j0; j < n; j++)
        {
            var sum = accumulate ? ci[j] : 0f;
            var ap = ai;
            for (var p = 0; p < k; p++, ap += acs)
            {
                sum = MathF.FusedMultiplyAdd(*ap, b[((long)p * ldb) + j], sum);
            }

            ci[j] = sum;
        }
    }

    // Fewer than 8 output columns (the logit layer): vectorize along the other dimension instead.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Narrow(int m, int n, int k, float* a, int ars, int acs, float* b, int ldb, float* c, int ldc, bool accumulate)
    {
        if (acs == 1)
        {
            // Each output is a dot product of a contiguous row of A with a column of B.
            var column = k <= 4096 ? stackalloc float[k] : new float[k];
            for (var j = 0; j < n; j++)
            {
                for (var p = 0; p < k; p++)
                {
                    column[p] = b[((long)p * ldb) + j];
                }

                for (var i = 0; i < m; i++)
                {
                    var dot = Simd.Dot(new ReadOnlySpan<float>(a + ((long)i * ars), k), column);
                    var ci = c + ((long)i * ldc) + j;
                    *ci = accumulate ? *ci + dot : dot;
                }
            }
        }
        else if (ars == 1)
        {
            // Aᵀ·B with few columns: each column of C is a sum of rows of A scaled by B's entries.
            var column = m <= 4096 ? stackalloc float[m] : new float[m];
            for (var j = 0; j < n; j++)
            {
                for (var i = 0; i < m; i++)
                {
                    column[i] = accumulate ? c[((long)i * ldc) + j] : 0f;
                }

                for (var p = 0; p < k; p++)
                {
                    var s = b[((long)p * ldb) + j];
                    Simd.MultiplyAdd(column, new ReadOnlySpan<float>(a + ((long)p * acs), m), s);
                }

                for (var i = 0; i < m; i++)
                {
                    c[((long)i * ldc) + j] = column[i];
                }
            }
        }
        else
        {
            for (var i = 0; i < m; i++)
            {
                ScalarColumns(0, n, k, a + ((long)i * ars), acs, b, ldb, c + ((long)i * ldc), accumulate);
            }
        }
    }
}
