using Ctm.ServiceDefaults.Telemetry;
using MassTransit;

namespace Ctm.ServiceDefaults.Messaging;

/// <summary>The consume pipeline every Ctm bus runs, the RabbitMQ one of the services and the in-memory one of the fast tests alike.</summary>
public static class ConsumePipeline
{
    /// <summary>
    /// Ctm's serializer settings (<see cref="BusJson"/>), the per-message log scope (<see cref="MessageScopeFilter{T}"/>),
    /// then <paramref name="outer"/> when given (the broker's delayed redelivery, which must see only what the in-process
    /// retries could not cure), then in-process retries at <paramref name="intervals"/> that a permanent failure
    /// (<see cref="Failures.IsPermanent"/>) skips, so it faults at once.
    /// </summary>
    /// <param name="cfg">The bus being configured.</param>
    /// <param name="context">The bus registration (for the scope filter's dependencies).</param>
    /// <param name="intervals">The retry intervals (exponential back-off on the broker, immediate in tests).</param>
    /// <param name="outer">A filter outside the retries, or null.</param>
    public static void UseCtmConsumePipeline(
        this IBusFactoryConfigurator cfg, IRegistrationContext context, Action<IRetryConfigurator> intervals, IFilter<ConsumeContext>? outer = null)
    {
        ArgumentNullException.ThrowIfNull(cfg);
        ArgumentNullException.ThrowIfNull(intervals);
        cfg.ConfigureJsonSerializerOptions(BusJson.Configure);
        cfg.UseConsumeFilter(typeof(MessageScopeFilter<>), context);
        if (outer is not null)
        {
            cfg.UseFilter(outer);
        }

        cfg.UseMessageRetry(r =>
        {
            r.Ignore<Exception>(Failures.IsPermanent);
            intervals(r);
        });
    }
}
