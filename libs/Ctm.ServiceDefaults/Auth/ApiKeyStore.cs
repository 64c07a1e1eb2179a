using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Frozen;
using System.Globalization;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;

namespace Ctm.ServiceDefaults.Auth;

/// <summary>An identity a key proves: its id and roles.</summary>
/// <param name="Id">The key's id: the name the audit log records.</param>
/// <param name="Roles">The roles it holds.</param>
public sealed record ApiKeyIdentity(string Id, IReadOnlyList<string> Roles);

/// <summary>
/// The configured keys, by hash. A presented key is hashed and its hash looked up. The lookup need not take constant
/// time: a caller chooses the key but not its SHA-256, so how long the lookup of a hash takes tells nothing that leads to
/// a configured key. (Comparing the hash with every configured hash through <c>CryptographicOperations.FixedTimeEquals</c>,
/// which the JIT leaves unoptimized, cost about 0.35 µs a key: 5–8 µs of every request with the test suite's keys.)
/// </summary>
public sealed class ApiKeyStore
{
    // Keys longer than this are hashed from a rented array instead of the stack.
    private const int StackBytes = 256;

    private readonly FrozenDictionary<Sha256Value, Entry> _keys;

    private ApiKeyStore(List<(ApiKeyIdentity Identity, byte[] Hash)> keys)
    {
        // Two ids configured with the same key: the later one wins, as when every hash was compared in turn.
        var byHash = new Dictionary<Sha256Value, Entry>();
        foreach (var (identity, hash) in keys)
        {
            byHash[Sha256Value.From(hash)] = new Entry(identity, ApiKeyAuthenticationHandler.Principal(identity, ApiKeyAuthenticationHandler.SchemeName));
        }

        _keys = byHash.ToFrozenDictionary();
        Count = keys.Count;
    }

    /// <summary>How many keys are configured.</summary>
    public int Count { get; }

    /// <summary>
    /// The principal of every caller when authentication is off (<c>anonymous</c> with every role), built once and shared
    /// by every request.
    /// </summary>
    public ClaimsPrincipal AnonymousPrincipal { get; } = ApiKeyAuthenticationHandler.AnonymousPrincipal();

    /// <summary>The identity <paramref name="key"/> proves, or null.</summary>
    public ApiKeyIdentity? Find(string key) => Lookup(key)?.Identity;

    /// <summary>
    /// The principal of the key <paramref name="key"/> (<see cref="ApiKeyAuthenticationHandler.Principal"/> under the API-key
    /// scheme), or null: built once per configured key and shared by every request that presents it, so it must not be
    /// changed.
    /// </summary>
    public ClaimsPrincipal? FindPrincipal(string key) => Lookup(key)?.Principal;

    private Entry? Lookup(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var length = Encoding.UTF8.GetMaxByteCount(key.Length);
        byte[]? rented = null;
        var bytes = length <= StackBytes ? stackalloc byte[StackBytes] : (rented = ArrayPool<byte>.Shared.Rent(length));
        try
        {
            var written = Encoding.UTF8.GetBytes(key, bytes);
            Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(bytes[..written], hash);
            return _keys.GetValueOrDefault(Sha256Value.From(hash));
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented, clearArray: true);
            }
        }
    }

    /// <summary>SHA-256 of <paramref name="key"/>, lower-case hex: what goes into the configuration.</summary>
    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    /// <summary>Reads the inline keys and the keys file; an error names the setting or the file and line.</summary>
    /// <exception cref="InvalidOperationException">A hash, a role or an id is malformed, or the file is unreadable.</exception>
    public static ApiKeyStore Load(AuthOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var keys = new List<(ApiKeyIdentity, byte[])>();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (id, entry) in options.Keys)
        {
            keys.Add(Parse(id, entry.Roles, entry.Sha256, $"Auth:Keys:{id}", ids));
        }

        if (!string.IsNullOrWhiteSpace(options.KeysFile))
        {
            string[] lines;
            try
            {
                lines = File.ReadAllLines(options.KeysFile);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new InvalidOperationException($"Auth:KeysFile {options.KeysFile} cannot be read: {e.Message}", e);
            }

            for (var i = 0; i < lines.Length; i++)
            {
                var line = lines[i].Split('#', 2)[0].Trim();
                if (line.Length == 0)
                {
                    continue;
                }

                var parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length != 3)
                {
                    throw new InvalidOperationException($"{options.KeysFile} line {i + 1}: expected 'id roles sha256', got {parts.Length} field(s)");
                }

                keys.Add(Parse(parts[0], parts[1], parts[2], $"{options.KeysFile} line {(i + 1).ToString(CultureInfo.InvariantCulture)}", ids));
            }
        }

        return new ApiKeyStore(keys);
    }

    private static (ApiKeyIdentity, byte[]) Parse(string id, string? roles, string? sha256, string where, HashSet<string> ids)
    {
        if (string.IsNullOrWhiteSpace(id) || id.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            throw new InvalidOperationException($"{where}: a key id must be non-empty and have no spaces");
        }

        if (!ids.Add(id))
        {
            throw new InvalidOperationException($"{where}: the key id '{id}' is configured twice");
        }

        if (sha256 is not { Length: 64 } || !sha256.All(char.IsAsciiHexDigit))
        {
            throw new InvalidOperationException($"{where}: the SHA-256 of key '{id}' must be 64 hex digits (printf %s \"$key\" | sha256sum), never the key itself");
        }

        var list = (roles ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var unknown = list.FirstOrDefault(r => !CtmRoles.All.Contains(r));
        if (list.Length == 0 || unknown is not null)
        {
            throw new InvalidOperationException($"{where}: key '{id}' has {(unknown is null ? "no role" : $"the unknown role '{unknown}'")}; roles are {string.Join(", ", CtmRoles.All)}");
        }

        return (new ApiKeyIdentity(id, list), Convert.FromHexString(sha256));
    }
}

/// <summary>A configured key: its identity and the principal its requests carry.</summary>
internal sealed record Entry(ApiKeyIdentity Identity, ClaimsPrincipal Principal);

/// <summary>A SHA-256 value as four words: a cheap dictionary key.</summary>
internal readonly record struct Sha256Value(ulong A, ulong B, ulong C, ulong D)
{
    public static Sha256Value From(ReadOnlySpan<byte> hash) => new(
        BinaryPrimitives.ReadUInt64LittleEndian(hash),
        BinaryPrimitives.ReadUInt64LittleEndian(hash[8..]),
        BinaryPrimitives.ReadUInt64LittleEndian(hash[16..]),
        BinaryPrimitives.ReadUInt64LittleEndian(hash[24..]));
}
