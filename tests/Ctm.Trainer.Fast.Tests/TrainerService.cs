using System.Text;
using Ctm.Contracts;

namespace Ctm.Trainer.Fast.Tests;

/// <summary>
/// The Trainer in this process on a database of its own, the bus being MassTransit's test harness; accepted batches
/// are served over loopback as Ingest serves them. Few epochs, so a run takes a moment.
/// </summary>
public sealed class TrainerService() : ServiceFactory<Program>("trainer"), IAsyncLifetime
{
    public const string BaseUrl = "http://trainer.test/";

    private readonly ArtifactHost _batches = new();

    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["Training:Epochs"] = "3",
        ["Training:UpdateEpochs"] = "2",
        // No Registry here to confirm a promotion: a run does not wait for one.
        ["Training:PromotionWaitSeconds"] = "0",
        ["Services:Trainer"] = BaseUrl,
        ["Services:Registry"] = "http://registry.test/",
    };

    /// <summary>What the Validator publishes when it accepts <paramref name="csv"/> (churn columns) as a batch of <paramref name="dataset"/>.</summary>
    public BatchAccepted Accepted(string dataset, string csv)
    {
        var bytes = Encoding.UTF8.GetBytes(csv);
        var (url, sha) = _batches.Add(bytes);
        return new BatchAccepted
        {
            BatchId = Guid.NewGuid(),
            Dataset = dataset,
            CorrelationId = Guid.NewGuid(),
            RowCount = csv.Count(c => c == '\n') - 1,
            Sha256 = sha,
            Location = url,
            SchemaVersion = 1,
            Features =
            [
                new ColumnSpec { Name = "tenure", Kind = ColumnKind.Numeric },
                new ColumnSpec { Name = "plan", Kind = ColumnKind.Categorical },
                new ColumnSpec { Name = "monthly_fee", Kind = ColumnKind.Numeric },
                new ColumnSpec { Name = "support_calls", Kind = ColumnKind.Numeric },
            ],
            LabelColumn = "churned",
            Task = TaskKind.Binary,
            AcceptedAt = DateTimeOffset.UtcNow,
        };
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        _batches.Dispose();
    }
}
