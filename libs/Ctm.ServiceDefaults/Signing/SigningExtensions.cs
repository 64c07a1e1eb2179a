using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Ctm.ServiceDefaults.Signing;

/// <summary>Signing keys, from the <c>Signing</c> section. Each key is given inline as PEM or as a path to a PEM file.</summary>
public sealed class SigningOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Signing";

    /// <summary>The Registry's private key that signs promotions (PEM).</summary>
    public string? PrivateKeyPem { get; set; }

    /// <summary>A file holding <see cref="PrivateKeyPem"/>.</summary>
    public string? PrivateKeyPath { get; set; }

    /// <summary>The Registry's public key that Predictors verify promotions with (PEM).</summary>
    public string? PublicKeyPem { get; set; }

    /// <summary>A file holding <see cref="PublicKeyPem"/>.</summary>
    public string? PublicKeyPath { get; set; }

    /// <summary>The operators' public key that commands sent over the bus must be signed with (PEM); without it the Registry refuses them.</summary>
    public string? OperatorPublicKeyPem { get; set; }

    /// <summary>A file holding <see cref="OperatorPublicKeyPem"/>.</summary>
    public string? OperatorPublicKeyPath { get; set; }

    internal string? PrivateKey() => SigningKeys.ReadPem(PrivateKeyPem, PrivateKeyPath, "Signing:PrivateKeyPem", "Signing:PrivateKeyPath");

    internal string? PublicKey() => SigningKeys.ReadPem(PublicKeyPem, PublicKeyPath, "Signing:PublicKeyPem", "Signing:PublicKeyPath");

    internal string? OperatorPublicKey() => SigningKeys.ReadPem(OperatorPublicKeyPem, OperatorPublicKeyPath, "Signing:OperatorPublicKeyPem", "Signing:OperatorPublicKeyPath");
}

/// <summary>The operators' key, when one is configured: commands over the bus are accepted only with its signature.</summary>
/// <param name="Verifier">Null when no operator key is configured: every command over the bus is refused.</param>
public sealed record OperatorKey(DecisionVerifier? Verifier);

/// <summary>Registers the signer (Registry) or the verifier (Predictor), validated at start so a missing or bad key stops the service with the setting's name.</summary>
public static class SigningExtensions
{
    /// <summary>The promotion signer from <c>Signing:PrivateKeyPem</c> or <c>Signing:PrivateKeyPath</c> (required), and the optional operator key.</summary>
    public static IHostApplicationBuilder AddPromotionSigner(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<SigningOptions>().BindConfiguration(SigningOptions.Section)
            .Validate(o => Check(() =>
            {
                using var signer = DecisionSigner.FromPem(o.PrivateKey() ?? throw Missing("Signing:PrivateKeyPem", "Signing:PrivateKeyPath", "the Registry's ECDSA P-256 private key that signs promotions"), "Signing:PrivateKey");
                if (o.OperatorPublicKey() is { } op)
                {
                    DecisionVerifier.FromPem(op, "Signing:OperatorPublicKey").Dispose();
                }
            }))
            .ValidateOnStart();
        builder.Services.AddSingleton(sp => DecisionSigner.FromPem(sp.GetRequiredService<IOptions<SigningOptions>>().Value.PrivateKey()!, "Signing:PrivateKey"));
        builder.Services.AddSingleton(sp => new OperatorKey(sp.GetRequiredService<IOptions<SigningOptions>>().Value.OperatorPublicKey() is { } pem
            ? DecisionVerifier.FromPem(pem, "Signing:OperatorPublicKey")
            : null));
        return builder;
    }

    /// <summary>The promotion verifier from <c>Signing:PublicKeyPem</c> or <c>Signing:PublicKeyPath</c> (required).</summary>
    public static IHostApplicationBuilder AddPromotionVerifier(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<SigningOptions>().BindConfiguration(SigningOptions.Section)
            .Validate(o => Check(() => DecisionVerifier.FromPem(
                o.PublicKey() ?? throw Missing("Signing:PublicKeyPem", "Signing:PublicKeyPath", "the Registry's ECDSA P-256 public key that promotions are verified with"), "Signing:PublicKey").Dispose()))
            .ValidateOnStart();
        builder.Services.AddSingleton(sp => DecisionVerifier.FromPem(sp.GetRequiredService<IOptions<SigningOptions>>().Value.PublicKey()!, "Signing:PublicKey"));
        return builder;
    }

    private static InvalidOperationException Missing(string pem, string path, string what) =>
        new($"{pem} (env {pem.Replace(":", "__", StringComparison.Ordinal)}) or {path} is required: {what}.");

    // Options validation reports a failure message, not an exception: rethrow as OptionsValidationException with the setting's name.
    private static bool Check(Action load)
    {
        try
        {
            load();
            return true;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            throw new OptionsValidationException(SigningOptions.Section, typeof(SigningOptions), [e.Message]);
        }
    }
}
