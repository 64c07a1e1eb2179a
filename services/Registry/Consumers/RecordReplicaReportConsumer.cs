using Ctm.Contracts;
using Ctm.Registry.Serving;
using MassTransit;

namespace Ctm.Registry.Consumers;

/// <summary>A replica's periodic report: keeps it live, and confirms what it serves (making good a lost <see cref="ModelLoaded"/>).</summary>
public sealed class RecordReplicaReportConsumer(ServingRecord record) : IConsumer<PredictorReplicaReported>
{
    public Task Consume(ConsumeContext<PredictorReplicaReported> context) => record.ReportAsync(context.Message, context.CancellationToken);
}
