using Ctm.ServiceDefaults.Messaging;
using MassTransit;
using MassTransit.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Ctm.Testing.InProcess;

/// <summary>
/// One Ctm service in the test's process (<see cref="WebApplicationFactory{TEntryPoint}"/>), composed by its own
/// <c>Program</c>, on a PostgreSQL database of its own (<see cref="TestDatabase"/>), with MassTransit's test harness in
/// place of RabbitMQ: the in-memory transport, the same serializer, consume filters and retry rule as the real bus. Use
/// a subclass per service as an xunit class fixture; it implements xunit's <c>IAsyncLifetime</c> shape
/// (<see cref="InitializeAsync"/>, <see cref="DisposeAsync"/>).
/// </summary>
/// <typeparam name="TProgram">The service's entry point.</typeparam>
public abstract class ServiceFactory<TProgram> : WebApplicationFactory<TProgram>
    where TProgram : class
{
    private readonly string _name;
    private TestDatabase? _database;
    private bool _started;

    /// <param name="name">The service's name, the prefix of its database's name.</param>
    protected ServiceFactory(string name) => _name = name;

    /// <summary>The service's database; throws for a service that keeps none.</summary>
    public TestDatabase Database => _database ?? throw new InvalidOperationException($"{_name} has no database, or the fixture was not initialized");

    /// <summary>The bus as the test sees it: what was sent, published and consumed.</summary>
    public ITestHarness Harness => Services.GetTestHarness();

    /// <summary>Whether the service keeps a database (the Predictor keeps none).</summary>
    protected virtual bool HasDatabase => true;

    /// <summary>Settings on top of the test keys and connection string, in configuration syntax (<c>Training:Epochs</c>).</summary>
    protected virtual IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>();

    public async ValueTask InitializeAsync()
    {
        if (HasDatabase)
        {
            _database = await TestDatabase.CreateAsync($"ctm_fast_{_name}");
        }

        // Starts the host: migrations run and the bus starts before the first test.
        _ = Server;
        _started = true;
    }

    /// <summary>A client that sends <paramref name="identity"/>'s key (one of <see cref="TestKeys"/>), or none when null.</summary>
    public HttpClient Client(string? identity = TestKeys.Default) => TestKeys.Authenticate(CreateClient(), identity);

    /// <summary>Publishes <paramref name="message"/> as another service would.</summary>
    public Task PublishAsync<T>(T message)
        where T : class => Harness.Bus.Publish(message);

    public override async ValueTask DisposeAsync()
    {
        // Stopped before disposal, so no background loop (outbox relay, wake-ups) still runs when the database goes.
        if (_started)
        {
            _started = false;
            await Services.GetRequiredService<IHost>().StopAsync();
        }

        await base.DisposeAsync();
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }

        GC.SuppressFinalize(this);
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        // Settings given here are in the configuration before Program reads it (AddCtmDatabase reads the connection string early).
        var settings = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            ["ConnectionStrings:Postgres"] = _database?.ConnectionString ?? "",
            // The bus options are still validated at start; the harness never connects with them.
            ["RabbitMq:Username"] = "ctm-fast",
            ["RabbitMq:Password"] = "unused",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Microsoft.AspNetCore"] = "Error",
        };
        foreach (var (key, value) in TestKeys.Settings)
        {
            settings[key.Replace("__", ":", StringComparison.Ordinal)] = value;
        }

        foreach (var (key, value) in Settings)
        {
            settings[key] = value;
        }

        foreach (var (key, value) in settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureTestServices(services =>
        {
            services.AddMassTransitTestHarness(x => x.UsingInMemory((context, cfg) =>
            {
                // The RabbitMQ bus's pipeline, less the broker's delay queues: retried here immediately, there with back-off.
                cfg.UseCtmConsumePipeline(context, r => r.Immediate(2));
                cfg.ConfigureEndpoints(context);
            }));
        });
    }
}
