using System.Text.RegularExpressions;
using k8s;
using k8s.Models;
using YamlDotNet.Serialization;

namespace Ctm.Deploy.Tests;

/// <summary>
/// The Kubernetes manifests in <c>deploy/k8s</c>, checked without a cluster: every document is loaded strictly into the
/// Kubernetes API's own types (KubernetesClient), so a misspelt or misplaced field fails as a schema violation would;
/// then what Ctm needs of them: two replicas of every service with probes on its health endpoints, resources, its own
/// broker user, every setting it reads, and every secret it mounts created by <c>deploy/k8s/secrets.sh</c>; the
/// broker a three-node cluster of quorum queues.
/// </summary>
public sealed partial class KubernetesManifestTests
{
    private static readonly string[] Services = ["ingest", "validator", "trainer", "registry", "predictor"];

    // What every service reads at start (ServiceDefaults: database, broker, API keys, the other services' URLs).
    private static readonly string[] RequiredSettings =
    [
        "ConnectionStrings__Postgres", "RabbitMq__Host", "RabbitMq__Port", "RabbitMq__VirtualHost", "RabbitMq__Username",
        "RabbitMq__PasswordFile", "Auth__KeysFile", "Auth__ServiceKeyPath",
        "Services__Ingest", "Services__Validator", "Services__Trainer", "Services__Registry", "Services__Predictor",
    ];

    private static readonly string Folder = Path.Combine(RepositoryRoot(), "deploy", "k8s");
    private static readonly Lazy<List<object>> Objects = new(LoadAll);

    [Fact]
    public void Kustomization_ListsEveryManifest_AndEachLoadsStrictlyIntoTheKubernetesTypes()
    {
        var listed = Resources();
        var present = Directory.GetFiles(Folder, "*.yaml").Select(Path.GetFileName).Where(f => f != "kustomization.yaml").Order(StringComparer.Ordinal);

        Assert.Equal(present, listed.Order(StringComparer.Ordinal));
        Assert.All(Objects.Value, o => Assert.IsAssignableFrom<IKubernetesObject>(o));
        Assert.Contains(Objects.Value, o => o is V1Deployment);
    }

    [Fact]
    public void StrictLoading_RefusesAFieldTheApiDoesNotHave()
    {
        // The check above is only as good as strict loading: a field in the wrong place must fail it.
        const string misplaced = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\nspec:\n  replica: 2\n";

        Assert.ThrowsAny<Exception>(() => KubernetesYaml.LoadAllFromString(misplaced, strict: true));
    }

    [Theory]
    [MemberData(nameof(ServiceNames))]
    public void EveryService_RunsTwoReplicas_ProbesItsHealth_HasResources_AndItsOwnBrokerUser(string service)
    {
        var deployment = Single<V1Deployment>(service);
        var pod = deployment.Spec.Template;
        var container = Assert.Single(pod.Spec.Containers);

        Assert.True(deployment.Spec.Replicas >= 2, $"{service}: {deployment.Spec.Replicas} replicas");
        Assert.Equal("/health/ready", container.ReadinessProbe.HttpGet.Path);
        Assert.Equal("/health/live", container.LivenessProbe.HttpGet.Path);
        Assert.Equal("http", container.ReadinessProbe.HttpGet.Port.Value);
        Assert.Contains(container.Ports, p => p.Name == "http" && p.ContainerPort == 8080);
        Assert.True(container.Resources.Requests.ContainsKey("cpu") && container.Resources.Requests.ContainsKey("memory"), $"{service}: requests");
        Assert.True(container.Resources.Limits.ContainsKey("memory"), $"{service}: memory limit");
        Assert.True(pod.Spec.SecurityContext.RunAsNonRoot, $"{service}: runs as root");
        Assert.False(container.SecurityContext.AllowPrivilegeEscalation);

        var settings = Settings(container);
        var unset = RequiredSettings.Where(s => !settings.ContainsKey(s)).ToList();
        Assert.True(unset.Count == 0, $"{service} lacks the settings {string.Join(", ", unset)}");
        Assert.Equal($"ctm-{service}", settings["RabbitMq__Username"]);

        // The service in front selects these pods on the named port; the disruption budget keeps one of them up.
        var front = Single<V1Service>(service);
        Assert.All(front.Spec.Selector, s => Assert.Equal(s.Value, pod.Metadata.Labels[s.Key]));
        Assert.Equal("http", Assert.Single(front.Spec.Ports).TargetPort.Value);
        var budget = Single<V1PodDisruptionBudget>(service);
        Assert.All(budget.Spec.Selector.MatchLabels, s => Assert.Equal(s.Value, pod.Metadata.Labels[s.Key]));
        Assert.Equal(1, budget.Spec.MinAvailable.Value is { } v ? int.Parse(v, System.Globalization.CultureInfo.InvariantCulture) : -1);
    }

    [Fact]
    public void Console_AsksEveryPredictorReplica_ThroughAHeadlessServiceOfThePredictorPods()
    {
        // A ClusterIP Service would hand each ask to one replica; the console must reach all of them by name.
        var registry = Assert.Single(Single<V1Deployment>("registry").Spec.Template.Spec.Containers);
        var url = new Uri(Settings(registry)["Console__PredictorUrls__0"]);
        var replicas = Single<V1Service>(url.Host);
        var predictorPods = Single<V1Deployment>("predictor").Spec.Template.Metadata.Labels;

        Assert.Equal("None", replicas.Spec.ClusterIP);
        Assert.All(replicas.Spec.Selector, s => Assert.Equal(s.Value, predictorPods[s.Key]));
        Assert.Contains(replicas.Spec.Ports, p => p.Port == url.Port && p.TargetPort.Value == "http");
    }

    [Fact]
    public void EverySecretTheManifestsUse_IsCreatedBySecretsScript_WithThatKey()
    {
        var created = CreatedSecrets();
        var used = new List<(string Secret, string? Key, string Where)>();
        foreach (var o in Objects.Value)
        {
            var (name, spec) = o switch
            {
                V1Deployment d => (d.Metadata.Name, d.Spec.Template.Spec),
                V1StatefulSet s => (s.Metadata.Name, s.Spec.Template.Spec),
                _ => (null, null),
            };
            if (spec is null)
            {
                continue;
            }

            foreach (var env in spec.Containers.SelectMany(c => c.Env ?? []).Where(e => e.ValueFrom?.SecretKeyRef is not null))
            {
                used.Add((env.ValueFrom.SecretKeyRef.Name, env.ValueFrom.SecretKeyRef.Key, $"{name} env {env.Name}"));
            }

            foreach (var volume in (spec.Volumes ?? []).Where(v => v.Secret is not null))
            {
                var keys = volume.Secret.Items?.Select(i => i.Key).ToList() ?? [];
                used.Add((volume.Secret.SecretName, null, $"{name} volume {volume.Name}"));
                used.AddRange(keys.Select(k => (volume.Secret.SecretName, (string?)k, $"{name} volume {volume.Name}")));
            }

            // A setting that names a file in a mounted secret (RabbitMq:PasswordFile, Auth:KeysFile …) needs that key.
            foreach (var container in spec.Containers.Where(c => c.Env is not null || c.EnvFrom is not null))
            {
                foreach (var (setting, value) in Settings(container).Where(s => s.Value.StartsWith("/run/secrets/", StringComparison.Ordinal)))
                {
                    var mount = container.VolumeMounts?.SingleOrDefault(m => value.StartsWith(m.MountPath.TrimEnd('/') + "/", StringComparison.Ordinal));
                    var volume = mount is null ? null : spec.Volumes?.SingleOrDefault(v => v.Name == mount.Name && v.Secret is not null);
                    if (volume is null)
                    {
                        used.Add(("(no secret mounted there)", value, $"{name} setting {setting}"));
                        continue;
                    }

                    var file = value[(mount!.MountPath.TrimEnd('/').Length + 1)..];
                    var key = volume.Secret.Items?.SingleOrDefault(i => i.Path == file)?.Key ?? file;
                    used.Add((volume.Secret.SecretName, key, $"{name} setting {setting}"));
                }
            }
        }

        Assert.NotEmpty(used);
        var missing = used.Where(u => !created.TryGetValue(u.Secret, out var keys) || (u.Key is not null && !keys.Contains(u.Key)))
            .Select(u => $"{u.Where}: secret {u.Secret}{(u.Key is null ? "" : " key " + u.Key)}").ToList();
        Assert.True(missing.Count == 0, "not created by deploy/k8s/secrets.sh:\n" + string.Join('\n', missing));

        // The broker password each service reads from its mounted secret is the file RabbitMq:PasswordFile names.
        var config = Single<V1ConfigMap>("ctm-config");
        Assert.Equal("/run/secrets/rabbitmq/password", config.Data["RabbitMq__PasswordFile"]);
        Assert.All(Services, s => Assert.Contains("password", created[$"ctm-rabbitmq-{s}"]));
    }

    [Fact]
    public void Broker_IsAThreeNodeClusterOfQuorumQueues_WithUsersFromTheDefinitions()
    {
        var broker = Single<V1StatefulSet>("rabbitmq");
        var config = Single<V1ConfigMap>("rabbitmq-config").Data["rabbitmq.conf"];

        Assert.Equal(3, broker.Spec.Replicas);
        Assert.Matches(@"(?m)^default_queue_type\s*=\s*quorum$", config);
        Assert.Matches(@"(?m)^cluster_formation\.peer_discovery_backend\s*=\s*rabbit_peer_discovery_k8s$", config);
        Assert.Matches(@"(?m)^load_definitions\s*=\s*/etc/rabbitmq/definitions/definitions\.json$", config);
        Assert.Contains(broker.Spec.Template.Spec.Volumes, v => v.Secret?.SecretName == "ctm-rabbitmq-definitions");
        Assert.Equal("rabbitmq-nodes", broker.Spec.ServiceName);
        Assert.Equal("rabbitmq", Single<V1ConfigMap>("ctm-config").Data["RabbitMq__Host"]);
    }

    public static TheoryData<string> ServiceNames() => [.. Services];

    private static T Single<T>(string name)
        where T : IKubernetesObject<V1ObjectMeta> =>
        Assert.Single(Objects.Value.OfType<T>(), o => o.Metadata.Name == name);

    private static Dictionary<string, string> Settings(V1Container container)
    {
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var source in container.EnvFrom ?? [])
        {
            foreach (var (key, value) in Single<V1ConfigMap>(source.ConfigMapRef.Name).Data)
            {
                settings[key] = value;
            }
        }

        foreach (var env in container.Env ?? [])
        {
            settings[env.Name] = env.Value ?? $"(secret {env.ValueFrom?.SecretKeyRef?.Name})";
        }

        return settings;
    }

    private static List<string> Resources()
    {
        var kustomization = new DeserializerBuilder().Build().Deserialize<Dictionary<string, object>>(File.ReadAllText(Path.Combine(Folder, "kustomization.yaml")));
        return ((List<object>)kustomization["resources"]).Select(r => (string)r).ToList();
    }

    private static List<object> LoadAll() =>
        Resources().SelectMany(file => KubernetesYaml.LoadAllFromString(File.ReadAllText(Path.Combine(Folder, file)), strict: true)).ToList();

    // secret NAME --from-literal=KEY=... --from-file=KEY=... ; a name with $service is created once per service the loop names.
    private static Dictionary<string, HashSet<string>> CreatedSecrets()
    {
        var script = File.ReadAllText(Path.Combine(Folder, "secrets.sh"));
        var loop = LoopPattern().Match(script);
        var created = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (Match call in SecretCallPattern().Matches(script))
        {
            var keys = KeyPattern().Matches(call.Groups["args"].Value).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
            var names = call.Groups["name"].Value.Contains("$service", StringComparison.Ordinal) && loop.Success
                ? loop.Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(s => call.Groups["name"].Value.Replace("$service", s, StringComparison.Ordinal))
                : [call.Groups["name"].Value];
            foreach (var name in names)
            {
                created[name] = keys;
            }
        }

        return created;
    }

    [GeneratedRegex(@"(?m)^\s*secret\s+""?(?<name>[\w$-]+)""?(?<args>(?:.*\\\n)*.*)$")]
    private static partial Regex SecretCallPattern();

    [GeneratedRegex(@"--from-(?:literal|file)=([\w.-]+)=")]
    private static partial Regex KeyPattern();

    [GeneratedRegex(@"for service in ([a-z ]+); do")]
    private static partial Regex LoopPattern();

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Ctm.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"Ctm.sln not found above {AppContext.BaseDirectory}");
    }
}
