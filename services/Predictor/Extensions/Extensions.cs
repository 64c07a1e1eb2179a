using Ctm.Predictor.Apis;
using Ctm.Predictor.Consumers;
using Ctm.Predictor.Inference;
using Ctm.Predictor.Models;
using Ctm.Predictor.Monitoring;
using Ctm.ServiceDefaults.Http;
using Ctm.ServiceDefaults.Messaging;
using Ctm.ServiceDefaults.Signing;

namespace Ctm.Predictor.Extensions;

public static class Extensions
{
    public static IHostApplicationBuilder AddPredictor(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ServingOptions>().BindConfiguration(ServingOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.AddCtmHttp();
        builder.AddPromotionVerifier();
        var replica = new ReplicaIdentity();
        builder.Services.AddSingleton(replica);
        builder.Services.AddSingleton<ModelCatalog>();
        builder.Services.AddSingleton<ModelLoader>();
        builder.Services.AddSingleton<ServingStatistics>();
        builder.Services.AddSingleton<ShadowRecorder>();
        builder.Services.AddOptions<ServedPredictionOptions>().BindConfiguration(ServedPredictionOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<ServedPredictionRecorder>();
        builder.Services.AddSingleton<PredictorMetrics>();
        builder.Services.AddSingleton<Predictions>();
        builder.Services.AddHealthChecks().AddCheck<ModelsLoadedCheck>("models", tags: [ServiceDefaults.Extensions.ReadyTag]);
        builder.AddCtmMessaging(x =>
        {
            // Every replica needs every promotion: a queue of its own (fan-out), deleted when the replica goes.
            x.AddConsumer<LoadPromotedModelConsumer>().Endpoint(e =>
            {
                e.Name = $"predictor-{replica.Name}";
                e.Temporary = true;
            });

            // Batch predictions need one answer: a queue all replicas share (competing consumers).
            x.AddConsumer<PredictBatchConsumer>().Endpoint(e => e.Name = PredictBatchConsumer.QueueName);
        });
        builder.Services.AddHostedService<InitialModelLoad>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ShadowRecorder>());
        builder.Services.AddHostedService<ServingStatisticsReporter>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ServedPredictionRecorder>());
        builder.Services.AddHostedService<ReplicaReporter>();
        return builder;
    }

    public static IEndpointRouteBuilder MapPredictorApis(this IEndpointRouteBuilder app)
    {
        app.MapTfServingApi();
        app.MapInferenceProtocolApi();
        app.MapTrafficApi();
        return app;
    }
}
