namespace Ctm.Testing.Streams;

/// <summary>
/// Generates realistic, time-ordered tabular streams for benchmarks and tests: daily and weekly cycles, growing
/// volume and domains, label-rate swings, concept drift, a late class and injected persistent corruptions.
/// Deterministic for a given <see cref="StreamOptions"/>. What each stream models and why: docs/streams.md.
/// </summary>
public static class StreamGenerator
{
    /// <summary>Generates the stream described by <paramref name="options"/>.</summary>
    /// <exception cref="ArgumentException">The options are invalid; the message names the problem.</exception>
    public static GeneratedStream Generate(StreamOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return options.Kind switch
        {
            StreamKind.Events => EventsStream.Generate(options),
            StreamKind.Weather => WeatherStream.Generate(options),
            _ => throw new ArgumentException($"Unknown stream kind {options.Kind}.", nameof(options)),
        };
    }
}
