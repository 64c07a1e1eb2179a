using System.Globalization;
using System.Text;
using System.Text.Json;
using Ctm.Ml;
using Ctm.Ml.Engine;
using Ctm.Onnx;
using Ctm.Predictor.Inference;

namespace Ctm.Predictor.Tests;

/// <summary>
/// The one-instance fast path decodes a request's bytes into the very row the general path (a parsed document and
/// <see cref="RowBlock.AddInstance"/>) makes, and leaves every other request to the general path.
/// </summary>
public sealed class SingleInstanceDecodeTests
{
    private static readonly ModelSignature Signature = ModelSignature.From(OnnxSession.Create(Model()));

    [Fact]
    public void AnInstanceInColumnOrder_DecodesToTheRowTheGeneralPathMakes()
    {
        var random = new Random(11);
        string[] plans = ["basic", "pro", "never-seen", "with \"quotes\" and é"];
        for (var i = 0; i < 200; i++)
        {
            var fields = Signature.Columns.Select(c => $"{JsonSerializer.Serialize(Encoding.UTF8.GetString(c.Utf8Name))}:{Value(c, random, plans)}");
            var json = $$"""{"instances":[{{{string.Join(",", fields)}}}]}""";

            var fast = RowBlock.TryReadSingleInstance(Signature, Encoding.UTF8.GetBytes(json));

            Assert.NotNull(fast);
            var general = new RowBlock(Signature, 1);
            general.AddInstance(JsonDocument.Parse(json).RootElement.GetProperty("instances")[0], 0);
            Assert.Equal(1, fast.Count);
            Assert.Equal(Bits(general.Numbers), Bits(fast.Numbers));
            Assert.Equal(general.Texts, fast.Texts);
            Assert.Equal(general.CanonicalKey(0), fast.CanonicalKey(0));
            Assert.Null(fast.Keys);
        }
    }

    [Theory]
    [InlineData("1e400")]
    [InlineData("-1e400")]
    [InlineData("-0")]
    [InlineData("1E-320")]
    [InlineData("0.1")]
    [InlineData("123456789012345678901234567890")]
    public void EdgeNumbers_DecodeAsTheGeneralPathDecodesThem(string number)
    {
        var json = $$"""{"instances":[{"x1":{{number}},"x2":2,"plan":"pro"}]}""";

        var fast = RowBlock.TryReadSingleInstance(Signature, Encoding.UTF8.GetBytes(json));

        Assert.NotNull(fast);
        var general = new RowBlock(Signature, 1);
        general.AddInstance(JsonDocument.Parse(json).RootElement.GetProperty("instances")[0], 0);
        Assert.Equal(Bits(general.Numbers), Bits(fast.Numbers));
    }

    [Fact]
    public void ShortDecimals_ParseToTheSameBitsAsTheGeneralParser()
    {
        var random = new Random(12);
        for (var i = 0; i < 100_000; i++)
        {
            var digits = random.Next(1, 16);
            var text = random.NextInt64(0, (long)Math.Pow(10, digits)).ToString(CultureInfo.InvariantCulture).PadLeft(digits, '0');
            var point = random.Next(0, digits + 1);
            text = (random.Next(2) == 0 ? "-" : "") + (point == 0 ? text : text.Insert(point, point == digits ? "" : "."));
            if (text.TrimStart('-').Length > 1 && text.TrimStart('-')[0] == '0' && text.TrimStart('-')[1] != '.')
            {
                continue; // not a JSON number (a leading zero)
            }

            var json = Encoding.UTF8.GetBytes(text);
            Assert.True(RowBlock.TryParseShortDecimal(json, out var fast), text);
            var reader = new Utf8JsonReader(json);
            reader.Read();
            Assert.True(reader.TryGetDouble(out var general));
            Assert.True(BitConverter.DoubleToInt64Bits(general) == BitConverter.DoubleToInt64Bits(fast), $"{text}: {fast:R} against {general:R}");
        }

        foreach (var other in new[] { "1e5", "1.5E-3", "1234567890123456", "0.1234567890123456", "-", "" })
        {
            Assert.False(RowBlock.TryParseShortDecimal(Encoding.UTF8.GetBytes(other), out _), other);
        }
    }

    private static long[] Bits(double[] values) => [.. values.Select(BitConverter.DoubleToInt64Bits)];

    [Theory]
    [InlineData("""{"instances":[{"x1":1,"x2":2,"plan":"pro"},{"x1":1,"x2":2,"plan":"pro"}]}""")] // two instances
    [InlineData("""{"instances":[{"key":7,"x1":1,"x2":2,"plan":"pro"}]}""")] // an example key
    [InlineData("""{"instances":[{"x2":2,"x1":1,"plan":"pro"}]}""")] // another order
    [InlineData("""{"instances":[{"x1":1,"x2":2}]}""")] // a feature missing
    [InlineData("""{"instances":[{"x1":1,"x2":2,"plan":"pro","extra":0}]}""")] // a field the model lacks
    [InlineData("""{"instances":[{"x1":"1.5","x2":2,"plan":"pro"}]}""")] // a number as text
    [InlineData("""{"instances":[{"x1":true,"x2":2,"plan":"pro"}]}""")] // a boolean
    [InlineData("""{"instances":[{"x1":1,"x2":2,"plan":3}]}""")] // a number where text belongs
    [InlineData("""{"instances":[{"x\u0031":1,"x2":2,"plan":"pro"}]}""")] // an escaped name
    [InlineData("""{"signature_name":"serving_default","instances":[{"x1":1,"x2":2,"plan":"pro"}]}""")]
    [InlineData("""{"instances":[{"x1":1,"x2":2,"plan":"pro"}],"signature_name":"other"}""")]
    [InlineData("""{"instances":[{"x1":1,"x2":2,"plan":"pro"}]} {}""")] // trailing content
    [InlineData("""{"instances":[{"x1":1,"x2":2,"plan":"pro"}""")] // truncated
    [InlineData("""{"instances":[[1,2,"pro"]]}""")]
    [InlineData("""{"inputs":{"x1":[1]}}""")]
    [InlineData("")]
    public void AnythingElse_IsLeftToTheGeneralPath(string json)
    {
        // The test's JSON names the columns x1, x2, plan; the model must have exactly those, in that order.
        Assert.Equal(["x1", "x2", "plan"], Signature.Columns.Select(c => Encoding.UTF8.GetString(c.Utf8Name)));

        Assert.Null(RowBlock.TryReadSingleInstance(Signature, Encoding.UTF8.GetBytes(json)));
    }

    private static string Value(NamedColumn column, Random random, string[] plans) => column.Input.Kind switch
    {
        CellKind.Text => random.Next(5) == 0 ? "null" : JsonSerializer.Serialize(plans[random.Next(plans.Length)]),
        _ => random.Next(6) switch
        {
            0 => "null",
            1 => ((random.NextDouble() - 0.5) * 1e-7).ToString("E6", CultureInfo.InvariantCulture),
            2 => random.Next(-1000, 1000).ToString(CultureInfo.InvariantCulture),
            _ => ((random.NextDouble() * 200) - 100).ToString("R", CultureInfo.InvariantCulture),
        },
    };

    private static byte[] Model()
    {
        var random = new Random(5);
        const int n = 300;
        var x1 = Enumerable.Range(0, n).Select(_ => random.NextDouble() * 4).ToArray();
        var x2 = Enumerable.Range(0, n).Select(_ => random.NextDouble() - 0.5).ToArray();
        string[] plans = ["basic", "pro"];
        var plan = Enumerable.Range(0, n).Select(_ => (string?)plans[random.Next(2)]).ToArray();
        var y = Enumerable.Range(0, n).Select(i => (string?)(x1[i] + x2[i] + (plan[i] == "pro" ? 1 : 0) > 2.5 ? "yes" : "no")).ToArray();
        var data = TabularDataset.CreateBuilder().AddNumeric("x1", x1).AddNumeric("x2", x2).AddCategorical("plan", plan).WithLabel("y", y).Build();
        return new ManagedTrainingEngine().Train(data, new TrainingOptions { Task = ModelTask.BinaryClassification, HiddenLayers = [4], Epochs = 2, Seed = 1 }).ToOnnx();
    }
}
