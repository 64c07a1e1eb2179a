using System.Text;
using System.Text.Json;
using Ctm.Data.Parsing;
using Ctm.Testing.Fuzz;

namespace Ctm.Data.Tests.Parsing;

/// <summary>
/// Fuzz runs of the two readers that take data from outside (CSV and JSON Lines uploads): 45,000 generated inputs
/// each, mutated from well-formed documents. Every input must be accepted or refused with a
/// <see cref="TabularFormatException"/> that names a line and column inside the input; nothing may crash or hang.
/// What is accepted must also mean the same thing however it is read: a CSV read, written canonically and read again
/// gives the same cells, and the one-pass and two-pass JSON Lines readers agree on every verdict.
/// </summary>
public sealed class ReaderFuzzTests(ITestOutputHelper output)
{
    private const int Inputs = 45_000;
    private static readonly TimeSpan HangDeadline = TimeSpan.FromMinutes(10);

    // Small limits, so that mutated inputs reach every limit check as well as the syntax checks.
    private static readonly TabularLimits Small = new() { MaxFieldChars = 120, MaxColumns = 10, MaxRows = 25, MaxRecordChars = 1_500, MaxJsonDepth = 12 };

    [Fact]
    public void Csv_45000MutatedInputs_AreEachAcceptedOrRefusedWithAPosition()
    {
        var mutator = new Mutator(seed: 4180);
        var seeds = Enumerable.Range(0, 64).Select(_ => GenerateCsv(mutator)).ToArray();

        var run = new FuzzRun().Run(
            Inputs,
            i => i < seeds.Length ? seeds[i] : mutator.Mutate(seeds[mutator.Random.Next(seeds.Length)], seeds[mutator.Random.Next(seeds.Length)]),
            input => CheckCsv(input, (input.Length & 1) == 0 ? Small : TabularLimits.None),
            HangDeadline);

        output.WriteLine(run.Report("CSV reader"));
        Assert.True(run.FailureCount == 0, run.Report("CSV reader"));
        Assert.True(run.Accepted > Inputs / 20 && run.Refused > Inputs / 20, $"the mutations should give both verdicts often: {run.Report("CSV reader")}");
    }

    [Fact]
    public void JsonLines_45000MutatedInputs_AreEachAcceptedOrRefusedWithAPosition()
    {
        var mutator = new Mutator(seed: 7464);
        var seeds = Enumerable.Range(0, 64).Select(_ => GenerateJsonLines(mutator)).ToArray();

        var run = new FuzzRun().Run(
            Inputs,
            i => i < seeds.Length ? seeds[i] : mutator.Mutate(seeds[mutator.Random.Next(seeds.Length)], seeds[mutator.Random.Next(seeds.Length)]),
            input => CheckJsonLines(input, (input.Length & 1) == 0 ? Small : TabularLimits.None),
            HangDeadline);

        output.WriteLine(run.Report("JSON Lines reader"));
        Assert.True(run.FailureCount == 0, run.Report("JSON Lines reader"));
        Assert.True(run.Accepted > Inputs / 20 && run.Refused > Inputs / 20, $"the mutations should give both verdicts often: {run.Report("JSON Lines reader")}");
    }

    private static string? CheckCsv(byte[] input, TabularLimits limits)
    {
        TabularBatch batch;
        try
        {
            batch = ReadCsv(input, limits);
        }
        catch (TabularFormatException e)
        {
            CheckPosition(e, input);
            return e.Problem;
        }

        // Accepted: the canonical bytes must read back to the same cells.
        var again = ReadCsv(CsvTableWriter.ToBytes(batch), TabularLimits.None);
        if (!again.Columns.SequenceEqual(batch.Columns) || again.Rows.Count != batch.Rows.Count
            || !again.Rows.Zip(batch.Rows).All(p => p.First.SequenceEqual(p.Second)))
        {
            throw new InvalidOperationException("the canonical CSV of an accepted input reads back to different cells");
        }

        return null;
    }

    private static string? CheckJsonLines(byte[] input, TabularLimits limits)
    {
        TabularBatch? whole = null;
        TabularFormatException? wholeError = null;
        try
        {
            whole = JsonLinesReader.Read(new MemoryStream(input), "fuzz.jsonl", limits);
        }
        catch (TabularFormatException e)
        {
            CheckPosition(e, input);
            wholeError = e;
        }

        // The two-pass reader (used for uploads too large to hold) must reach the same verdict at the same place.
        List<string?[]> streamed = [];
        TabularFormatException? streamedError = null;
        try
        {
            var (columns, _) = JsonLinesReader.Scan(new MemoryStream(input), "fuzz.jsonl", limits);
            JsonLinesReader.ReadRows(new MemoryStream(input), "fuzz.jsonl", limits, columns, cells => streamed.Add((string?[])cells.Clone()));
        }
        catch (TabularFormatException e)
        {
            streamedError = e;
        }

        if (wholeError is not null || streamedError is not null)
        {
            if (wholeError is null || streamedError is null || (wholeError.Line, wholeError.Column, wholeError.Problem) != (streamedError.Line, streamedError.Column, streamedError.Problem))
            {
                throw new InvalidOperationException($"one-pass and two-pass readers disagree: '{wholeError?.Message}' vs '{streamedError?.Message}'");
            }

            return wholeError.Problem;
        }

        if (streamed.Count != whole!.Rows.Count || !streamed.Zip(whole.Rows).All(p => p.First.SequenceEqual(p.Second)))
        {
            throw new InvalidOperationException("one-pass and two-pass readers accepted the input with different rows");
        }

        return null;
    }

    private static void CheckPosition(TabularFormatException e, byte[] input)
    {
        var lines = 1 + input.Count(b => b == (byte)'\n') + input.Count(b => b == (byte)'\r');
        if (string.IsNullOrWhiteSpace(e.Problem) || e.Line < 1 || e.Line > lines + 1 || e.Column < 1 || e.Column > input.Length + 1)
        {
            throw new InvalidOperationException($"the refusal names no position inside the input: line {e.Line}, column {e.Column}, '{e.Message}'");
        }
    }

    private static TabularBatch ReadCsv(byte[] bytes, TabularLimits limits) => TabularBatch.ReadCsv(new MemoryStream(bytes), "fuzz.csv", limits);

    private static byte[] GenerateCsv(Mutator m)
    {
        var columns = 1 + m.Random.Next(6);
        var text = new StringBuilder();
        text.AppendJoin(',', Enumerable.Range(0, columns).Select(c => Field(m, $"c{c}{m.Text(3).Replace("\n", "", StringComparison.Ordinal)}")));
        text.Append(m.Random.Next(3) == 0 ? "\r\n" : "\n");
        for (var r = m.Random.Next(12); r > 0; r--)
        {
            text.AppendJoin(',', Enumerable.Range(0, columns).Select(_ => Field(m, m.Random.Next(3) == 0 ? $"{m.Random.NextDouble() * 1000 - 500:R}" : m.Text(12))));
            text.Append(m.Random.Next(3) == 0 ? "\r\n" : "\n");
        }

        return Encoding.UTF8.GetBytes(text.ToString());
    }

    private static string Field(Mutator m, string value) =>
        value.IndexOfAny(['"', ',', '\n', '\r']) >= 0 || m.Random.Next(8) == 0 ? $"\"{value.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : value;

    private static byte[] GenerateJsonLines(Mutator m)
    {
        var columns = Enumerable.Range(0, 1 + m.Random.Next(6)).Select(c => $"c{c}").ToArray();
        var text = new StringBuilder();
        for (var r = 1 + m.Random.Next(10); r > 0; r--)
        {
            var row = new Dictionary<string, object?>();
            foreach (var column in columns.Where(_ => m.Random.Next(5) > 0))
            {
                row[column] = m.Random.Next(5) switch
                {
                    0 => m.Random.NextDouble() * 1e4,
                    1 => m.Random.Next(2) == 0,
                    2 => null,
                    3 => m.Random.Next(-1000, 1000),
                    _ => m.Text(10),
                };
            }

            text.Append(JsonSerializer.Serialize(row)).Append(m.Random.Next(4) == 0 ? "\r\n" : "\n");
        }

        return Encoding.UTF8.GetBytes(text.ToString());
    }
}
