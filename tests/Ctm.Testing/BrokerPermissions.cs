namespace Ctm.Testing;

/// <summary>One broker identity of <c>scripts/rabbitmq/permissions.txt</c>: its user tags and permission regexes on a virtual host.</summary>
public sealed record BrokerRole(string Name, string Tags, string Configure, string Write, string Read);

/// <summary>A broker user made for a test: its name and password.</summary>
public sealed record BrokerCredentials(string Username, string Password);

/// <summary>
/// The broker identities the system runs with, read from <c>scripts/rabbitmq/permissions.txt</c> (the same file
/// <c>scripts/infra.sh</c> creates the users from), so the tests exercise exactly what a deployment gets.
/// </summary>
public static class BrokerPermissions
{
    private static readonly Lazy<IReadOnlyDictionary<string, BrokerRole>> Parsed = new(Load);

    public static string FilePath => Path.Combine(TestEnvironment.RepositoryRoot, "scripts", "rabbitmq", "permissions.txt");

    public static IReadOnlyDictionary<string, BrokerRole> Roles => Parsed.Value;

    /// <summary>The role a service runs as (its name in lower case).</summary>
    public static BrokerRole ForService(string service) => Roles[service.ToLowerInvariant()];

    private static IReadOnlyDictionary<string, BrokerRole> Load()
    {
        var values = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        foreach (var (line, number) in File.ReadLines(FilePath).Select((l, i) => (l.Trim(), i + 1)))
        {
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var parts = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 3 || parts[1] is not ("tags" or "configure" or "write" or "read"))
            {
                throw new FormatException($"{FilePath} line {number}: expected '<role> tags|configure|write|read <value>', got '{line}'");
            }

            var role = values.TryGetValue(parts[0], out var r) ? r : values[parts[0]] = new(StringComparer.Ordinal);
            role[parts[1]] = parts[2] == "-" ? "" : parts[2];
        }

        return values.ToDictionary(
            v => v.Key,
            v => new BrokerRole(v.Key, v.Value.GetValueOrDefault("tags", ""), Regex(v.Value, "configure"), Regex(v.Value, "write"), Regex(v.Value, "read")),
            StringComparer.Ordinal);
    }

    // An empty permission means none; RabbitMQ reads "" as "^$" too, but explicit is clearer in the management UI.
    private static string Regex(Dictionary<string, string> role, string kind) => role.GetValueOrDefault(kind, "") is { Length: > 0 } r ? r : "^$";
}
