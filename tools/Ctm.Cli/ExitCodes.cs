namespace Ctm.Cli;

/// <summary>The exit codes scripts can rely on (also listed by <c>./ctm help</c> and the README).</summary>
public static class ExitCodes
{
    /// <summary>Done.</summary>
    public const int Ok = 0;

    /// <summary>Failed for a reason not listed below (a service error, a bad answer).</summary>
    public const int Failed = 1;

    /// <summary>The command line is wrong (unknown command, missing or malformed argument).</summary>
    public const int Usage = 2;

    /// <summary>What was named does not exist (dataset, batch, version, file).</summary>
    public const int NotFound = 3;

    /// <summary>The service refused (conflict with the current state, or an invalid request); nothing changed.</summary>
    public const int Refused = 4;

    /// <summary>A service or RabbitMQ did not answer.</summary>
    public const int Unreachable = 5;

    /// <summary>Done, but not completely: a rollback some replica did not confirm, a status with unhealthy parts, a watch that timed out.</summary>
    public const int Incomplete = 6;

    /// <summary>The configuration (environment or config file) is unusable.</summary>
    public const int Config = 7;

    /// <summary>A service refused the API key: none was sent (401), it is unknown (401), or its role may not do this (403).</summary>
    public const int Unauthorized = 8;
}

/// <summary>A failure the user can act on: what went wrong, what to do next, and the exit code.</summary>
public sealed class CliException(int exitCode, string message, string? hint = null, object? details = null) : Exception(message)
{
    public int ExitCode { get; } = exitCode;

    public string? Hint { get; } = hint;

    public object? Details { get; } = details;
}
