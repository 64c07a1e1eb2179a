using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Ctm.ServiceDefaults.Storage;

/// <summary>PostgreSQL wiring shared by every service.</summary>
public static class StorageExtensions
{
    /// <summary>
    /// Registers <typeparamref name="TContext"/> on the <c>Postgres</c> connection string with snake_case names
    /// (EFCore.NamingConventions: <c>RowCount</c> → <c>row_count</c>, as the SQL migrations spell them; names set with
    /// <c>ToTable</c> or <c>HasColumnName</c> win), its migrations at start-up, the outbox relay, and a readiness check
    /// on the database.
    /// </summary>
    public static IHostApplicationBuilder AddCtmDatabase<TContext>(this IHostApplicationBuilder builder)
        where TContext : DbContext
    {
        ArgumentNullException.ThrowIfNull(builder);
        var connectionString = builder.Configuration.GetConnectionString("Postgres");
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException("The setting ConnectionStrings:Postgres (env ConnectionStrings__Postgres) is missing: it must name the PostgreSQL database.");
        }

        builder.Services.AddDbContext<TContext>(o => o.UseNpgsql(connectionString).UseSnakeCaseNamingConvention());
        builder.Services.AddHostedService<SqlMigrator<TContext>>();
        builder.Services.AddSingleton<OutboxSignal>();
        builder.Services.AddHostedService<OutboxRelay<TContext>>();
        builder.Services.AddPostgresWakeup(
            services =>
            {
                using var scope = services.CreateScope();
                return MessagingTables.Channel(scope.ServiceProvider.GetRequiredService<TContext>().Model.GetDefaultSchema()!);
            },
            services => services.GetRequiredService<OutboxSignal>().Notify);
        builder.Services.AddHealthChecks().AddDbContextCheck<TContext>("postgres", tags: [Extensions.ReadyTag]);
        return builder;
    }
}
