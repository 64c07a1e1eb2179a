using Ctm.Testing;

namespace Ctm.EndToEnd.Tests.Faults;

/// <summary>Ingest and the Validator only (what a batch needs to be decided), with short redelivery waits so outages are tested in seconds.</summary>
public class FaultSystem(IReadOnlyDictionary<string, string>? extra = null, string? postgresAdmin = null, (Uri Amqp, Uri Management)? rabbitMqAdmin = null) : CtmSystem
{
    protected override IReadOnlyList<string> StartedServices => ["Ingest", "Validator"];

    protected override string? PostgresAdmin => postgresAdmin;

    protected override (Uri Amqp, Uri Management)? RabbitMqAdmin => rabbitMqAdmin;

    protected override IReadOnlyDictionary<string, string> Settings
    {
        get
        {
            var settings = new Dictionary<string, string>
            {
                ["RabbitMq__RetryLimit"] = "2",
                ["RabbitMq__RedeliveryDelaysSeconds"] = "1,2,4",
                ["Ingest__RowEvents__MaxDelaySeconds"] = "1",
            };
            foreach (var (key, value) in extra ?? new Dictionary<string, string>())
            {
                settings[key] = value;
            }

            return settings;
        }
    }

    public static async Task<FaultSystem> StartAsync(IReadOnlyDictionary<string, string>? extra = null, string? postgresAdmin = null, (Uri Amqp, Uri Management)? rabbitMqAdmin = null)
    {
        var system = new FaultSystem(extra, postgresAdmin, rabbitMqAdmin);
        try
        {
            await system.InitializeAsync();
        }
        catch
        {
            await system.DisposeAsync();
            throw;
        }

        return system;
    }
}
