using Ctm.Contracts;
using Npgsql;

namespace Ctm.Trainer.Tests;

/// <summary>
/// The warm-start parent follows what serves: a promotion moves the Trainer's serving pointer only once a Predictor
/// replica confirms it loaded the version, whichever of the two messages arrives first, and never backwards.
/// </summary>
public sealed class ServingPointerTests(TrainerSystem system) : IClassFixture<TrainerSystem>
{
    private const string Dataset = "pointer-order";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task ServingPointer_MovesOnlyOnceAReplicaLoadedThePromotion_InEitherOrder_AndNeverBack()
    {
        var bus = await system.BusAsync();
        Guid run1 = Guid.NewGuid(), run2 = Guid.NewGuid();

        // Promoted, not (yet) loaded: every replica may still refuse it, so it is no parent.
        await bus.Publish(Promoted(1, 1, run1));
        await system.EventuallyAsync(() => QueryAsync<bool?>("SELECT promoted FROM trainer.promotions WHERE dataset = @d AND generation = 1"), Patience, "the promotion recorded");
        Assert.Null(await ServingAsync());

        await bus.Publish(Loaded(1, 1));
        Assert.Equal(Pointer(1, 1, run1), await system.EventuallyAsync(ServingAsync, Patience, "v1 serving once loaded"));

        // Loaded before the promotion message arrives (different queues can reorder): moves when the promotion comes.
        await bus.Publish(Loaded(2, 2));
        await system.EventuallyAsync(() => QueryAsync<bool?>("SELECT loaded FROM trainer.promotions WHERE dataset = @d AND generation = 2"), Patience, "the load recorded");
        Assert.Equal(Pointer(1, 1, run1), await ServingAsync());
        await bus.Publish(Promoted(2, 2, run2));
        Assert.Equal(Pointer(2, 2, run2), await system.EventuallyAsync(async () => await ServingAsync() is { } s && s.StartsWith("v2 ", StringComparison.Ordinal) ? s : null, Patience, "v2 serving"));

        // A redelivered older confirmation never moves it back.
        await bus.Publish(Loaded(1, 1));
        await bus.Publish(Promoted(1, 1, run1));
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Equal(Pointer(2, 2, run2), await ServingAsync());
    }

    private static ModelPromoted Promoted(int version, long generation, Guid run) => new()
    {
        Dataset = Dataset, Version = version, Generation = generation, CorrelationId = Guid.NewGuid(), RunId = run,
        ArtifactLocation = $"http://127.0.0.1:9/artifacts/{Dataset}/{version}.onnx", ArtifactSha256 = new string('0', 64),
        Reason = "test", PromotedAt = DateTimeOffset.UtcNow,
    };

    private static ModelLoaded Loaded(int version, long generation) => new()
    {
        Dataset = Dataset, Version = version, Generation = generation, Replica = "test-replica",
        ArtifactSha256 = new string('0', 64), LoadedAt = DateTimeOffset.UtcNow, CorrelationId = Guid.NewGuid(),
    };

    private static string Pointer(int version, long generation, Guid run) => $"v{version} generation {generation} run {run}";

    private async Task<string?> ServingAsync()
    {
        await using var connection = new NpgsqlConnection(system.Infrastructure.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT version, generation, run_id FROM trainer.serving WHERE dataset = @d", connection);
        command.Parameters.AddWithValue("d", Dataset);
        await using var reader = await command.ExecuteReaderAsync();
        return await reader.ReadAsync()
            ? $"v{reader.GetInt32(0)} generation {reader.GetInt64(1)} run {(reader.IsDBNull(2) ? "none" : reader.GetGuid(2))}"
            : null;
    }

    private async Task<T?> QueryAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(system.Infrastructure.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("d", Dataset);
        return await command.ExecuteScalarAsync() is T value ? value : default;
    }
}
