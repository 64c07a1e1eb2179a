namespace Ctm.Ml.Engine.Ort;

/// <summary>Where <see cref="OnnxRuntimeTrainingEngine"/> runs its training step.</summary>
public enum OrtTrainingDevice
{
    /// <summary>ONNX Runtime's CPU execution provider.</summary>
    Cpu,

    /// <summary>ONNX Runtime's CUDA execution provider on device 0 (needs CUDA 13, cuDNN 9 and a driver).</summary>
    Cuda,
}
