using Ctm.Contracts;
using Ctm.ServiceDefaults.Signing;
using MassTransit;

namespace Ctm.Testing;

/// <summary>
/// The whole system for a test class: the five services as real processes, on a database and a RabbitMQ
/// virtual host of their own. Use as an xunit class fixture (<c>IClassFixture&lt;CtmSystem&gt;</c>) or create directly.
/// </summary>
public class CtmSystem : IAsyncLifetimeFixture
{
    public static readonly string[] ServiceNames = ["Ingest", "Validator", "Trainer", "Registry", "Predictor"];

    private readonly Dictionary<string, ServiceProcess> _services = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _ports = new(StringComparer.Ordinal);
    private readonly Dictionary<string, BrokerCredentials> _brokerUsers = new(StringComparer.Ordinal);
    private readonly List<ServiceProcess> _replicas = []; // processes beyond the first of each service
    private IBusControl? _bus;

    public IsolatedInfrastructure Infrastructure { get; private set; } = null!;

    /// <summary>The Registry's promotion key (Signing:PrivateKeyPem; the Predictors get its public half), made for this test run.</summary>
    public static DecisionSigner RegistryKey { get; } = NewKey();

    /// <summary>The operators' key: a <see cref="RequestRollback"/> on the bus acts only when signed with it (the Registry gets its public half).</summary>
    public static DecisionSigner OperatorKey { get; } = NewKey();

    /// <summary><paramref name="m"/> signed with <see cref="OperatorKey"/>, as an operator's tool sends it.</summary>
    public static RequestRollback SignedByOperator(RequestRollback m) => m with { Signature = OperatorKey.Sign(SignedPayload.Rollback(m)) };

    /// <summary>Settings passed to every service, e.g. <c>Training__Epochs</c>; override in a subclass.</summary>
    protected virtual IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["Training__Epochs"] = "30",
        ["Ingest__RowEvents__MaxDelaySeconds"] = "1",
    };

    /// <summary>The services this system runs (others get a port in the settings but no process); override to run fewer.</summary>
    protected virtual IReadOnlyList<string> StartedServices => ServiceNames;

    /// <summary>The PostgreSQL server the system's database is created on; override to use a server of the test's own.</summary>
    protected virtual string? PostgresAdmin => null;

    /// <summary>The RabbitMQ node (AMQP and management URIs with an administrator's credentials); override to use a node of the test's own.</summary>
    protected virtual (Uri Amqp, Uri Management)? RabbitMqAdmin => null;

    public ServiceProcess this[string name] => _services[name];

    /// <summary>The broker user <paramref name="service"/> runs as on this system's virtual host.</summary>
    public BrokerCredentials BrokerUser(string service) => _brokerUsers[service];

    public IReadOnlyList<ServiceProcess> Predictors => Replicas("Predictor");

    /// <summary>Every process of <paramref name="service"/>: the first, then those <see cref="StartReplicaAsync"/> added.</summary>
    public IReadOnlyList<ServiceProcess> Replicas(string service) => [_services[service], .. _replicas.Where(r => r.Name == service)];

    /// <summary>A client of <paramref name="service"/> that sends the key of <see cref="TestKeys.Default"/> (operator and producer).</summary>
    public HttpClient Client(string service) => Client(service, TestKeys.Default);

    /// <summary>
    /// A client of <paramref name="service"/> that sends the key of <paramref name="identity"/> (one of <see cref="TestKeys"/>),
    /// or none when null. With replicas it talks to the first process still running, as a load balancer would.
    /// </summary>
    public HttpClient Client(string service, string? identity)
    {
        var process = Replicas(service).FirstOrDefault(p => !p.HasExited) ?? _services[service];
        return TestKeys.Authenticate(new HttpClient { BaseAddress = process.BaseUrl, Timeout = TimeSpan.FromSeconds(60) }, identity);
    }

    public async ValueTask InitializeAsync()
    {
        Infrastructure = await IsolatedInfrastructure.CreateAsync("ctm_e2e", PostgresAdmin, RabbitMqAdmin?.Amqp, RabbitMqAdmin?.Management);
        foreach (var name in ServiceNames)
        {
            _ports[name] = TestEnvironment.FreePort();
            // Each service connects as its own broker user, with only the permissions a deployment gives it.
            _brokerUsers[name] = await Infrastructure.BrokerUserAsync(BrokerPermissions.ForService(name).Name);
        }

        foreach (var name in StartedServices)
        {
            _services[name] = ServiceProcess.Start(name, _ports[name], Environment(name));
        }

        await WaitAllReadyAsync(_services.Values);
    }

    /// <summary>Starts another Predictor replica (fan-out of promotions is per replica).</summary>
    public Task<ServiceProcess> StartPredictorReplicaAsync() => StartReplicaAsync("Predictor");

    /// <summary>Starts another Predictor replica with extra settings (e.g. <c>Serving__StaticTableLimit</c>) on top of <see cref="Settings"/>.</summary>
    public Task<ServiceProcess> StartPredictorReplicaAsync(IReadOnlyDictionary<string, string> extraSettings) => StartReplicaAsync("Predictor", extraSettings);

    /// <summary>
    /// Starts another process of <paramref name="service"/> on the same database, virtual host and broker user, as a
    /// deployment scales out: competing consumers for most services, one more fan-out receiver for the Predictor.
    /// <paramref name="binDirectory"/> runs another build of the service (see <see cref="ServiceProcess.Start"/>).
    /// </summary>
    public async Task<ServiceProcess> StartReplicaAsync(string service, IReadOnlyDictionary<string, string>? extraSettings = null, string? binDirectory = null)
    {
        var environment = Environment(service);
        foreach (var (key, value) in extraSettings ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }

        var replica = ServiceProcess.Start(service, TestEnvironment.FreePort(), environment, binDirectory);
        _replicas.Add(replica);
        await replica.WaitReadyAsync(TimeSpan.FromSeconds(90));
        return replica;
    }

    /// <summary>Restarts a service (e.g. after <see cref="ServiceProcess.Kill"/>) on the same port.</summary>
    public async Task RestartAsync(string name)
    {
        await _services[name].DisposeAsync();
        _services[name] = ServiceProcess.Start(name, _ports[name], Environment(name));
        await _services[name].WaitReadyAsync(TimeSpan.FromSeconds(90));
    }

    /// <summary>A bus client on this system's virtual host, for publishing commands and events as another service would.</summary>
    public async Task<IBus> BusAsync()
    {
        if (_bus is null)
        {
            var rabbit = Infrastructure.RabbitMq;
            var user = rabbit.UserInfo.Split(':');
            _bus = Bus.Factory.CreateUsingRabbitMq(cfg =>
            {
                cfg.Host(rabbit.Host, (ushort)rabbit.Port, Infrastructure.VirtualHost, h =>
                {
                    h.Username(Uri.UnescapeDataString(user[0]));
                    h.Password(Uri.UnescapeDataString(user.ElementAtOrDefault(1) ?? "guest"));
                });
            });
            await _bus.StartAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
        }

        return _bus;
    }

    /// <summary>Polls <paramref name="probe"/> until it returns a value; fails naming what was awaited, with every service's recent log.</summary>
    public async Task<T> EventuallyAsync<T>(Func<Task<T?>> probe, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        Exception? last = null;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if (await probe() is { } value)
                {
                    return value;
                }
            }
            catch (Exception e) when (e is HttpRequestException or System.Text.Json.JsonException or InvalidOperationException)
            {
                last = e;
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"Timed out after {timeout.TotalSeconds:0} s waiting for {what}{(last is null ? "" : $" (last error: {last.Message})")}.\n{Logs()}");
    }

    public string Logs() => string.Join("\n", _services.Values.Concat(_replicas).Select(s => $"----- {s.Name} -----\n{s.Tail(40)}"));

    public async ValueTask DisposeAsync()
    {
        if (_bus is not null)
        {
            await _bus.StopAsync();
        }

        foreach (var service in _services.Values.Concat(_replicas))
        {
            await service.DisposeAsync();
        }

        if (Infrastructure is not null)
        {
            await Infrastructure.DisposeAsync();
        }
    }

    private Dictionary<string, string> Environment(string name)
    {
        var rabbit = Infrastructure.RabbitMq;
        var env = new Dictionary<string, string>
        {
            ["ConnectionStrings__Postgres"] = Infrastructure.ConnectionString,
            ["RabbitMq__Host"] = rabbit.Host,
            ["RabbitMq__Port"] = rabbit.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RabbitMq__VirtualHost"] = Infrastructure.VirtualHost,
            ["RabbitMq__Username"] = _brokerUsers[name].Username,
            ["RabbitMq__Password"] = _brokerUsers[name].Password,
            ["RabbitMq__ManagementUrl"] = Infrastructure.RabbitMqManagement.GetLeftPart(UriPartial.Authority) + "/",
        };
        // Each service gets only the key it needs: the Registry signs, the Predictors verify.
        if (name == "Registry")
        {
            env["Signing__PrivateKeyPem"] = RegistryKey.PrivateKeyPem();
            env["Signing__OperatorPublicKeyPem"] = OperatorKey.PublicKeyPem();
        }
        else if (name == "Predictor")
        {
            env["Signing__PublicKeyPem"] = RegistryKey.PublicKeyPem();
        }

        foreach (var (key, value) in TestKeys.Settings)
        {
            env[key] = value;
        }

        foreach (var service in ServiceNames)
        {
            env[$"Services__{service}"] = $"http://127.0.0.1:{_ports[service]}";
        }

        foreach (var (key, value) in Settings)
        {
            env[key] = value;
        }

        return env;
    }

    private static DecisionSigner NewKey()
    {
        using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        return DecisionSigner.FromPem(key.ExportPkcs8PrivateKeyPem(), "test key");
    }

    private static async Task WaitAllReadyAsync(IEnumerable<ServiceProcess> services) =>
        await Task.WhenAll(services.Select(s => s.WaitReadyAsync(TimeSpan.FromSeconds(120))));
}

/// <summary>xunit.v3's async fixture shape (<c>IAsyncLifetime</c>), without depending on xunit here.</summary>
public interface IAsyncLifetimeFixture : IAsyncDisposable
{
    ValueTask InitializeAsync();
}
