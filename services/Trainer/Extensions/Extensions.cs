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
        builder.Services.AddSingleton<ITrainingEngine, ManagedTrainingEngine>();
        builder.Services.AddSingleton<TrainingSignal>();
        builder.Services.AddScoped<TrainingRunner>();
        builder.Services.AddHostedService<TrainingWorker>();
        builder.AddCtmMessaging(x =>
        {
            x.AddConsumer<RecordAcceptedBatchConsumer>();
            x.AddConsumer<ExcludeQuarantinedBatchConsumer>();
            x.AddConsumer<TrackServingVersionConsumer>();
        });
        return builder;
    }
}
