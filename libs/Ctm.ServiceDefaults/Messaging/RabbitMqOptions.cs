using System.ComponentModel.DataAnnotations;

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

    /// <summary>User name.</summary>
    [Required]
    public string Username { get; set; } = "guest";

    /// <summary>Password.</summary>
    [Required]
    public string Password { get; set; } = "guest";

    /// <summary>How many times a failing message is retried in process before it goes to the error queue.</summary>
    [Range(0, 20)]
    public int RetryLimit { get; set; } = 5;

    /// <summary>Messages each consumer endpoint processes at once.</summary>
    [Range(1, 256)]
    public int PrefetchCount { get; set; } = 16;
}
