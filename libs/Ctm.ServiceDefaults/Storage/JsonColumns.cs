using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Ctm.ServiceDefaults.Storage;

/// <summary>
/// Maps a typed property to a <c>jsonb</c> column through <see cref="JsonSerializerOptions.Web"/>, the options every
/// service wrote those columns with by hand, so existing rows read back as they were written.
/// </summary>
public static class JsonColumns
{
    /// <summary>Stores <typeparamref name="T"/> as <c>jsonb</c>; changes are detected by comparing the JSON.</summary>
    public static PropertyBuilder<T> HasJsonConversion<T>(this PropertyBuilder<T> property)
        where T : class?
    {
        ArgumentNullException.ThrowIfNull(property);
        return property
            .HasConversion(v => Write(v), s => Read<T>(s), new ValueComparer<T>((a, b) => Write(a) == Write(b), v => Write(v).GetHashCode(StringComparison.Ordinal), v => Read<T>(Write(v))))
            .HasColumnType("jsonb");
    }

    private static string Write<T>(T? value) => JsonSerializer.Serialize(value, JsonSerializerOptions.Web);

    private static T Read<T>(string json) => JsonSerializer.Deserialize<T>(json, JsonSerializerOptions.Web)!;
}
