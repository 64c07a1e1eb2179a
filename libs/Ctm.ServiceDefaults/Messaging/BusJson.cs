using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Ctm.ServiceDefaults.Messaging;

/// <summary>
/// What Ctm adds to the bus's JSON options. System.Text.Json reads a number beyond the range of a double (<c>1e999</c>)
/// as infinity, which no message can carry onward: writing it again (the outbox, a fault, a re-drive) throws. Such a
/// number is refused when the message is read, as the malformed message it is (found by the contracts' fuzz run).
/// </summary>
public static class BusJson
{
    /// <summary>Adds Ctm's converters to <paramref name="options"/> (the bus's serializer options) and returns them.</summary>
    public static JsonSerializerOptions Configure(JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Converters.Add(new FiniteDoubleConverter());
        options.Converters.Add(new FiniteSingleConverter());
        return options;
    }

    private sealed class FiniteDoubleConverter : JsonConverter<double>
    {
        public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            Finite(ReadNumber(ref reader, options), ref reader);

        public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options) => writer.WriteNumberValue(value);
    }

    private sealed class FiniteSingleConverter : JsonConverter<float>
    {
        public override float Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            var value = (float)ReadNumber(ref reader, options);
            return float.IsFinite(value) ? value : throw new JsonException($"the number {Raw(ref reader)} is beyond the range of a single-precision number");
        }

        public override void Write(Utf8JsonWriter writer, float value, JsonSerializerOptions options) => writer.WriteNumberValue(value);
    }

    private static double ReadNumber(ref Utf8JsonReader reader, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Number)
        {
            return reader.GetDouble();
        }

        if (reader.TokenType == JsonTokenType.String && (options.NumberHandling & JsonNumberHandling.AllowReadingFromString) != 0
            && double.TryParse(reader.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed))
        {
            return parsed;
        }

        throw new JsonException($"expected a number, found {reader.TokenType}");
    }

    private static double Finite(double value, ref Utf8JsonReader reader) =>
        double.IsFinite(value) ? value : throw new JsonException($"the number {Raw(ref reader)} is beyond the range of a double");

    private static string Raw(ref Utf8JsonReader reader)
    {
        var raw = reader.HasValueSequence ? System.Buffers.BuffersExtensions.ToArray(reader.ValueSequence) : reader.ValueSpan.ToArray();
        var text = System.Text.Encoding.UTF8.GetString(raw);
        return text.Length > 40 ? text[..40] + "…" : text;
    }
}
