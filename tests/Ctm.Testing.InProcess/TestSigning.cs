using System.Security.Cryptography;
using Ctm.ServiceDefaults.Signing;

namespace Ctm.Testing.InProcess;

/// <summary>Fresh ECDSA P-256 keys for a fixture: the Registry's promotion key, an operator's key, a forger's.</summary>
public static class TestSigning
{
    public static DecisionSigner NewKey()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return DecisionSigner.FromPem(key.ExportPkcs8PrivateKeyPem(), "test key");
    }
}
