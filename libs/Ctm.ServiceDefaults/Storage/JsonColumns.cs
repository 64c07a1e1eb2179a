using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Ctm.ServiceDefaults.Storage;

/// <summary>
/// Maps a typed property to a <c>jsonb</c> column through <see cref="JsonSerializerOptions.Web"/> (or the options the
/// column was always written with), the options every service wrote those columns with by hand, so existing rows read
/// back as they were written. The one place a service turns its stored state into JSON text and back.
/// </summary>
public static class JsonColumns
{
    /// <summary>
    /// Stores <typeparamref name="T"/> as <c>jsonb</c> written with <paramref name="options"/> (default
    /// <see cref="JsonSerializerOptions.Web"/>); changes are detected by comparing the JSON. A <see cref="JsonElement"/>
    /// property keeps JSON whose shape varies by row (audit details) as it was written.
    /// </summary>
    public static PropertyBuilder<T> HasJsonConversion<T>(this PropertyBuilder<T> property, JsonSerializerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(property);
        var o = options ?? JsonSerializerOptions.Web;
        return property
            .HasConversion(
                v => Write(v, o),
                s => Read<T>(s, o),
                new ValueComparer<T>((a, b) => Write(a, o) == Write(b, o), v => Write(v, o).GetHashCode(StringComparison.Ordinal), v => Read<T>(Write(v, o), o)))
            .HasColumnType("jsonb");
    }

    /// <summary>
    /// The JSON text of <paramref name="value"/> as a <see cref="HasJsonConversion{T}"/> column holds it, for the few
    /// statements that write such a column in raw SQL (an upsert EF cannot express); null stays null.
    /// </summary>
    public static string? Text<T>(T? value, JsonSerializerOptions? options = null) =>
        value is null ? null : Write(value, options ?? JsonSerializerOptions.Web);

    /// <summary>
    /// <paramref name="value"/> (an anonymous object of details, a message) as the JSON a <see cref="JsonElement"/>
    /// column stores, or a typed column's value as it is stored (for an API that shows the stored JSON), written with
    /// <paramref name="options"/> (default <see cref="JsonSerializerOptions.Web"/>, as those columns always were).
    /// </summary>
    public static JsonElement Element(object? value, JsonSerializerOptions? options = null) => JsonSerializer.SerializeToElement(value, options ?? JsonSerializerOptions.Web);

    private static string Write<T>(T? value, JsonSerializerOptions options) => JsonSerializer.Serialize(value, options);

    private static T Read<T>(string json, JsonSerializerOptions options) => JsonSerializer.Deserialize<T>(json, options)!;
}
