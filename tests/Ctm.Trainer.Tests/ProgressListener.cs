using System.Collections.Concurrent;
using System.Text.Json;
using Ctm.Testing;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Ctm.Trainer.Tests;

/// <summary>
/// Listens to <c>TrainingProgressed</c> as any AMQP client could: a server-named, exclusive queue bound to the
/// message type's fanout exchange, reading the MassTransit envelope's <c>message</c>.
/// </summary>
public sealed class ProgressListener : IAsyncDisposable
{
    private const string Exchange = "Ctm.Contracts:TrainingProgressed";
    private readonly IConnection _connection;
    private readonly IChannel _channel;

    private ProgressListener(IConnection connection, IChannel channel) => (_connection, _channel) = (connection, channel);

    public ConcurrentQueue<ProgressEvent> Events { get; } = new();

    public IReadOnlyList<ProgressEvent> For(string dataset) => [.. Events.Where(e => e.Dataset == dataset)];

    public static async Task<ProgressListener> StartAsync(CtmSystem system)
    {
        var factory = new ConnectionFactory { Uri = TestEnvironment.RabbitMq, VirtualHost = system.Infrastructure.VirtualHost };
        var connection = await factory.CreateConnectionAsync();
        var channel = await connection.CreateChannelAsync();
        var listener = new ProgressListener(connection, channel);
        // Declared as MassTransit declares it, in case nothing was published yet.
        await channel.ExchangeDeclareAsync(Exchange, ExchangeType.Fanout, durable: true, autoDelete: false);
        var queue = await channel.QueueDeclareAsync(string.Empty, durable: false, exclusive: true, autoDelete: true);
        await channel.QueueBindAsync(queue.QueueName, Exchange, string.Empty);
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += (_, delivery) =>
        {
            using var envelope = JsonDocument.Parse(delivery.Body);
            var m = envelope.RootElement.GetProperty("message");
            listener.Events.Enqueue(new ProgressEvent(
                m.GetProperty("runId").GetGuid(), m.GetProperty("dataset").GetString()!, m.GetProperty("epoch").GetInt32(),
                m.GetProperty("epochs").GetInt32(), m.GetProperty("completed").GetBoolean()));
            return Task.CompletedTask;
        };
        await channel.BasicConsumeAsync(queue.QueueName, autoAck: true, consumer);
        return listener;
    }

    public async ValueTask DisposeAsync()
    {
        await _channel.CloseAsync();
        await _connection.CloseAsync();
        _channel.Dispose();
        _connection.Dispose();
    }
}

public sealed record ProgressEvent(Guid RunId, string Dataset, int Epoch, int Epochs, bool Completed);
