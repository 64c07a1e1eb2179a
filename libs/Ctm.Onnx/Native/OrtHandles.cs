using System.Runtime.InteropServices;

namespace Ctm.Onnx.Native;

/// <summary>Base for handles to ORT objects: a null pointer is invalid, and release never throws.</summary>
internal abstract class OrtHandle : SafeHandle
{
    protected OrtHandle() : base(nint.Zero, ownsHandle: true)
    {
    }

    protected OrtHandle(nint handle) : base(nint.Zero, ownsHandle: true) => SetHandle(handle);

    public override bool IsInvalid => handle == nint.Zero;
}

internal sealed unsafe class OrtEnvHandle(nint handle) : OrtHandle(handle)
{
    protected override bool ReleaseHandle()
    {
        OrtApi.ReleaseEnv(handle);
        return true;
    }
}

internal sealed unsafe class OrtStatusHandle(nint handle) : OrtHandle(handle)
{
    protected override bool ReleaseHandle()
    {
        OrtApi.ReleaseStatus(handle);
        return true;
    }
}

internal sealed unsafe class OrtSessionHandle(nint handle) : OrtHandle(handle)
{
    protected override bool ReleaseHandle()
    {
        OrtApi.ReleaseSession(handle);
        return true;
    }
}

internal sealed unsafe class OrtSessionOptionsHandle(nint handle) : OrtHandle(handle)
{
    protected override bool ReleaseHandle()
    {
        OrtApi.ReleaseSessionOptions(handle);
        return true;
    }
}

internal sealed unsafe class OrtValueHandle(nint handle) : OrtHandle(handle)
{
    protected override bool ReleaseHandle()
    {
        OrtApi.ReleaseValue(handle);
        return true;
    }
}

internal sealed unsafe class OrtMemoryInfoHandle(nint handle) : OrtHandle(handle)
{
    protected override bool ReleaseHandle()
    {
        OrtApi.ReleaseMemoryInfo(handle);
        return true;
    }
}

internal sealed unsafe class OrtTypeInfoHandle(nint handle) : OrtHandle(handle)
{
    protected override bool ReleaseHandle()
    {
        OrtApi.ReleaseTypeInfo(handle);
        return true;
    }
}

internal sealed unsafe class OrtTensorTypeAndShapeInfoHandle(nint handle) : OrtHandle(handle)
{
    protected override bool ReleaseHandle()
    {
        OrtApi.ReleaseTensorTypeAndShapeInfo(handle);
        return true;
    }
}

internal sealed unsafe class OrtModelMetadataHandle(nint handle) : OrtHandle(handle)
{
    protected override bool ReleaseHandle()
    {
        OrtApi.ReleaseModelMetadata(handle);
        return true;
    }
}

internal sealed unsafe class OrtCudaProviderOptionsHandle(nint handle) : OrtHandle(handle)
{
    protected override bool ReleaseHandle()
    {
        OrtApi.ReleaseCudaProviderOptions(handle);
        return true;
    }
}

/// <summary>Memory that ORT allocated with the default allocator on our behalf (names, metadata strings).</summary>
internal sealed unsafe class OrtAllocatedHandle(nint handle) : OrtHandle(handle)
{
    /// <summary>Reads the UTF-8 string this handle points to.</summary>
    public string ReadString()
    {
        var added = false;
        try
        {
            DangerousAddRef(ref added);
            return Marshal.PtrToStringUTF8(handle) ?? string.Empty;
        }
        finally
        {
            if (added)
            {
                DangerousRelease();
            }
        }
    }

    protected override bool ReleaseHandle()
    {
        var status = OrtApi.AllocatorFree(OrtRuntime.DefaultAllocator, (void*)handle);
        if (status != nint.Zero)
        {
            OrtApi.ReleaseStatus(status);
        }

        return true;
    }
}
