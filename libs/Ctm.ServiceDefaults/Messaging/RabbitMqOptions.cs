using System.ComponentModel.DataAnnotations;
using System.Globalization;

namespace Ctm.ServiceDefaults.Messaging;

/// <summary>The broker connection, bound from the <c>RabbitMq</c> section.</summary>
public sealed class RabbitMqOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "RabbitMq";

    /// <summary>Host name or address.</summary>
    [Required]
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>AMQP port.</summary>
    [Range(1, 65535)]
    public ushort Port { get; set; } = 5672;

    /// <summary>Virtual host.</summary>
    [Required]
    public string VirtualHost { get; set; } = "/";

    /// <summary>
    /// The service's own broker user (one per service: <c>scripts/rabbitmq/permissions.txt</c> says what each may do).
    /// No default: a service never falls back to <c>guest</c>.
    /// </summary>
    [Required(ErrorMessage = "RabbitMq:Username is required: the service's own broker user (e.g. ctm-ingest; scripts/infra.sh creates them)")]
    public string Username { get; set; } = "";

    /// <summary>The user's password; or set <see cref="PasswordFile"/>. Never logged.</summary>
    public string Password { get; set; } = "";

    /// <summary>A file holding the password (e.g. a mounted secret, <c>/run/secrets/...</c>); wins over <see cref="Password"/>.</summary>
    public string? PasswordFile { get; set; }

    /// <summary>
    /// How many times a failing message is retried in process (short back-off) before it is parked for a delayed
    /// redelivery, or, when the failure is permanent, never: it goes to the error queue at once.
    /// </summary>
    [Range(0, 20)]
    public int RetryLimit { get; set; } = 5;

    /// <summary>
    /// The waits between delayed redeliveries, in seconds, comma-separated; the last one repeats. Each distinct wait is
    /// a delay queue per work queue (<c>{queue}_delay_{n}s</c>), so keep the list short.
    /// </summary>
    [Required]
    [RegularExpression(@"^\s*[1-9][0-9]{0,5}\s*(,\s*[1-9][0-9]{0,5}\s*)*$", ErrorMessage = "RabbitMq:RedeliveryDelaysSeconds must be whole seconds (1 to 999999), comma-separated, e.g. '5,30,120,600'")]
    public string RedeliveryDelaysSeconds { get; set; } = "5,15,60,300";

    /// <summary>How long after its first failure a message that may still succeed keeps being redelivered (default 12 hours).</summary>
    [Range(0.1, 10_080)]
    public double RedeliveryWindowMinutes { get; set; } = 720;

    /// <summary>The RabbitMQ management API (for the error-queue view), with this section's user; null: port 15672 of <see cref="Host"/>.</summary>
    public Uri? ManagementUrl { get; set; }

    /// <summary>The parsed <see cref="RedeliveryDelaysSeconds"/>.</summary>
    public IReadOnlyList<int> Delays =>
        [.. RedeliveryDelaysSeconds.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(d => int.Parse(d, CultureInfo.InvariantCulture))];

    /// <summary>Messages each consumer endpoint processes at once.</summary>
    [Range(1, 256)]
    public int PrefetchCount { get; set; } = 16;
}
