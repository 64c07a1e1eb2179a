using System.Text;
using Microsoft.EntityFrameworkCore;

namespace Ctm.ServiceDefaults.Storage;

/// <summary>
/// Maps every entity's table and column names to snake_case (<c>RowCount</c> → <c>row_count</c>), the convention of
/// the hand-written SQL migrations, so that DbContexts need not name each column. Explicit names set before the call win.
/// </summary>
public static class SnakeCaseNames
{
    /// <summary>Applies snake_case names to every entity of <paramref name="modelBuilder"/> whose names were not set explicitly.</summary>
    public static ModelBuilder UseSnakeCaseNames(this ModelBuilder modelBuilder)
    {
        ArgumentNullException.ThrowIfNull(modelBuilder);
        foreach (var entity in modelBuilder.Model.GetEntityTypes())
        {
            if (entity.GetTableName() is { } table && table == entity.ClrType.Name)
            {
                entity.SetTableName(ToSnakeCase(table));
            }

            foreach (var property in entity.GetProperties())
            {
                if (property.GetColumnName() == property.Name)
                {
                    property.SetColumnName(ToSnakeCase(property.Name));
                }
            }
        }

        return modelBuilder;
    }

    /// <summary><c>SamplesPerSecond</c> → <c>samples_per_second</c>; <c>Sha256</c> → <c>sha256</c>.</summary>
    public static string ToSnakeCase(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var result = new StringBuilder(name.Length + 8);
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsUpper(c))
            {
                var previousIsLowerOrDigit = i > 0 && (char.IsLower(name[i - 1]) || char.IsDigit(name[i - 1]));
                var nextIsLower = i + 1 < name.Length && char.IsLower(name[i + 1]);
                if (i > 0 && (previousIsLowerOrDigit || (nextIsLower && char.IsUpper(name[i - 1]))))
                {
                    result.Append('_');
                }

                result.Append(char.ToLowerInvariant(c));
            }
            else
            {
                result.Append(c);
            }
        }

        return result.ToString();
    }
}
