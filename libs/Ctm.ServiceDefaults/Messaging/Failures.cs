using System.Net;
using System.Text.Json;
using Ctm.ServiceDefaults.Http;
using Npgsql;

namespace Ctm.ServiceDefaults.Messaging;

/// <summary>
/// Tells "will never work" from "not now". A message that fails for a permanent reason is not retried: the same bytes
/// would fail the same way (malformed input, text PostgreSQL refuses, content that changed under its hash). Everything
/// else (the database or a dependency down, restarting or slow, the broker gone) is worth retrying until it works.
/// </summary>
public static class Failures
{
    /// <summary>True when <paramref name="error"/> (or the failure it wraps) can never succeed on a retry.</summary>
    public static bool IsPermanent(Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        foreach (var e in Chain(error))
        {
            switch (e)
            {
                case PermanentFailureException or FormatException or JsonException or ClaimCheckMismatchException:
                    return true;
                // A body that does not deserialize (MassTransit's SerializationException, whatever its namespace).
                case { } when e.GetType().Name == "SerializationException":
                    return true;
                // Class 22 is "data exception": 22P05 (NUL in jsonb), 22021 (bad encoding), 22P02 (bad text for a type), ...
                case PostgresException p when p.SqlState.StartsWith("22", StringComparison.Ordinal):
                    return true;
                case HttpRequestException { StatusCode: { } status } when IsPermanentStatus(status):
                    return true;
                case NpgsqlException or HttpRequestException or TimeoutException or IOException or OperationCanceledException:
                    return false;
            }
        }

        return false;
    }

    private static IEnumerable<Exception> Chain(Exception error)
    {
        for (var e = error; e is not null; e = e.InnerException!)
        {
            yield return e;
        }
    }

    /// <summary>One line naming the failure, for an error queue, a batch's recorded reason or a log.</summary>
    public static string Describe(Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        var e = error;
        while (e.InnerException is not null && e is not PermanentFailureException and not FormatException and not PostgresException)
        {
            e = e.InnerException;
        }

        return e is PostgresException p ? $"PostgreSQL {p.SqlState}: {p.MessageText}" : e.Message;
    }

    // 4xx means the request itself is wrong, except for "try later" (408 timeout, 425 too early, 429 too many).
    private static bool IsPermanentStatus(HttpStatusCode status) =>
        (int)status is >= 400 and < 500 && status is not (HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests or (HttpStatusCode)425);
}
