namespace Ctm.ServiceDefaults.Auth;

/// <summary>
/// Who may call the HTTP APIs, from the <c>Auth</c> section. Keys are configured by their SHA-256 only (the key itself
/// never sits in configuration): inline as <c>Auth:Keys:&lt;id&gt;:Sha256</c> and <c>Auth:Keys:&lt;id&gt;:Roles</c>, or in the
/// file <c>Auth:KeysFile</c> (one key a line: <c>id roles sha256</c>, roles comma-separated, <c>#</c> starts a comment).
/// </summary>
public sealed class AuthOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Auth";

    /// <summary>
    /// False lets every caller in as <c>anonymous</c> with every role: for experiments on a laptop only. The demo,
    /// docker-compose and the tests run with it on (the default).
    /// </summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Keys by id (the id is the identity the audit log records).</summary>
    public Dictionary<string, ApiKeyEntry> Keys { get; set; } = new(StringComparer.Ordinal);

    /// <summary>A file of key hashes (<c>scripts/keys.sh</c> writes <c>.ctm/keys/api-keys</c>), read at start.</summary>
    public string? KeysFile { get; set; }

    /// <summary>The key this service sends when it calls another Ctm service (a key with the <c>service</c> role).</summary>
    public string? ServiceKey { get; set; }

    /// <summary>A file holding <see cref="ServiceKey"/> (a mounted secret).</summary>
    public string? ServiceKeyPath { get; set; }
}

/// <summary>One configured key: its SHA-256 (hex) and its roles.</summary>
public sealed class ApiKeyEntry
{
    /// <summary>SHA-256 of the key's UTF-8 bytes, 64 hex digits (<c>printf %s "$key" | sha256sum</c>).</summary>
    public string? Sha256 { get; set; }

    /// <summary>Comma-separated roles: producer, operator, reader, service.</summary>
    public string? Roles { get; set; }
}
