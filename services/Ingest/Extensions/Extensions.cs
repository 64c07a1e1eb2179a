using Ctm.Ingest.Batches;
using Ctm.Ingest.Consumers;
using Ctm.Ingest.Storage;
using Ctm.ServiceDefaults.Http;
using Ctm.ServiceDefaults.Messaging;
using Ctm.ServiceDefaults.Storage;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Ctm.Ingest.Extensions;

public static class Extensions
{
    public static IHostApplicationBuilder AddIngest(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<IngestOptions>().BindConfiguration(IngestOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.AddCtmHttp();
        builder.AddCtmDatabase<IngestDbContext>();
        builder.Services.AddScoped<BatchStore>();
        builder.Services.AddScoped<RowEventStore>();
        builder.Services.AddSingleton<PendingRowsSignal>();
        builder.Services.AddPostgresWakeup(_ => "ctm_ingest_rows", services => services.GetRequiredService<PendingRowsSignal>().Notify);
        builder.Services.AddHostedService<RowBatcher>();
        builder.AddCtmMessaging(
            x => x.AddConsumer<RowEventConsumer>(),
            (context, cfg) =>
            {
                var rows = context.GetRequiredService<IOptions<IngestOptions>>().Value.RowEvents;
                // Upstreams are not all .NET: they publish plain JSON (no MassTransit envelope) to a fanout exchange.
                cfg.ReceiveEndpoint(rows.Queue, e =>
                {
                    e.ConfigureConsumeTopology = false;
                    e.UseRawJsonDeserializer(RawSerializerOptions.AnyMessageType, isDefault: true);
                    e.Bind(rows.Exchange, b => b.ExchangeType = "fanout");
                    e.ConfigureConsumer<RowEventConsumer>(context);
                });
            });
        return builder;
    }
}
