using Ctm.Registry.Console;
using Ctm.Registry.Consumers;
using Ctm.Registry.External;
using Ctm.Registry.Lineage;
using Ctm.Registry.Models;
using Ctm.Registry.Policies;
using Ctm.Registry.Rollbacks;
using Ctm.Registry.Serving;
using Ctm.Registry.Storage;
using Ctm.ServiceDefaults.Http;
using Ctm.ServiceDefaults.Messaging;
using Ctm.ServiceDefaults.Signing;
using Ctm.ServiceDefaults.Storage;

namespace Ctm.Registry.Extensions;

public static class Extensions
{
    public static IHostApplicationBuilder AddRegistry(this IHostApplicationBuilder builder)
    {
        builder.AddCtmHttp();
        builder.AddRegistryConsole();
        builder.AddPromotionSigner();
        builder.AddCtmDatabase<RegistryDbContext>();
        builder.Services.AddScoped<ModelRegistration>();
        builder.Services.AddSingleton<LiveQuality>();
        builder.Services.AddScoped<BatchTracker>();
        builder.Services.AddScoped<RollbackService>();
        builder.Services.AddScoped<PromotionService>();
        builder.Services.AddScoped<ExternalModelService>();
        builder.Services.AddScoped<ServingRecord>();
        builder.Services.AddOptions<ServingRecordOptions>().BindConfiguration(ServingRecordOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.AddCtmMessaging(x =>
        {
            x.AddConsumer<RegisterModelConsumer>(typeof(RegisterModelConsumerDefinition));
            x.AddConsumer<RollbackConsumer>();
            x.AddConsumer<TrackIngestedBatchConsumer>();
            x.AddConsumer<TrackAcceptedBatchConsumer>();
            x.AddConsumer<TrackQuarantinedBatchConsumer>();
            x.AddConsumer<TrackDiscardedBatchConsumer>();
            x.AddConsumer<RecordModelLoadedConsumer>();
            x.AddConsumer<RecordModelLoadFailedConsumer>();
            x.AddConsumer<RecordReplicaReportConsumer>();
        });
        return builder;
    }
}
