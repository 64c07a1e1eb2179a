using System.Text.Json;

namespace Ctm.Cli;

/// <summary>
/// Where the services are, who the operator is and the API key: from <c>CTM_*</c> environment variables, else the config
/// file (<c>CTM_CONFIG</c>, default <c>~/.config/ctm/config.json</c>), else the ports <c>./ctm demo</c> uses. Never from
/// arguments: credentials on a command line end up in shell history.
/// </summary>
public sealed record CliSettings(
    IReadOnlyDictionary<string, Uri> Services, Uri RabbitMqManagement, string VirtualHost, string Operator, string? Source, string? ApiKey = null)
{
    /// <summary>Where the API key is read from, for messages that say what to set.</summary>
    public const string ApiKeyVariable = "CTM_API_KEY";

    public static readonly string[] ServiceNames = ["Ingest", "Validator", "Trainer", "Registry", "Predictor"];

    private static readonly Dictionary<string, int> DemoPorts = new(StringComparer.Ordinal)
    {
        ["Ingest"] = 5101, ["Validator"] = 5102, ["Trainer"] = 5103, ["Registry"] = 5104, ["Predictor"] = 5105,
    };

    public Uri this[string service] => Services[service];

    /// <exception cref="CliException">The config file or a variable is unreadable (exit code <see cref="ExitCodes.Config"/>).</exception>
    public static CliSettings Load(Func<string, string?> environment)
    {
        var path = environment("CTM_CONFIG") ?? Path.Combine(environment("HOME") ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config", "ctm", "config.json");
        var file = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        string? source = null;
        if (File.Exists(path))
        {
            try
            {
                using var doc = JsonDocument.Parse(File.ReadAllText(path));
                foreach (var p in doc.RootElement.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.String))
                {
                    file[p.Name] = p.Value.GetString()!;
                }

                source = path;
            }
            catch (JsonException e)
            {
                throw new CliException(ExitCodes.Config, $"{path} is not valid JSON: {e.Message}", "Fix the file (an object of strings, e.g. {\"registry\": \"http://host:5104\"}) or point CTM_CONFIG elsewhere.");
            }
        }

        string? Setting(string variable, string key) => environment(variable) is { Length: > 0 } v ? v : file.GetValueOrDefault(key);

        var services = new Dictionary<string, Uri>(StringComparer.Ordinal);
        foreach (var name in ServiceNames)
        {
            var variable = $"CTM_{name.ToUpperInvariant()}_URL";
            var value = Setting(variable, name) ?? $"http://127.0.0.1:{DemoPorts[name]}/";
            services[name] = ParseUrl(value, variable);
        }

        var management = ParseUrl(Setting("CTM_RABBITMQ_MANAGEMENT_URL", "rabbitmqManagement") ?? "http://guest:guest@127.0.0.1:15672/", "CTM_RABBITMQ_MANAGEMENT_URL");
        // The defaults are the demo's: its services run on the virtual host 'ctm-demo' (scripts/demo.sh).
        var vhost = Setting("CTM_RABBITMQ_VHOST", "virtualHost") ?? "ctm-demo";
        var @operator = Setting("CTM_OPERATOR", "operator") ?? environment("USER") ?? "operator";
        var key = Setting(ApiKeyVariable, "apiKey")?.Trim();
        return new CliSettings(services, management, vhost, @operator, source, string.IsNullOrEmpty(key) ? null : key);
    }

    private static Uri ParseUrl(string value, string variable)
    {
        if (!Uri.TryCreate(value.EndsWith('/') ? value : value + "/", UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            throw new CliException(ExitCodes.Config, $"{variable} (or its config-file key) is '{value}', not an http(s) URL.", "Set it to the service's base URL, e.g. http://127.0.0.1:5104.");
        }

        return uri;
    }
}
