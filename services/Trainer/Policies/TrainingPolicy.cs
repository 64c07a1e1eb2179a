using Ctm.Ml.Engine;
using Ctm.Trainer.Storage;

namespace Ctm.Trainer.Policies;

/// <summary>
/// When a dataset trains and on which data. Triggers: <c>batches</c> (after every <see cref="EveryBatches"/> accepted
/// batches), <c>rows</c> (after <see cref="EveryRows"/> accepted rows), <c>schedule</c> (every
/// <see cref="IntervalSeconds"/> when new batches arrived), <c>manual</c> (only on request). Windows: <c>all</c>
/// batches, the <c>last-batches</c> <see cref="WindowBatches"/>, or <c>decay</c> (every batch, weighted
/// 0.5^(age / <see cref="HalfLifeHours"/>) by acceptance time relative to the newest).
/// </summary>
public sealed record TrainingPolicy
{
    public static readonly string[] Triggers = ["batches", "rows", "schedule", "manual"];
    public static readonly string[] Windows = ["all", "last-batches", "decay"];

    public string Trigger { get; init; } = "batches";
    public int EveryBatches { get; init; } = 1;
    public long EveryRows { get; init; }
    public double IntervalSeconds { get; init; }

    /// <summary>
    /// When training fell behind, answer every waiting batch with one run instead of one run per threshold
    /// (fresher, but the versions no longer fall on exact multiples of the threshold).
    /// </summary>
    public bool CatchUp { get; init; }

    public string Window { get; init; } = "all";
    public int WindowBatches { get; init; }
    public double HalfLifeHours { get; init; }

    /// <summary>Warm-start from the serving version (a request or a schema change can still ask for a full retrain).</summary>
    public bool WarmStart { get; init; } = true;

    /// <summary>Epochs for this dataset's runs, or null for the service's <c>Training:Epochs</c>.</summary>
    public int? Epochs { get; init; }

    /// <summary>Rows per optimizer step for this dataset, or null for the service's <c>Training:BatchSize</c>.</summary>
    public int? BatchSize { get; init; }

    /// <summary><c>managed</c> or <c>onnxruntime</c>, or null for the service's <c>Training:Engine</c>.</summary>
    public string? Engine { get; init; }

    /// <summary><c>cpu</c>, <c>cuda</c> or <c>auto</c>, or null for the service's <c>Training:Device</c>.</summary>
    public string? Device { get; init; }

    /// <summary>
    /// Retrain at once (warm-started from the serving version, on the policy's window) when the serving version's live
    /// quality degrades overall or on a slice (<c>ModelQualityDegraded</c>), whatever the trigger says.
    /// </summary>
    public bool RetrainOnQualityAlert { get; init; }

    /// <summary>
    /// Without a stored policy: a run as soon as batches wait, answering all of them (the freshest model, no
    /// intermediate versions when training fell behind).
    /// </summary>
    public static TrainingPolicy Default { get; } = new() { CatchUp = true };

    /// <summary>What is wrong with the policy, by field; empty when it is usable.</summary>
    public Dictionary<string, string[]> Validate()
    {
        var errors = new Dictionary<string, string[]>();
        if (!Triggers.Contains(Trigger))
        {
            errors["trigger"] = [$"must be one of {string.Join(", ", Triggers)}"];
        }

        if (Trigger == "batches" && EveryBatches < 1)
        {
            errors["everyBatches"] = ["must be at least 1 with the 'batches' trigger"];
        }

        if (Trigger == "rows" && EveryRows < 1)
        {
            errors["everyRows"] = ["must be at least 1 with the 'rows' trigger"];
        }

        if (Trigger == "schedule" && !(IntervalSeconds >= 1))
        {
            errors["intervalSeconds"] = ["must be at least 1 with the 'schedule' trigger"];
        }

        if (!Windows.Contains(Window))
        {
            errors["window"] = [$"must be one of {string.Join(", ", Windows)}"];
        }

        if (Window == "last-batches" && WindowBatches < 1)
        {
            errors["windowBatches"] = ["must be at least 1 with the 'last-batches' window"];
        }

        if (Window == "decay" && !(HalfLifeHours > 0 && double.IsFinite(HalfLifeHours)))
        {
            errors["halfLifeHours"] = ["must be positive with the 'decay' window"];
        }

        if (Epochs is < 1 or > 100_000)
        {
            errors["epochs"] = ["must be between 1 and 100000, or null for the service's setting"];
        }

        if (BatchSize is < 1 or > 65_536)
        {
            errors["batchSize"] = ["must be between 1 and 65536, or null for the service's setting"];
        }

        if (Engine is not null && !TrainingEngines.EngineNames.Contains(Engine))
        {
            errors["engine"] = [$"must be one of {string.Join(", ", TrainingEngines.EngineNames)}, or null for the service's setting"];
        }

        if (Device is not null && !TrainingEngines.DeviceNames.Contains(Device))
        {
            errors["device"] = [$"must be one of {string.Join(", ", TrainingEngines.DeviceNames)}, or null for the service's setting"];
        }

        if (Engine == TrainingEngines.Managed && Device == TrainingEngines.Cuda)
        {
            errors["device"] = ["the managed engine runs on the CPU only: use engine onnxruntime for cuda"];
        }

        return errors;
    }

    public static TrainingPolicy From(TrainingPolicyRecord? r) => r is null ? Default : new TrainingPolicy
    {
        Trigger = r.Trigger,
        EveryBatches = r.EveryBatches,
        EveryRows = r.EveryRows,
        IntervalSeconds = r.IntervalSeconds,
        CatchUp = r.CatchUp,
        Window = r.WindowKind,
        WindowBatches = r.WindowBatches,
        HalfLifeHours = r.HalfLifeHours,
        WarmStart = r.WarmStart,
        Epochs = r.Epochs,
        BatchSize = r.BatchSize,
        Engine = r.Engine,
        Device = r.Device,
        RetrainOnQualityAlert = r.RetrainOnQualityAlert,
    };

    public void CopyTo(TrainingPolicyRecord r)
    {
        r.Trigger = Trigger;
        r.EveryBatches = EveryBatches;
        r.EveryRows = EveryRows;
        r.IntervalSeconds = IntervalSeconds;
        r.CatchUp = CatchUp;
        r.WindowKind = Window;
        r.WindowBatches = WindowBatches;
        r.HalfLifeHours = HalfLifeHours;
        r.WarmStart = WarmStart;
        r.Epochs = Epochs;
        r.BatchSize = BatchSize;
        r.Engine = Engine;
        r.Device = Device;
        r.RetrainOnQualityAlert = RetrainOnQualityAlert;
    }
}
