using System.Text.Json.Serialization;
using Ctm.ServiceDefaults.Http;
using Ctm.ServiceDefaults.Messaging;
using Ctm.ServiceDefaults.Storage;
using Ctm.Validator.Consumers;
using Ctm.Validator.Quarantine;
using Ctm.Validator.Schemas;
using Ctm.Validator.Skew;
using Ctm.Validator.Storage;
using Ctm.Validator.Validation;

namespace Ctm.Validator.Extensions;

public static class Extensions
{
    public static IHostApplicationBuilder AddValidator(this IHostApplicationBuilder builder)
    {
        builder.AddCtmHttp();
        builder.AddCtmDatabase<ValidatorDbContext>();
        builder.Services.AddOptions<ValidatorOptions>().BindConfiguration(ValidatorOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter());
            o.SerializerOptions.AllowOutOfOrderMetadataProperties = true;
            o.SerializerOptions.NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals;
        });
        builder.Services.AddScoped<DatasetStore>();
        builder.Services.AddScoped<BatchValidation>();
        builder.Services.AddScoped<QuarantineService>();
        builder.Services.AddScoped<SchemaService>();
        builder.Services.AddScoped<SkewService>();
        builder.AddCtmMessaging(x =>
        {
            x.AddConsumer<ValidateBatchConsumer>(typeof(ValidateBatchConsumerDefinition));
            x.AddConsumer<ReleaseBatchConsumer>();
            x.AddConsumer<DiscardBatchConsumer>();
            x.AddConsumer<MarkBatchCorruptConsumer>();
            x.AddConsumer<RecordModelTrainedConsumer>();
            x.AddConsumer<RecordModelPromotedConsumer>();
            x.AddConsumer<CheckSkewConsumer>();
        });
        return builder;
    }
}
