using System.Net.Http.Headers;
using System.CommandLine;
using System.Text;
using System.Text.Json;
using Spectre.Console;

namespace Ctm.Cli.Commands;

/// <summary>
/// <c>status</c>: every service's readiness, which version each Predictor replica serves per dataset, and the
/// RabbitMQ queues' depths and error-queue counts (management API). Exit 6 when anything is unhealthy.
/// </summary>
public static class StatusCommand
{
    public static Command Create()
    {
        var command = new Command("status", "Health of the five services, the version each Predictor replica serves, queue depths and error queues");
        command.SetAction((parse, ct) => Shared.RunAsync(parse, ct, async (api, output) =>
        {
            var services = await Task.WhenAll(CliSettings.ServiceNames.Select(s => HealthAsync(api, s, ct)));
            var serving = await ServingAsync(api, ct);
            var (queues, queueError) = await QueuesAsync(api, ct);
            var errors = queues.Where(q => q.Name.EndsWith("_error", StringComparison.Ordinal) && q.Messages > 0).ToList();
            var healthy = services.All(s => s.Status == "Healthy") && queueError is null && errors.Count == 0;
            output.Write(new { healthy, services, serving, queues, queueError, errorQueues = errors }, c =>
            {
                var table = new Table().AddColumns("service", "status", "url", "detail");
                foreach (var s in services)
                {
                    table.AddRow(new Text(s.Service), new Markup(s.Status == "Healthy" ? "[green]healthy[/]" : $"[red]{Markup.Escape(s.Status.ToLowerInvariant())}[/]"), new Text(s.Url), new Text(s.Detail ?? ""));
                }

                c.Write(table);
                var replicas = new Table().AddColumns("dataset", "serving", "replica", "replica serves", "live");
                foreach (var d in serving)
                {
                    foreach (var r in d.Replicas.DefaultIfEmpty())
                    {
                        replicas.AddRow(new Text(d.Dataset), new Text(d.Version is null ? "-" : "v" + d.Version), new Text(r?.Replica ?? "-"),
                            new Markup(r is null ? "" : r.Version == d.Version ? $"[green]v{r.Version}[/]" : $"[red]{(r.Version is null ? "none" : "v" + r.Version)}[/]"),
                            new Text(r is null ? "" : r.Live ? "yes" : "no"));
                    }
                }

                c.Write(replicas);
                var q = new Table().AddColumns("queue", "ready", "unacked", "consumers");
                foreach (var x in queues)
                {
                    var color = x.Name.EndsWith("_error", StringComparison.Ordinal) && x.Messages > 0 ? "red" : "white";
                    q.AddRow(new Markup($"[{color}]{Markup.Escape(x.Name)}[/]"), new Text(x.Ready.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                        new Text(x.Unacknowledged.ToString(System.Globalization.CultureInfo.InvariantCulture)), new Text(x.Consumers.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                }

                c.Write(q);
                if (queueError is not null)
                {
                    c.MarkupLineInterpolated($"[red]RabbitMQ management:[/] {queueError}");
                }
            });
            return healthy ? ExitCodes.Ok : ExitCodes.Incomplete;
        }));
        return command;
    }

    public sealed record ServiceHealth(string Service, string Url, string Status, string? Detail);

    public sealed record ReplicaServing(string Replica, int? Version, bool Live);

    public sealed record DatasetServing(string Dataset, int? Version, IReadOnlyList<ReplicaServing> Replicas);

    public sealed record QueueState(string Name, long Messages, long Ready, long Unacknowledged, int Consumers);

    private static async Task<ServiceHealth> HealthAsync(CtmApi api, string service, CancellationToken ct)
    {
        var url = api.Settings[service].ToString();
        try
        {
            var report = await api.GetAsync(service, "health/ready", ct);
            return new ServiceHealth(service, url, report.Str("status") is { Length: > 0 } s ? s : "Healthy", null);
        }
        catch (CliException e) when (e.Details is JsonElement report && report.Str("status") is { Length: > 0 } s)
        {
            // 503 with the report: name the failing checks.
            var failing = report.TryGetProperty("checks", out var checks) && checks.ValueKind == JsonValueKind.Object
                ? string.Join("; ", checks.EnumerateObject().Where(c => c.Value.Str("status") != "Healthy").Select(c => $"{c.Name}: {c.Value.Str("description")}"))
                : e.Message;
            return new ServiceHealth(service, url, s, failing);
        }
        catch (CliException e)
        {
            return new ServiceHealth(service, url, e.ExitCode == ExitCodes.Unreachable ? "Unreachable" : "Unhealthy", e.Message);
        }
    }

    private static async Task<List<DatasetServing>> ServingAsync(CtmApi api, CancellationToken ct)
    {
        var result = new List<DatasetServing>();
        JsonElement all;
        try
        {
            all = await api.GetAsync("Registry", "v1/serving", ct);
        }
        catch (CliException)
        {
            return result; // the Registry's health row already says why
        }

        foreach (var d in all.Items())
        {
            var dataset = d.Str("dataset");
            var one = await ModelCommands.TryServingAsync(api, Uri.EscapeDataString(dataset), ct);
            var replicas = one is { } s ? s.Items("replicas").Select(r => new ReplicaServing(r.Str("replica"), r.Int("version"), r.Bool("live"))).ToList() : [];
            result.Add(new DatasetServing(dataset, one?.Int("version") ?? d.Int("version"), replicas));
        }

        return result;
    }

    private static async Task<(List<QueueState> Queues, string? Error)> QueuesAsync(CtmApi api, CancellationToken ct)
    {
        var management = api.Settings.RabbitMqManagement;
        var user = management.UserInfo.Split(':', 2);
        var vhost = Uri.EscapeDataString(api.Settings.VirtualHost);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(new UriBuilder(management) { UserName = "", Password = "" }.Uri, $"api/queues/{vhost}?columns=name,messages,messages_ready,messages_unacknowledged,consumers"));
        if (user[0].Length > 0)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
                Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Uri.UnescapeDataString(user[0])}:{Uri.UnescapeDataString(user.ElementAtOrDefault(1) ?? "")}")));
        }

        try
        {
            using var response = await http.SendAsync(request, ct);
            if (!response.IsSuccessStatusCode)
            {
                return ([], $"{(int)response.StatusCode} from {management.Host}:{management.Port} (check CTM_RABBITMQ_MANAGEMENT_URL's credentials and CTM_RABBITMQ_VHOST)");
            }

            using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
            var queues = doc.RootElement.Items()
                .Select(q => new QueueState(q.Str("name"), Long(q, "messages"), Long(q, "messages_ready"), Long(q, "messages_unacknowledged"), q.Int("consumers") ?? 0))
                .OrderBy(q => q.Name, StringComparer.Ordinal)
                .ToList();
            return (queues, null);
        }
        catch (HttpRequestException e)
        {
            return ([], $"{management.Host}:{management.Port} does not answer ({e.Message}); set CTM_RABBITMQ_MANAGEMENT_URL");
        }
    }

    private static long Long(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt64() : 0;
}
