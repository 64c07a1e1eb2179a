using System.Text.Json.Serialization;

namespace Ctm.Trainer.Storage;

/// <summary>Where a training job stands; stored (and shown by the runs API) as <c>pending</c>, <c>running</c>, <c>done</c> or <c>failed</c>.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<JobStatus>))]
public enum JobStatus
{
    /// <summary>Waiting for a run to take it.</summary>
    [JsonStringEnumMemberName("pending")]
    Pending,

    /// <summary>Taken by a run that has not finished (or whose process died: the next run takes it again).</summary>
    [JsonStringEnumMemberName("running")]
    Running,

    /// <summary>Answered by a run (or by nothing to train on).</summary>
    [JsonStringEnumMemberName("done")]
    Done,

    /// <summary>Cannot succeed: given up after its attempts, or failed for a reason a retry cannot change.</summary>
    [JsonStringEnumMemberName("failed")]
    Failed,
}
