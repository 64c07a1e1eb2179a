namespace Ctm.Onnx.Native;

/// <summary>
/// The entries of ONNX Runtime's <c>OrtApi</c> table that this binding calls, read by slot index.
/// </summary>
/// <remarks>
/// <c>OrtApi</c> is an append-only struct of function pointers; a slot's index never changes between releases.
/// The indices below were counted from <c>include/onnxruntime/core/session/onnxruntime_c_api.h</c> (API 29 header,
/// preprocessed for Linux); every function used is available in API version 23, which is what we request.
/// <c>OrtApiTests</c> calls entries from the start, the middle and the end of the range to prove the count.
/// Opaque ORT objects are passed as <see cref="nint"/>; every status-returning entry returns an
/// <c>OrtStatus*</c> that is null on success.
/// </remarks>
internal static unsafe class OrtApi
{
    /// <summary>The OrtApi version requested from <c>OrtApiBase::GetApi</c>.</summary>
    public const uint Version = 23;

    // Slot indices (0-based) in struct OrtApi.
    internal const int CreateStatusSlot = 0;
    internal const int GetErrorCodeSlot = 1;
    internal const int GetErrorMessageSlot = 2;
    internal const int CreateEnvSlot = 3;
    internal const int CreateSessionFromArraySlot = 8;
    internal const int RunSlot = 9;
    internal const int CreateSessionOptionsSlot = 10;
    internal const int SetSessionGraphOptimizationLevelSlot = 23;
    internal const int SetIntraOpNumThreadsSlot = 24;
    internal const int SetInterOpNumThreadsSlot = 25;
    internal const int SessionGetInputCountSlot = 30;
    internal const int SessionGetOutputCountSlot = 31;
    internal const int SessionGetInputTypeInfoSlot = 33;
    internal const int SessionGetOutputTypeInfoSlot = 34;
    internal const int SessionGetInputNameSlot = 36;
    internal const int SessionGetOutputNameSlot = 37;
    internal const int CreateTensorAsOrtValueSlot = 48;
    internal const int CreateTensorWithDataAsOrtValueSlot = 49;
    internal const int GetTensorMutableDataSlot = 51;
    internal const int FillStringTensorSlot = 52;
    internal const int GetStringTensorDataLengthSlot = 53;
    internal const int GetStringTensorContentSlot = 54;
    internal const int CastTypeInfoToTensorInfoSlot = 55;
    internal const int GetOnnxTypeFromTypeInfoSlot = 56;
    internal const int GetTensorElementTypeSlot = 60;
    internal const int GetDimensionsCountSlot = 61;
    internal const int GetDimensionsSlot = 62;
    internal const int GetSymbolicDimensionsSlot = 63;
    internal const int GetTensorShapeElementCountSlot = 64;
    internal const int GetTensorTypeAndShapeSlot = 65;
    internal const int GetValueTypeSlot = 67;
    internal const int CreateCpuMemoryInfoSlot = 69;
    internal const int AllocatorFreeSlot = 76;
    internal const int GetAllocatorWithDefaultOptionsSlot = 78;
    internal const int ReleaseEnvSlot = 92;
    internal const int ReleaseStatusSlot = 93;
    internal const int ReleaseMemoryInfoSlot = 94;
    internal const int ReleaseSessionSlot = 95;
    internal const int ReleaseValueSlot = 96;
    internal const int ReleaseTypeInfoSlot = 98;
    internal const int ReleaseTensorTypeAndShapeInfoSlot = 99;
    internal const int ReleaseSessionOptionsSlot = 100;
    internal const int SessionGetModelMetadataSlot = 111;
    internal const int ModelMetadataGetProducerNameSlot = 112;
    internal const int ModelMetadataGetGraphNameSlot = 113;
    internal const int ModelMetadataGetDomainSlot = 114;
    internal const int ModelMetadataGetDescriptionSlot = 115;
    internal const int ModelMetadataLookupCustomMetadataMapSlot = 116;
    internal const int ModelMetadataGetVersionSlot = 117;
    internal const int ReleaseModelMetadataSlot = 118;
    internal const int ModelMetadataGetCustomMetadataMapKeysSlot = 123;
    internal const int GetAvailableProvidersSlot = 125;
    internal const int ReleaseAvailableProvidersSlot = 126;
    internal const int ModelMetadataGetGraphDescriptionSlot = 158;
    internal const int SessionOptionsAppendExecutionProviderCudaV2Slot = 204;
    internal const int CreateCudaProviderOptionsSlot = 205;
    internal const int UpdateCudaProviderOptionsSlot = 206;
    internal const int ReleaseCudaProviderOptionsSlot = 208;
    internal const int GetBuildInfoStringSlot = 254;
    internal const int GetTensorSizeInBytesSlot = 318;
    internal const int GetTensorDataSlot = 378;

    public static delegate* unmanaged<int, byte*, nint> CreateStatus;
    public static delegate* unmanaged<nint, int> GetErrorCode;
    public static delegate* unmanaged<nint, byte*> GetErrorMessage;
    public static delegate* unmanaged<int, byte*, nint*, nint> CreateEnv;
    public static delegate* unmanaged<nint, void*, nuint, nint, nint*, nint> CreateSessionFromArray;
    public static delegate* unmanaged<nint, nint, nint*, nint*, nuint, nint*, nuint, nint*, nint> Run;
    public static delegate* unmanaged<nint*, nint> CreateSessionOptions;
    public static delegate* unmanaged<nint, int, nint> SetSessionGraphOptimizationLevel;
    public static delegate* unmanaged<nint, int, nint> SetIntraOpNumThreads;
    public static delegate* unmanaged<nint, int, nint> SetInterOpNumThreads;
    public static delegate* unmanaged<nint, nuint*, nint> SessionGetInputCount;
    public static delegate* unmanaged<nint, nuint*, nint> SessionGetOutputCount;
    public static delegate* unmanaged<nint, nuint, nint*, nint> SessionGetInputTypeInfo;
    public static delegate* unmanaged<nint, nuint, nint*, nint> SessionGetOutputTypeInfo;
    public static delegate* unmanaged<nint, nuint, nint, nint*, nint> SessionGetInputName;
    public static delegate* unmanaged<nint, nuint, nint, nint*, nint> SessionGetOutputName;
    public static delegate* unmanaged<nint, long*, nuint, int, nint*, nint> CreateTensorAsOrtValue;
    public static delegate* unmanaged<nint, void*, nuint, long*, nuint, int, nint*, nint> CreateTensorWithDataAsOrtValue;
    public static delegate* unmanaged<nint, void**, nint> GetTensorMutableData;
    public static delegate* unmanaged<nint, byte**, nuint, nint> FillStringTensor;
    public static delegate* unmanaged<nint, nuint*, nint> GetStringTensorDataLength;
    public static delegate* unmanaged<nint, void*, nuint, nuint*, nuint, nint> GetStringTensorContent;
    public static delegate* unmanaged<nint, nint*, nint> CastTypeInfoToTensorInfo;
    public static delegate* unmanaged<nint, int*, nint> GetOnnxTypeFromTypeInfo;
    public static delegate* unmanaged<nint, int*, nint> GetTensorElementType;
    public static delegate* unmanaged<nint, nuint*, nint> GetDimensionsCount;
    public static delegate* unmanaged<nint, long*, nuint, nint> GetDimensions;
    public static delegate* unmanaged<nint, byte**, nuint, nint> GetSymbolicDimensions;
    public static delegate* unmanaged<nint, nuint*, nint> GetTensorShapeElementCount;
    public static delegate* unmanaged<nint, nint*, nint> GetTensorTypeAndShape;
    public static delegate* unmanaged<nint, int*, nint> GetValueType;
    public static delegate* unmanaged<int, int, nint*, nint> CreateCpuMemoryInfo;
    public static delegate* unmanaged<nint, void*, nint> AllocatorFree;
    public static delegate* unmanaged<nint*, nint> GetAllocatorWithDefaultOptions;
    public static delegate* unmanaged<nint, void> ReleaseEnv;
    public static delegate* unmanaged<nint, void> ReleaseStatus;
    public static delegate* unmanaged<nint, void> ReleaseMemoryInfo;
    public static delegate* unmanaged<nint, void> ReleaseSession;
    public static delegate* unmanaged<nint, void> ReleaseValue;
    public static delegate* unmanaged<nint, void> ReleaseTypeInfo;
    public static delegate* unmanaged<nint, void> ReleaseTensorTypeAndShapeInfo;
    public static delegate* unmanaged<nint, void> ReleaseSessionOptions;
    public static delegate* unmanaged<nint, nint*, nint> SessionGetModelMetadata;
    public static delegate* unmanaged<nint, nint, nint*, nint> ModelMetadataGetProducerName;
    public static delegate* unmanaged<nint, nint, nint*, nint> ModelMetadataGetGraphName;
    public static delegate* unmanaged<nint, nint, nint*, nint> ModelMetadataGetDomain;
    public static delegate* unmanaged<nint, nint, nint*, nint> ModelMetadataGetDescription;
    public static delegate* unmanaged<nint, nint, byte*, nint*, nint> ModelMetadataLookupCustomMetadataMap;
    public static delegate* unmanaged<nint, long*, nint> ModelMetadataGetVersion;
    public static delegate* unmanaged<nint, void> ReleaseModelMetadata;
    public static delegate* unmanaged<nint, nint, nint*, long*, nint> ModelMetadataGetCustomMetadataMapKeys;
    public static delegate* unmanaged<nint*, int*, nint> GetAvailableProviders;
    public static delegate* unmanaged<nint, int, nint> ReleaseAvailableProviders;
    public static delegate* unmanaged<nint, nint, nint*, nint> ModelMetadataGetGraphDescription;
    public static delegate* unmanaged<nint, nint, nint> SessionOptionsAppendExecutionProviderCudaV2;
    public static delegate* unmanaged<nint*, nint> CreateCudaProviderOptions;
    public static delegate* unmanaged<nint, byte**, byte**, nuint, nint> UpdateCudaProviderOptions;
    public static delegate* unmanaged<nint, void> ReleaseCudaProviderOptions;
    public static delegate* unmanaged<byte*> GetBuildInfoString;
    public static delegate* unmanaged<nint, nuint*, nint> GetTensorSizeInBytes;
    public static delegate* unmanaged<nint, void**, nint> GetTensorData;

    /// <summary>Fills every entry from the <c>OrtApi*</c> returned by <c>GetApi</c>.</summary>
    internal static void Bind(nint* table)
    {
        CreateStatus = (delegate* unmanaged<int, byte*, nint>)table[CreateStatusSlot];
        GetErrorCode = (delegate* unmanaged<nint, int>)table[GetErrorCodeSlot];
        GetErrorMessage = (delegate* unmanaged<nint, byte*>)table[GetErrorMessageSlot];
        CreateEnv = (delegate* unmanaged<int, byte*, nint*, nint>)table[CreateEnvSlot];
        CreateSessionFromArray = (delegate* unmanaged<nint, void*, nuint, nint, nint*, nint>)table[CreateSessionFromArraySlot];
        Run = (delegate* unmanaged<nint, nint, nint*, nint*, nuint, nint*, nuint, nint*, nint>)table[RunSlot];
        CreateSessionOptions = (delegate* unmanaged<nint*, nint>)table[CreateSessionOptionsSlot];
        SetSessionGraphOptimizationLevel = (delegate* unmanaged<nint, int, nint>)table[SetSessionGraphOptimizationLevelSlot];
        SetIntraOpNumThreads = (delegate* unmanaged<nint, int, nint>)table[SetIntraOpNumThreadsSlot];
        SetInterOpNumThreads = (delegate* unmanaged<nint, int, nint>)table[SetInterOpNumThreadsSlot];
        SessionGetInputCount = (delegate* unmanaged<nint, nuint*, nint>)table[SessionGetInputCountSlot];
        SessionGetOutputCount = (delegate* unmanaged<nint, nuint*, nint>)table[SessionGetOutputCountSlot];
        SessionGetInputTypeInfo = (delegate* unmanaged<nint, nuint, nint*, nint>)table[SessionGetInputTypeInfoSlot];
        SessionGetOutputTypeInfo = (delegate* unmanaged<nint, nuint, nint*, nint>)table[SessionGetOutputTypeInfoSlot];
        SessionGetInputName = (delegate* unmanaged<nint, nuint, nint, nint*, nint>)table[SessionGetInputNameSlot];
        SessionGetOutputName = (delegate* unmanaged<nint, nuint, nint, nint*, nint>)table[SessionGetOutputNameSlot];
        CreateTensorAsOrtValue = (delegate* unmanaged<nint, long*, nuint, int, nint*, nint>)table[CreateTensorAsOrtValueSlot];
        CreateTensorWithDataAsOrtValue = (delegate* unmanaged<nint, void*, nuint, long*, nuint, int, nint*, nint>)table[CreateTensorWithDataAsOrtValueSlot];
        GetTensorMutableData = (delegate* unmanaged<nint, void**, nint>)table[GetTensorMutableDataSlot];
        FillStringTensor = (delegate* unmanaged<nint, byte**, nuint, nint>)table[FillStringTensorSlot];
        GetStringTensorDataLength = (delegate* unmanaged<nint, nuint*, nint>)table[GetStringTensorDataLengthSlot];
        GetStringTensorContent = (delegate* unmanaged<nint, void*, nuint, nuint*, nuint, nint>)table[GetStringTensorContentSlot];
        CastTypeInfoToTensorInfo = (delegate* unmanaged<nint, nint*, nint>)table[CastTypeInfoToTensorInfoSlot];
        GetOnnxTypeFromTypeInfo = (delegate* unmanaged<nint, int*, nint>)table[GetOnnxTypeFromTypeInfoSlot];
        GetTensorElementType = (delegate* unmanaged<nint, int*, nint>)table[GetTensorElementTypeSlot];
        GetDimensionsCount = (delegate* unmanaged<nint, nuint*, nint>)table[GetDimensionsCountSlot];
        GetDimensions = (delegate* unmanaged<nint, long*, nuint, nint>)table[GetDimensionsSlot];
        GetSymbolicDimensions = (delegate* unmanaged<nint, byte**, nuint, nint>)table[GetSymbolicDimensionsSlot];
        GetTensorShapeElementCount = (delegate* unmanaged<nint, nuint*, nint>)table[GetTensorShapeElementCountSlot];
        GetTensorTypeAndShape = (delegate* unmanaged<nint, nint*, nint>)table[GetTensorTypeAndShapeSlot];
        GetValueType = (delegate* unmanaged<nint, int*, nint>)table[GetValueTypeSlot];
        CreateCpuMemoryInfo = (delegate* unmanaged<int, int, nint*, nint>)table[CreateCpuMemoryInfoSlot];
        AllocatorFree = (delegate* unmanaged<nint, void*, nint>)table[AllocatorFreeSlot];
        GetAllocatorWithDefaultOptions = (delegate* unmanaged<nint*, nint>)table[GetAllocatorWithDefaultOptionsSlot];
        ReleaseEnv = (delegate* unmanaged<nint, void>)table[ReleaseEnvSlot];
        ReleaseStatus = (delegate* unmanaged<nint, void>)table[ReleaseStatusSlot];
        ReleaseMemoryInfo = (delegate* unmanaged<nint, void>)table[ReleaseMemoryInfoSlot];
        ReleaseSession = (delegate* unmanaged<nint, void>)table[ReleaseSessionSlot];
        ReleaseValue = (delegate* unmanaged<nint, void>)table[ReleaseValueSlot];
        ReleaseTypeInfo = (delegate* unmanaged<nint, void>)table[ReleaseTypeInfoSlot];
        ReleaseTensorTypeAndShapeInfo = (delegate* unmanaged<nint, void>)table[ReleaseTensorTypeAndShapeInfoSlot];
        ReleaseSessionOptions = (delegate* unmanaged<nint, void>)table[ReleaseSessionOptionsSlot];
        SessionGetModelMetadata = (delegate* unmanaged<nint, nint*, nint>)table[SessionGetModelMetadataSlot];
        ModelMetadataGetProducerName = (delegate* unmanaged<nint, nint, nint*, nint>)table[ModelMetadataGetProducerNameSlot];
        ModelMetadataGetGraphName = (delegate* unmanaged<nint, nint, nint*, nint>)table[ModelMetadataGetGraphNameSlot];
        ModelMetadataGetDomain = (delegate* unmanaged<nint, nint, nint*, nint>)table[ModelMetadataGetDomainSlot];
        ModelMetadataGetDescription = (delegate* unmanaged<nint, nint, nint*, nint>)table[ModelMetadataGetDescriptionSlot];
        ModelMetadataLookupCustomMetadataMap = (delegate* unmanaged<nint, nint, byte*, nint*, nint>)table[ModelMetadataLookupCustomMetadataMapSlot];
        ModelMetadataGetVersion = (delegate* unmanaged<nint, long*, nint>)table[ModelMetadataGetVersionSlot];
        ReleaseModelMetadata = (delegate* unmanaged<nint, void>)table[ReleaseModelMetadataSlot];
        ModelMetadataGetCustomMetadataMapKeys = (delegate* unmanaged<nint, nint, nint*, long*, nint>)table[ModelMetadataGetCustomMetadataMapKeysSlot];
        GetAvailableProviders = (delegate* unmanaged<nint*, int*, nint>)table[GetAvailableProvidersSlot];
        ReleaseAvailableProviders = (delegate* unmanaged<nint, int, nint>)table[ReleaseAvailableProvidersSlot];
        ModelMetadataGetGraphDescription = (delegate* unmanaged<nint, nint, nint*, nint>)table[ModelMetadataGetGraphDescriptionSlot];
        SessionOptionsAppendExecutionProviderCudaV2 = (delegate* unmanaged<nint, nint, nint>)table[SessionOptionsAppendExecutionProviderCudaV2Slot];
        CreateCudaProviderOptions = (delegate* unmanaged<nint*, nint>)table[CreateCudaProviderOptionsSlot];
        UpdateCudaProviderOptions = (delegate* unmanaged<nint, byte**, byte**, nuint, nint>)table[UpdateCudaProviderOptionsSlot];
        ReleaseCudaProviderOptions = (delegate* unmanaged<nint, void>)table[ReleaseCudaProviderOptionsSlot];
        GetBuildInfoString = (delegate* unmanaged<byte*>)table[GetBuildInfoStringSlot];
        GetTensorSizeInBytes = (delegate* unmanaged<nint, nuint*, nint>)table[GetTensorSizeInBytesSlot];
        GetTensorData = (delegate* unmanaged<nint, void**, nint>)table[GetTensorDataSlot];
    }
}
