using Ctm.ServiceDefaults.Http;
using Ctm.ServiceDefaults.Messaging;
using Ctm.ServiceDefaults.Storage;
using Ctm.Validator.Consumers;
using Ctm.Validator.Storage;
using Ctm.Validator.Validation;

namespace Ctm.Validator.Extensions;

public static class Extensions
{
    public static IHostApplicationBuilder AddValidator(this IHostApplicationBuilder builder)
    {
        builder.AddCtmHttp();
        builder.AddCtmDatabase<ValidatorDbContext>();
        builder.Services.AddScoped<BatchValidation>();
        builder.Services.AddSingleton<BatchFetcher>();
        builder.AddCtmMessaging(x => x.AddConsumer<ValidateBatchConsumer>(typeof(ValidateBatchConsumerDefinition)));
        return builder;
    }
}
