using Ctm.Predictor.Consumers;
using Ctm.Predictor.Models;
using Ctm.ServiceDefaults.Http;
using Ctm.ServiceDefaults.Messaging;

namespace Ctm.Predictor.Extensions;

public static class Extensions
{
    public static IHostApplicationBuilder AddPredictor(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ServingOptions>().BindConfiguration(ServingOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.AddCtmHttp();
        builder.Services.AddSingleton<ModelCatalog>();
        builder.Services.AddSingleton<ModelLoader>();
        builder.Services.AddHostedService<InitialModelLoad>();
        builder.Services.AddHealthChecks().AddCheck<ModelsLoadedCheck>("models", tags: [ServiceDefaults.Extensions.ReadyTag]);
        var replica = $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid():N}".ToLowerInvariant();
        replica = replica.Length > 48 ? replica[^48..] : replica;
        builder.AddCtmMessaging(x =>
            // Every replica needs every promotion: a queue of its own (fan-out), deleted when the replica goes.
            x.AddConsumer<LoadPromotedModelConsumer>().Endpoint(e =>
            {
                e.Name = $"predictor-{replica}";
                e.Temporary = true;
            }));
        return builder;
    }
}
