using System.Text.Json.Serialization;

namespace Ctm.Registry.Policies;

/// <summary>
/// The answer to an operator's action (a rollback, a policy change, an approval, an upload): its text is the
/// <c>status</c> of the JSON answer and the title of a refusal's problem, and is kept in the stored rollback outcome.
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<ActionStatus>))]
public enum ActionStatus
{
    /// <summary>Applied.</summary>
    [JsonStringEnumMemberName("done")]
    Done,

    /// <summary>An upload registered as a new version.</summary>
    [JsonStringEnumMemberName("registered")]
    Registered,

    /// <summary>An upload of a model already registered: the existing version is the answer.</summary>
    [JsonStringEnumMemberName("exists")]
    Exists,

    /// <summary>The current state forbids it (a tainted target without force, a version that already serves).</summary>
    [JsonStringEnumMemberName("conflict")]
    Conflict,

    /// <summary>The dataset, version or batch named is unknown.</summary>
    [JsonStringEnumMemberName("not-found")]
    NotFound,

    /// <summary>The request itself is wrong (a missing operator, a bad value).</summary>
    [JsonStringEnumMemberName("invalid")]
    Invalid,

    /// <summary>A batch filter (time range, upstream) that matches no batch of the dataset.</summary>
    [JsonStringEnumMemberName("no-match")]
    NoMatch,

    /// <summary>A command from the bus without a valid operator signature.</summary>
    [JsonStringEnumMemberName("unauthenticated")]
    Unauthenticated,
}
