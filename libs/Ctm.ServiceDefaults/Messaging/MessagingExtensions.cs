using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Ctm.ServiceDefaults.Messaging;

/// <summary>Bus wiring shared by every service: RabbitMQ with publisher confirms, retries, then the error queue.</summary>
public static class MessagingExtensions
{
    /// <summary>
    /// Adds MassTransit over RabbitMQ. A message is acknowledged only after its consumer returns, so a consumer
    /// that commits before returning acknowledges only committed effects. A consumer that throws for a reason that may
    /// pass is retried in process (exponential back-off, <see cref="RabbitMqOptions.RetryLimit"/> times), then redelivered
    /// through delay queues (<see cref="DelayedRedeliveryFilter"/>) until it works or the redelivery window closes; one
    /// that throws for a permanent reason (<see cref="Failures.IsPermanent"/>) goes to its <c>_error</c> queue at once,
    /// the reason in MassTransit's fault headers.
    /// </summary>
    /// <param name="builder">The host builder.</param>
    /// <param name="registerConsumers">Adds the service's consumers.</param>
    /// <param name="configureBus">Extra endpoints (e.g. a raw JSON endpoint or a per-replica fan-out queue).</param>
    public static IHostApplicationBuilder AddCtmMessaging(
        this IHostApplicationBuilder builder,
        Action<IBusRegistrationConfigurator> registerConsumers,
        Action<IBusRegistrationContext, IRabbitMqBusFactoryConfigurator>? configureBus = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<RabbitMqOptions>()
            .BindConfiguration(RabbitMqOptions.Section)
            .PostConfigure(ReadPasswordFile)
            .ValidateDataAnnotations()
            .Validate(
                o => o.PasswordFile is not { Length: > 0 } file || File.Exists(file),
                "RabbitMq:PasswordFile names a file that does not exist: mount the secret there, or set RabbitMq:Password")
            .Validate(
                o => o.Password.Length > 0,
                "RabbitMq:Password (or RabbitMq:PasswordFile) is required: the password of RabbitMq:Username (scripts/infra.sh keeps the generated ones in .ctm/rabbitmq/passwords/)")
            .ValidateOnStart();
        // The redelivery filter reads the clock; a host that registers none (a plain generic host) gets the system's.
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<BrokerChannel>();
        builder.Services.AddSingleton<DelayedRedeliveryFilter>();
        builder.Services.AddHttpClient(ErrorQueues.ManagementClient);
        builder.Services.AddSingleton<ErrorQueues>();

        builder.Services.AddMassTransit(x =>
        {
            x.SetKebabCaseEndpointNameFormatter();
            // These machines reach only package registries; a service must not try to phone home.
            x.DisableUsageTelemetry();
            registerConsumers(x);
            x.UsingRabbitMq((context, cfg) =>
            {
                var options = context.GetRequiredService<IOptions<RabbitMqOptions>>().Value;
                cfg.Host(options.Host, options.Port, options.VirtualHost, h =>
                {
                    h.Username(options.Username);
                    h.Password(options.Password);
                    h.PublisherConfirmation = true;
                });
                cfg.PrefetchCount = options.PrefetchCount;
                cfg.UseCtmConsumePipeline(
                    context,
                    r => r.Exponential(options.RetryLimit, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(200)),
                    context.GetRequiredService<DelayedRedeliveryFilter>());
                configureBus?.Invoke(context, cfg);
                cfg.ConfigureEndpoints(context);
            });
        });
        builder.Services.Configure<MassTransitHostOptions>(o =>
        {
            o.WaitUntilStarted = true;
            o.StartTimeout = TimeSpan.FromSeconds(60);
            o.StopTimeout = TimeSpan.FromSeconds(30);
        });
        return builder;
    }

    // A secret mounted as a file (compose, Kubernetes) keeps the password out of the environment and the process list.
    private static void ReadPasswordFile(RabbitMqOptions options)
    {
        if (options.PasswordFile is { Length: > 0 } file && File.Exists(file))
        {
            options.Password = File.ReadAllText(file).TrimEnd('\r', '\n');
        }
    }
}
