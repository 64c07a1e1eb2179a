using System.Diagnostics.CodeAnalysis;
using System.Collections.Frozen;
using System.Reflection;
using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Ctm.ServiceDefaults.Storage;

/// <summary>
/// The text of an enum's values as Ctm stores and sends them: the <see cref="JsonStringEnumMemberNameAttribute"/> of
/// each member, so a column, a JSON body and a message spell a value the same way from one declaration.
/// </summary>
/// <typeparam name="T">An enum whose members each carry <see cref="JsonStringEnumMemberNameAttribute"/>.</typeparam>
[SuppressMessage("Design", "CA1000", Justification = "The static members are the per-enum cache: EnumText<T>.Name/Parse look up maps built once for each T.")]
public static class EnumText<T>
    where T : struct, Enum
{
    private static readonly FrozenDictionary<T, string> Names = Enum.GetValues<T>().ToFrozenDictionary(v => v, v =>
        typeof(T).GetField(v.ToString())!.GetCustomAttribute<JsonStringEnumMemberNameAttribute>()?.Name
        ?? throw new InvalidOperationException($"{typeof(T).Name}.{v} has no JsonStringEnumMemberName: it has no stored spelling"));

    private static readonly FrozenDictionary<string, T> Values = Names.ToFrozenDictionary(p => p.Value, p => p.Key, StringComparer.Ordinal);

    /// <summary>Every value's text, in declaration order.</summary>
    public static IReadOnlyList<string> All { get; } = [.. Enum.GetValues<T>().Select(v => Names[v])];

    /// <summary>The text of <paramref name="value"/>.</summary>
    public static string Name(T value) => Names[value];

    /// <summary>The value spelled <paramref name="text"/>; a text no member has is an error that names it.</summary>
    public static T Parse(string text) =>
        TryParse(text, out var value) ? value : throw new FormatException($"'{text}' is not a {typeof(T).Name} (expected one of {string.Join(", ", All)})");

    /// <summary>The value spelled <paramref name="text"/>, if a member has that spelling.</summary>
    public static bool TryParse(string? text, out T value) => Values.TryGetValue(text ?? "", out value);

    /// <summary>An optional filter's value: null for no <paramref name="text"/>; false when a text is given that no member has.</summary>
    public static bool TryParseFilter(string? text, out T? value)
    {
        value = null;
        if (text is null)
        {
            return true;
        }

        var known = TryParse(text, out var parsed);
        value = known ? parsed : null;
        return known;
    }
}

/// <summary>Stores an enum as its <see cref="EnumText{T}"/> text, so the column keeps the strings it had before the enum.</summary>
/// <typeparam name="T">The enum.</typeparam>
public sealed class EnumTextConverter<T>() : ValueConverter<T, string>(v => EnumText<T>.Name(v), s => EnumText<T>.Parse(s))
    where T : struct, Enum;
