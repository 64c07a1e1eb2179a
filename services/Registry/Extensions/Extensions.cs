using Ctm.Registry.Consumers;
using Ctm.Registry.Models;
using Ctm.Registry.Storage;
using Ctm.ServiceDefaults.Http;
using Ctm.ServiceDefaults.Messaging;
using Ctm.ServiceDefaults.Storage;

namespace Ctm.Registry.Extensions;

public static class Extensions
{
    public static IHostApplicationBuilder AddRegistry(this IHostApplicationBuilder builder)
    {
        builder.AddCtmHttp();
        builder.AddCtmDatabase<RegistryDbContext>();
        builder.Services.AddScoped<ModelRegistration>();
        builder.AddCtmMessaging(x => x.AddConsumer<RegisterModelConsumer>());
        return builder;
    }
}
