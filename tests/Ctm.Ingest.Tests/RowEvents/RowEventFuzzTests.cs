using System.Text;
using System.Text.Json;
using Ctm.Contracts;
using Ctm.Data.Parsing;
using Ctm.Ingest.Batches;
using Ctm.Ingest.Extensions;
using Ctm.Testing;
using Ctm.Testing.Fuzz;
using MassTransit.Serialization;
using Npgsql;

namespace Ctm.Ingest.Tests.RowEvents;

/// <summary>
/// A fuzz run of the path a row event takes off the bus before anything is stored: the raw JSON body through the
/// bus's System.Text.Json options into <see cref="RowEvent"/>, then <see cref="RowEventReader.Check"/>. 20,000 inputs
/// mutated from well-formed events: each is accepted, or refused by the deserializer (<see cref="JsonException"/>) or
/// the checks (<see cref="TabularFormatException"/>) with a reason; nothing else may escape, and what is accepted
/// must be storable: one JSON object of scalars per row that the real PostgreSQL takes as jsonb (it refuses
/// <c>\u0000</c>, lone surrogates, trailing commas and comments, which the bus's reader lets through).
/// </summary>
public sealed class RowEventFuzzTests(ITestOutputHelper output)
{
    private const int Inputs = 20_000;
    private static readonly IngestLimits Limits = new() { MaxFieldChars = 100, MaxColumns = 8, MaxEventBytes = 4_096, MaxJsonDepth = 10 };

    private readonly List<string> _accepted = [];

    [Fact]
    public async Task RowEvents_20000MutatedBodies_AreEachAcceptedOrRefusedWithAReason()
    {
        var mutator = new Mutator(seed: 5672);
        var seeds = Enumerable.Range(0, 48).Select(i => Generate(mutator, i)).ToArray();

        var run = new FuzzRun().Run(
            Inputs,
            i => i < seeds.Length ? seeds[i] : mutator.Mutate(seeds[mutator.Random.Next(seeds.Length)], seeds[mutator.Random.Next(seeds.Length)]),
            Check,
            TimeSpan.FromMinutes(10));

        output.WriteLine(run.Report("row events"));
        Assert.True(run.FailureCount == 0, run.Report("row events"));
        Assert.True(run.Accepted > Inputs / 50 && run.Refused > Inputs / 20, $"the mutations should give both verdicts often: {run.Report("row events")}");

        // Every accepted row must be what the consumer can commit: PostgreSQL parses it as jsonb.
        await using var connection = await OpenPostgresAsync();
        var refused = new List<string>();
        foreach (var row in _accepted)
        {
            await using var command = new NpgsqlCommand("SELECT $1::jsonb", connection) { Parameters = { new() { Value = row } } };
            try
            {
                await command.ExecuteScalarAsync(TestContext.Current.CancellationToken);
            }
            catch (PostgresException e)
            {
                refused.Add($"{e.SqlState} {e.MessageText}: {row}");
            }
        }

        Assert.True(refused.Count == 0, $"{refused.Count} of {_accepted.Count} accepted rows are refused by PostgreSQL:\n{string.Join('\n', refused.Take(5))}");
    }

    [Fact]
    public void RowEvent_WithAnEscapedNul_IsRefusedNamingTheRowAndField()
    {
        var body = """{"dataset":"churn","eventId":"e-1","rows":[{"plan":"pro"},{"plan":"a\u0000b"}]}"""u8.ToArray();

        var message = JsonSerializer.Deserialize<RowEvent>(body, SystemTextJsonMessageSerializer.Options)!;
        var e = Assert.Throws<TabularFormatException>(() => RowEventReader.Check(message, body.Length, message.EventId, Limits));

        Assert.Equal(2, e.Line);
        Assert.Equal("plan", e.Field);
        Assert.Contains("e-1", e.Message, StringComparison.Ordinal);
    }

    private static async Task<NpgsqlConnection> OpenPostgresAsync()
    {
        var connection = new NpgsqlConnection(TestEnvironment.PostgresAdmin);
        try
        {
            await connection.OpenAsync();
            return connection;
        }
        catch (Exception e) when (e is NpgsqlException or System.Net.Sockets.SocketException or TimeoutException)
        {
            await connection.DisposeAsync();
            throw new InvalidOperationException($"PostgreSQL is not reachable at '{TestEnvironment.PostgresAdmin}': {e.Message}. {TestEnvironment.HowToStart}", e);
        }
    }

    private string? Check(byte[] body)
    {
        RowEvent? message;
        try
        {
            message = JsonSerializer.Deserialize<RowEvent>(body, SystemTextJsonMessageSerializer.Options);
        }
        catch (JsonException e)
        {
            return $"not a row event: {e.Message}";
        }

        if (message is null)
        {
            return "the body is JSON null";
        }

        CheckedRowEvent accepted;
        try
        {
            accepted = RowEventReader.Check(message, body.Length, message.EventId, Limits);
        }
        catch (TabularFormatException e)
        {
            if (e.Line < 1 || e.Column < 1 || string.IsNullOrWhiteSpace(e.Problem))
            {
                throw new InvalidOperationException($"a refusal without a position or reason: {e.Message}");
            }

            return e.Problem;
        }

        foreach (var row in accepted.Rows)
        {
            using var parsed = JsonDocument.Parse(row, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
            if (parsed.RootElement.ValueKind != JsonValueKind.Object
                || parsed.RootElement.EnumerateObject().Any(p => p.Value.ValueKind is JsonValueKind.Object or JsonValueKind.Array))
            {
                throw new InvalidOperationException($"an accepted row is not an object of scalars: {row}");
            }

            _accepted.Add(row);
        }

        return null;
    }

    private static byte[] Generate(Mutator m, int i)
    {
        var rows = Enumerable.Range(0, 1 + m.Random.Next(4)).Select(_ => new Dictionary<string, object?>
        {
            ["tenure"] = m.Random.Next(0, 72),
            ["plan"] = m.Text(8),
            ["spend"] = Math.Round(m.Random.NextDouble() * 200, 2),
            ["churned"] = m.Random.Next(2) == 0,
            ["note"] = null,
        }).ToList();
        object body = (i % 3) switch
        {
            0 => new { dataset = "churn", eventId = $"e-{i}", source = "crm", row = rows[0] },
            1 => new { dataset = "churn", eventId = $"e-{i}", rows },
            _ => new { dataset = "churn", rows },
        };
        return Encoding.UTF8.GetBytes(JsonSerializer.Serialize(body));
    }
}
