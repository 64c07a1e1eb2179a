namespace Ctm.Trainer.Training;

/// <summary>A batch whose rows cannot be trained on (unparsable cells, missing labels).</summary>
public sealed class UnusableBatchException(Guid batchId, string message, Exception? inner = null) : Exception($"batch {batchId}: {message}", inner)
{
    public Guid BatchId { get; } = batchId;
}
