using System.Security.Cryptography;

namespace Ctm.ServiceDefaults.Signing;

/// <summary>
/// ECDSA P-256 signatures (SHA-256, IEEE P1363 format, base64) from <c>System.Security.Cryptography</c>. Keys are PEM:
/// a private key as PKCS#8 or SEC1 (<c>openssl ecparam -name prime256v1 -genkey -noout</c>), a public key as
/// SubjectPublicKeyInfo (<c>openssl ec -pubout</c>).
/// </summary>
public sealed class DecisionSigner : IDisposable
{
    private readonly ECDsa _key;

    // ECDsa instances are not documented as thread-safe; consumers and HTTP requests sign concurrently.
    private readonly Lock _lock = new();

    private DecisionSigner(ECDsa key) => _key = key;

    /// <summary>A signer over a P-256 private key in PEM.</summary>
    /// <exception cref="ArgumentException">The PEM holds no P-256 private key.</exception>
    public static DecisionSigner FromPem(string pem, string setting) => new(SigningKeys.Import(pem, setting, requirePrivate: true));

    /// <summary>The base64 signature of <paramref name="payload"/>.</summary>
    public string Sign(byte[] payload)
    {
        lock (_lock)
        {
            return Convert.ToBase64String(_key.SignData(payload, HashAlgorithmName.SHA256));
        }
    }

    /// <summary>The private key in PEM (PKCS#8), for the signer's configuration (demo and tests make keys this way).</summary>
    public string PrivateKeyPem() => _key.ExportPkcs8PrivateKeyPem();

    /// <summary>The public key in PEM, for the verifiers' configuration.</summary>
    public string PublicKeyPem() => _key.ExportSubjectPublicKeyInfoPem();

    /// <inheritdoc />
    public void Dispose() => _key.Dispose();
}

/// <summary>Verifies signatures made by <see cref="DecisionSigner"/> with the matching public key.</summary>
public sealed class DecisionVerifier : IDisposable
{
    private readonly ECDsa _key;
    private readonly Lock _lock = new();

    private DecisionVerifier(ECDsa key) => _key = key;

    /// <summary>A verifier over a P-256 public (or private) key in PEM.</summary>
    /// <exception cref="ArgumentException">The PEM holds no P-256 key.</exception>
    public static DecisionVerifier FromPem(string pem, string setting) => new(SigningKeys.Import(pem, setting, requirePrivate: false));

    /// <summary>Whether <paramref name="signature"/> (base64) is a valid signature of <paramref name="payload"/>; a missing or malformed one is not.</summary>
    public bool Verify(byte[] payload, string? signature)
    {
        if (string.IsNullOrEmpty(signature))
        {
            return false;
        }

        var bytes = new byte[signature.Length];
        if (!Convert.TryFromBase64String(signature, bytes, out var length))
        {
            return false;
        }

        lock (_lock)
        {
            return _key.VerifyData(payload, bytes.AsSpan(0, length), HashAlgorithmName.SHA256);
        }
    }

    /// <inheritdoc />
    public void Dispose() => _key.Dispose();
}

/// <summary>Reads signing keys from configuration: the PEM itself, or a path to a PEM file.</summary>
public static class SigningKeys
{
    /// <summary>
    /// The PEM given inline (<paramref name="pem"/>) or in the file at <paramref name="path"/>, or null when neither is set.
    /// </summary>
    /// <exception cref="InvalidOperationException">Both are set, or the file cannot be read; the message names the setting.</exception>
    public static string? ReadPem(string? pem, string? path, string pemSetting, string pathSetting)
    {
        if (!string.IsNullOrWhiteSpace(pem) && !string.IsNullOrWhiteSpace(path))
        {
            throw new InvalidOperationException($"Set either {pemSetting} or {pathSetting}, not both.");
        }

        if (!string.IsNullOrWhiteSpace(pem))
        {
            return pem;
        }

        if (string.IsNullOrWhiteSpace(path))
        {
            return null;
        }

        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"{pathSetting}: cannot read the key file '{path}': {e.Message}", e);
        }
    }

    internal static ECDsa Import(string pem, string setting, bool requirePrivate)
    {
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(pem);
            if (key.KeySize != 256)
            {
                throw new ArgumentException($"{setting}: the key is ECDSA with {key.KeySize} bits; a P-256 key is required");
            }

            if (requirePrivate)
            {
                // Fails for a public-only key: a signer without its private half would only fail later, at the first promotion.
                key.ExportParameters(includePrivateParameters: true);
            }

            return key;
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            key.Dispose();
            throw new ArgumentException(
                e is ArgumentException a && a.Message.StartsWith(setting, StringComparison.Ordinal) ? a.Message
                    : $"{setting}: not a PEM-encoded ECDSA P-256 {(requirePrivate ? "private" : "public")} key ({e.Message})", e);
        }
    }
}
