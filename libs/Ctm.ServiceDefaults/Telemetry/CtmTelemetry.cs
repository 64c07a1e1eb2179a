using System.Diagnostics;

namespace Ctm.ServiceDefaults.Telemetry;

/// <summary>Names shared by every service's traces and metrics.</summary>
public static class CtmTelemetry
{
    /// <summary>The activity source of Ctm's own spans (outbox relay, training runs); a service's own source, <c>Ctm.&lt;Service&gt;</c>, is traced too.</summary>
    public const string SourceName = "Ctm";

    /// <summary>Every Ctm meter's name starts with this (<c>Ctm.Validator</c>, <c>Ctm.Messaging</c>, ...).</summary>
    public const string MeterPrefix = "Ctm.";

    /// <summary>Ctm's own spans.</summary>
    public static readonly ActivitySource Source = new(SourceName);

    /// <summary>The name a service reports (<c>service.name</c>): its assembly name without the <c>Ctm.</c> prefix.</summary>
    public static string ServiceName(string applicationName)
    {
        ArgumentNullException.ThrowIfNull(applicationName);
        return applicationName.StartsWith(MeterPrefix, StringComparison.Ordinal) ? applicationName[MeterPrefix.Length..] : applicationName;
    }

    /// <summary>
    /// Starts a span whose parent is the W3C <c>traceparent</c> stored with deferred work (an outbox row, a training
    /// job), so the trace that caused the work continues in the process that does it. Null when nobody listens or
    /// there is no stored parent.
    /// </summary>
    public static Activity? StartContinuation(string name, string? traceParent, ActivityKind kind = ActivityKind.Internal, IEnumerable<string?>? links = null)
    {
        if (traceParent is null || !ActivityContext.TryParse(traceParent, null, out var parent))
        {
            return null;
        }

        var activityLinks = links?
            .Select(l => l is not null && ActivityContext.TryParse(l, null, out var c) ? c : default)
            .Where(c => c != default && c != parent)
            .Distinct()
            .Select(c => new ActivityLink(c))
            .ToList();
        return Source.StartActivity(name, kind, parent, links: activityLinks);
    }

    /// <summary>The current span's W3C <c>traceparent</c>, to store with work that another process or loop continues.</summary>
    public static string? CurrentTraceParent() =>
        Activity.Current is { IdFormat: ActivityIdFormat.W3C } current ? current.Id : null;
}
