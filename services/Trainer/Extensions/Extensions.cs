using Ctm.ServiceDefaults.Http;
using Ctm.ServiceDefaults.Messaging;
using Ctm.ServiceDefaults.Storage;
using Ctm.Trainer.Consumers;
using Ctm.Trainer.Quality;
using Ctm.Trainer.Storage;
using Ctm.Trainer.Training;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Ctm.Trainer.Extensions;

public static class Extensions
{
    public static IHostApplicationBuilder AddTrainer(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<TrainerOptions>().BindConfiguration(TrainerOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<QualityOptions>().BindConfiguration(QualityOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<FeedbackOptions>().BindConfiguration(FeedbackOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.AddCtmHttp();
        builder.AddCtmDatabase<TrainerDbContext>();
        // Engines are chosen per run from the dataset's policy (engine, device) or Training:Engine / Training:Device.
        builder.Services.AddSingleton<TrainingDevice>();
        builder.Services.AddSingleton<TrainingSignal>();
        builder.Services.AddPostgresWakeup(_ => "ctm_trainer_jobs", services => services.GetRequiredService<TrainingSignal>().Notify);
        builder.Services.AddSingleton<BatchRowsCache>();
        builder.Services.AddScoped<BatchLedger>();
        builder.Services.AddScoped<TrainingDataLoader>();
        builder.Services.AddScoped<JobLedger>();
        builder.Services.AddScoped<WarmStartResolver>();
        builder.Services.AddScoped<RunRecorder>();
        builder.Services.AddScoped<TrainingRunner>();
        builder.Services.AddScoped<QualityScorer>();
        builder.Services.AddScoped<FeedbackStore>();
        builder.Services.AddScoped<FeedbackMaintenance>();
        builder.Services.AddHostedService<TrainingWorker>();
        builder.Services.AddHostedService<FeedbackWorker>();
        builder.AddCtmMessaging(x =>
        {
            x.AddConsumer<RecordAcceptedBatchConsumer>(typeof(RecordAcceptedBatchConsumerDefinition));
            x.AddConsumer<ExcludeQuarantinedBatchConsumer>();
            x.AddConsumer<ExcludeDiscardedBatchConsumer>();
            x.AddConsumer<ExcludeCorruptBatchConsumer>();
            x.AddConsumer<RequestRetrainConsumer>();
            x.AddConsumer<TrackServingVersionConsumer>();
            x.AddConsumer<RecordServedPredictionsConsumer>();
            x.AddConsumer<RecordLabelEventConsumer>();
        },
        (context, cfg) =>
        {
            var feedback = context.GetRequiredService<IOptions<FeedbackOptions>>().Value;
            // Label sources are not all .NET: they publish plain JSON (no MassTransit envelope) to a fanout exchange.
            cfg.ReceiveEndpoint(feedback.Queue, e =>
            {
                e.ConfigureConsumeTopology = false;
                e.UseRawJsonDeserializer(RawSerializerOptions.AnyMessageType, isDefault: true);
                e.Bind(feedback.Exchange, b => b.ExchangeType = "fanout");
                e.ConfigureConsumer<RecordLabelEventConsumer>(context);
            });
        });
        return builder;
    }
}
