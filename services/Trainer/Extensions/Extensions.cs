using Ctm.Ml;
using Ctm.Ml.Engine;
using Ctm.ServiceDefaults.Http;
using Ctm.ServiceDefaults.Messaging;
using Ctm.ServiceDefaults.Storage;
using Ctm.Trainer.Consumers;
using Ctm.Trainer.Storage;
using Ctm.Trainer.Training;

namespace Ctm.Trainer.Extensions;

public static class Extensions
{
    public static IHostApplicationBuilder AddTrainer(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<TrainingSettings>().BindConfiguration(TrainingSettings.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.AddCtmHttp();
        builder.AddCtmDatabase<TrainerDbContext>();
        // Engines by device; TrainingDevice picks one from Training:Device (a GPU engine registers under "cuda").
        builder.Services.AddKeyedSingleton<ITrainingEngine, ManagedTrainingEngine>(TrainingDevice.Cpu);
        builder.Services.AddSingleton<TrainingDevice>();
        builder.Services.AddSingleton<TrainingSignal>();
        builder.Services.AddSingleton<BatchRowsCache>();
        builder.Services.AddScoped<TrainingDataLoader>();
        builder.Services.AddScoped<TrainingRunner>();
        builder.Services.AddHostedService<TrainingWorker>();
        builder.AddCtmMessaging(x =>
        {
            x.AddConsumer<RecordAcceptedBatchConsumer>(typeof(RecordAcceptedBatchConsumerDefinition));
            x.AddConsumer<ExcludeQuarantinedBatchConsumer>();
            x.AddConsumer<ExcludeDiscardedBatchConsumer>();
            x.AddConsumer<ExcludeCorruptBatchConsumer>();
            x.AddConsumer<RequestRetrainConsumer>();
            x.AddConsumer<TrackServingVersionConsumer>();
        });
        return builder;
    }
}
