using Ctm.ServiceDefaults.Http;
using Ctm.ServiceDefaults.Messaging;
using Ctm.ServiceDefaults.Storage;
using Ctm.Trainer.Consumers;
using Ctm.Trainer.Quality;
using Ctm.Trainer.Storage;
using Ctm.Trainer.Training;

namespace Ctm.Trainer.Extensions;

public static class Extensions
{
    public static IHostApplicationBuilder AddTrainer(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<TrainingSettings>().BindConfiguration(TrainingSettings.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<QualitySettings>().BindConfiguration(QualitySettings.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.AddCtmHttp();
        builder.AddCtmDatabase<TrainerDbContext>();
        // Engines are chosen per run from the dataset's policy (engine, device) or Training:Engine / Training:Device.
        builder.Services.AddSingleton<TrainingDevice>();
        builder.Services.AddSingleton<TrainingSignal>();
        builder.Services.AddPostgresWakeup(_ => "ctm_trainer_jobs", services => services.GetRequiredService<TrainingSignal>().Notify);
        builder.Services.AddSingleton<BatchRowsCache>();
        builder.Services.AddScoped<TrainingDataLoader>();
        builder.Services.AddScoped<TrainingRunner>();
        builder.Services.AddScoped<QualityScorer>();
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
