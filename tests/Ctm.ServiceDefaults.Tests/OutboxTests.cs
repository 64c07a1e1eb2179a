using System.Collections.Concurrent;
using Ctm.Contracts;
using Ctm.ServiceDefaults.Messaging;
using Ctm.ServiceDefaults.Storage;
using Ctm.Testing;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Ctm.ServiceDefaults.Tests;

/// <summary>The transactional outbox and the processed-message keys, on the real PostgreSQL and RabbitMQ.</summary>
public sealed class OutboxTests : IAsyncLifetime
{
    private IsolatedInfrastructure _infrastructure = null!;
    private readonly List<IHost> _hosts = [];

    public async ValueTask InitializeAsync() => _infrastructure = await IsolatedInfrastructure.CreateAsync("ctm_outbox");

    public async ValueTask DisposeAsync()
    {
        foreach (var host in _hosts)
        {
            await host.StopAsync();
            host.Dispose();
        }

        await _infrastructure.DisposeAsync();
    }

    [Fact]
    public async Task Enqueue_CommittedIsPublishedOnce_RolledBackIsNever_EvenWithTwoRelays()
    {
        var received = new ConcurrentBag<(Guid MessageId, Guid BatchId)>();
        var first = await StartHostAsync(received);
        await StartHostAsync(received); // a second replica relaying the same outbox table

        var committed = Enumerable.Range(0, 40).Select(_ => Guid.NewGuid()).ToList();
        var rolledBack = Guid.NewGuid();
        await using (var scope = first.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<OutboxTestDbContext>();
            await using (var tx = await db.Database.BeginTransactionAsync())
            {
                await db.EnqueueAsync(Message(rolledBack), Guid.NewGuid(), default);
                await tx.RollbackAsync();
            }

            foreach (var id in committed)
            {
                await using var tx = await db.Database.BeginTransactionAsync();
                await db.EnqueueAsync(Message(id), Guid.NewGuid(), default);
                await tx.CommitAsync();
            }

            scope.ServiceProvider.GetRequiredService<OutboxSignal>().Notify();
        }

        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (received.Count < committed.Count && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        await Task.Delay(1500); // room for a duplicate to show up, if the relays were to send one
        Assert.Equal(committed.Order(), received.Select(r => r.BatchId).Order());
        Assert.Equal(committed.Count, received.Select(r => r.MessageId).Distinct().Count());
        Assert.DoesNotContain(received, r => r.BatchId == rolledBack);
    }

    [Fact]
    public async Task Commit_ByAnotherWriterWithoutASignal_WakesTheRelayThroughPostgres_AndIsPublished()
    {
        // A wake-up of the test's own on the outbox's channel: its first call is the listener's start, the second can
        // only be PostgreSQL's notification of the commit below (nothing in this process signals).
        var wakes = 0;
        var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var notified = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var received = new ConcurrentBag<(Guid MessageId, Guid BatchId)>();
        await StartHostAsync(received, services => services.AddPostgresWakeup(_ => "ctm_outbox_outbox_test", _ => () =>
        {
            if (Interlocked.Increment(ref wakes) == 1)
            {
                listening.TrySetResult();
            }
            else
            {
                notified.TrySetResult();
            }
        }));
        await listening.Task.WaitAsync(TimeSpan.FromSeconds(60));

        // Another replica's commit: a plain connection, no relay, no signal.
        var batchId = Guid.NewGuid();
        var payload = System.Text.Json.JsonSerializer.Serialize(Message(batchId), new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web));
        await using (var connection = new Npgsql.NpgsqlConnection(_infrastructure.ConnectionString))
        {
            await connection.OpenAsync();
            await using var insert = new Npgsql.NpgsqlCommand(
                "INSERT INTO outbox_test.outbox (message_id, message_type, payload, correlation_id) VALUES (@m, @t, @p::jsonb, @c)", connection);
            insert.Parameters.AddWithValue("m", Guid.NewGuid());
            insert.Parameters.AddWithValue("t", typeof(BatchDiscarded).FullName!);
            insert.Parameters.AddWithValue("p", payload);
            insert.Parameters.AddWithValue("c", Guid.NewGuid());
            await insert.ExecuteNonQueryAsync();
        }

        await notified.Task.WaitAsync(TimeSpan.FromSeconds(60));
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!received.Any(r => r.BatchId == batchId) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.Contains(received, r => r.BatchId == batchId);
    }

    [Fact]
    public async Task TryMarkProcessed_SameKeyTwice_IsTrueThenFalse_AndRollbackForgetsIt()
    {
        var host = await StartHostAsync([]);
        await using var scope = host.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OutboxTestDbContext>();

        await using (var tx = await db.Database.BeginTransactionAsync())
        {
            Assert.True(await db.TryMarkProcessedAsync("consumer", "rolled-back", default));
            await tx.RollbackAsync();
        }

        await using (var tx = await db.Database.BeginTransactionAsync())
        {
            Assert.True(await db.TryMarkProcessedAsync("consumer", "rolled-back", default));
            Assert.True(await db.TryMarkProcessedAsync("consumer", "key", default));
            Assert.False(await db.TryMarkProcessedAsync("consumer", "key", default));
            Assert.True(await db.TryMarkProcessedAsync("another-consumer", "key", default));
            await tx.CommitAsync();
        }

        Assert.False(await db.TryMarkProcessedAsync("consumer", "key", default));
    }

    private static BatchDiscarded Message(Guid batchId) => new()
    {
        BatchId = batchId,
        Dataset = "outbox",
        Operator = "test",
        Reason = "test",
        CorrelationId = Guid.NewGuid(),
        DiscardedAt = DateTimeOffset.UtcNow,
    };

    private async Task<IHost> StartHostAsync(ConcurrentBag<(Guid, Guid)> received, Action<IServiceCollection>? configure = null)
    {
        var rabbit = TestEnvironment.RabbitMq;
        var user = rabbit.UserInfo.Split(':');
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = _infrastructure.ConnectionString,
            ["RabbitMq:Host"] = rabbit.Host,
            ["RabbitMq:Port"] = rabbit.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RabbitMq:VirtualHost"] = _infrastructure.VirtualHost,
            ["RabbitMq:Username"] = Uri.UnescapeDataString(user[0]),
            ["RabbitMq:Password"] = Uri.UnescapeDataString(user.ElementAtOrDefault(1) ?? "guest"),
        });
        builder.Services.AddSingleton(received);
        builder.AddCtmDatabase<OutboxTestDbContext>();
        builder.AddCtmMessaging(x => x.AddConsumer<RecordingConsumer>());
        configure?.Invoke(builder.Services);
        var host = builder.Build();
        await host.StartAsync();
        _hosts.Add(host);
        return host;
    }

    private sealed class RecordingConsumer(ConcurrentBag<(Guid, Guid)> received) : IConsumer<BatchDiscarded>
    {
        public Task Consume(ConsumeContext<BatchDiscarded> context)
        {
            received.Add((context.MessageId!.Value, context.Message.BatchId));
            return Task.CompletedTask;
        }
    }
}

public sealed class OutboxTestDbContext(DbContextOptions<OutboxTestDbContext> options) : DbContext(options)
{
    protected override void OnModelCreating(ModelBuilder modelBuilder) => modelBuilder.HasDefaultSchema("outbox_test");
}
