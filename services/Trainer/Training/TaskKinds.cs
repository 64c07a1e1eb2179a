using Ctm.Contracts;
using Ctm.Ml;

namespace Ctm.Trainer.Training;

/// <summary>The one place where a dataset's task, as the contracts name it, becomes the ML library's.</summary>
public static class TaskKinds
{
    public static ModelTask ToModelTask(this TaskKind kind) => kind switch
    {
        TaskKind.Binary => ModelTask.BinaryClassification,
        TaskKind.Multiclass => ModelTask.MulticlassClassification,
        TaskKind.Regression => ModelTask.Regression,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "not a task the Trainer trains"),
    };
}
