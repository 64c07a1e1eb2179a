using System.Net.Http.Headers;
using System.Security.Cryptography;
using Ctm.ServiceDefaults.Auth;

namespace Ctm.Testing;

/// <summary>
/// The API keys of a test run, made fresh per process: one per role, the services' own, and named operators so a test
/// can act as "alice" and find "alice" in an audit log. The services get only the hashes (<see cref="Settings"/>).
/// </summary>
public static class TestKeys
{
    /// <summary>What <c>CtmSystem.Client(service)</c> (and the fast tier's <c>ServiceFactory.Client()</c>) sends: an operator who may also upload, so existing tests need no key of their own.</summary>
    public const string Default = "tests";

    /// <summary>The key the services send each other.</summary>
    public const string Service = "svc";

    /// <summary>Named operators that tests act as.</summary>
    public static IReadOnlyList<string> Operators { get; } = ["alice", "bob", "carol", "dave", "erin", "frank", "heidi", "ops-console", "ops-rollback"];

    private static readonly Dictionary<string, (string Key, string Roles)> Keys = Make();

    /// <summary>The identity with exactly one role, named for it: <c>producer</c>, <c>operator</c>, <c>reader</c>, <c>service</c>.</summary>
    public static string OnlyRole(string role) => "only-" + role;

    /// <summary>The key of <paramref name="identity"/>.</summary>
    public static string Key(string identity) => Keys[identity].Key;

    /// <summary>The services' settings: every key's hash and roles, and the service key.</summary>
    public static IReadOnlyDictionary<string, string> Settings { get; } = Keys
        .SelectMany(k => new[]
        {
            KeyValuePair.Create($"Auth__Keys__{k.Key}__Sha256", ApiKeyStore.Hash(k.Value.Key)),
            KeyValuePair.Create($"Auth__Keys__{k.Key}__Roles", k.Value.Roles),
        })
        .Append(KeyValuePair.Create("Auth__ServiceKey", Keys[Service].Key))
        .ToDictionary();

    /// <summary>Makes <paramref name="client"/> send <paramref name="identity"/>'s key (none when null).</summary>
    public static HttpClient Authenticate(HttpClient client, string? identity = Default)
    {
        ArgumentNullException.ThrowIfNull(client);
        if (identity is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(ApiKeyAuthenticationHandler.SchemeName, Key(identity));
        }

        return client;
    }

    private static Dictionary<string, (string, string)> Make()
    {
        static string NewKey() => "ctm_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        var keys = new Dictionary<string, (string, string)>(StringComparer.Ordinal)
        {
            [Default] = (NewKey(), $"{CtmRoles.Operator},{CtmRoles.Producer}"),
            [Service] = (NewKey(), CtmRoles.Service),
        };
        foreach (var role in CtmRoles.All)
        {
            keys[OnlyRole(role)] = (NewKey(), role);
        }

        foreach (var name in Operators)
        {
            keys[name] = (NewKey(), CtmRoles.Operator);
        }

        return keys;
    }
}
