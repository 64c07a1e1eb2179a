using Microsoft.Extensions.Options;
using RabbitMQ.Client;

namespace Ctm.ServiceDefaults.Messaging;

/// <summary>
/// One AMQP channel with publisher confirms, beside MassTransit's own, for what MassTransit does not do here: parking a
/// message in a delay queue and moving messages out of an error queue. Calls are serialized; a channel that failed is
/// replaced on the next call.
/// </summary>
public sealed class BrokerChannel(IOptions<RabbitMqOptions> options) : IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private IConnection? _connection;
    private IChannel? _channel;

    /// <summary>Runs <paramref name="action"/> on the channel; a publish in it returns once the broker confirmed it.</summary>
    public async Task<T> RunAsync<T>(Func<IChannel, Task<T>> action, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(action);
        await _gate.WaitAsync(ct);
        try
        {
            if (_channel is not { IsOpen: true })
            {
                await ResetAsync();
                var o = options.Value;
                var factory = new ConnectionFactory
                {
                    HostName = o.Host,
                    Port = o.Port,
                    VirtualHost = o.VirtualHost,
                    UserName = o.Username,
                    Password = o.Password,
                    ClientProvidedName = "ctm-redelivery",
                };
                _connection = await factory.CreateConnectionAsync(ct);
                _channel = await _connection.CreateChannelAsync(
                    new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), ct);
            }

            try
            {
                return await action(_channel);
            }
            catch
            {
                // A channel error (e.g. a refused declare) closes the channel: start clean next time.
                await ResetAsync();
                throw;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await ResetAsync();
        _gate.Dispose();
    }

    private async Task ResetAsync()
    {
        try
        {
            if (_channel is not null)
            {
                await _channel.DisposeAsync();
            }

            if (_connection is not null)
            {
                await _connection.DisposeAsync();
            }
        }
        catch (Exception)
        {
            // Closing a connection that already broke can throw; a new one is opened either way.
        }

        _channel = null;
        _connection = null;
    }
}
