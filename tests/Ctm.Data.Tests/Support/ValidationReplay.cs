using System.Text;
using Ctm.Data.Drift;
using Ctm.Data.Parsing;
using Ctm.Data.Schema;
using Ctm.Data.Statistics;
using Ctm.Data.Validation;

namespace Ctm.Data.Tests.Support;

/// <summary>
/// The Validator's loop without the service: the first batch infers the schema; every later batch is judged
/// against the last <see cref="WindowBatches"/> accepted batches and the measures of the batches before it;
/// an accepted batch's widening changes become the next schema version. Blocked batches never enter the window.
/// </summary>
internal sealed class ValidationReplay(string labelColumn, ValidationOptions? options = null, int windowBatches = 10)
{
    private readonly BatchValidator _validator = new(options);
    private readonly List<BatchStatistics> _accepted = [];
    private readonly List<BatchMeasures> _history = [];

    public DataSchema? Schema { get; private set; }

    public int WindowBatches => windowBatches;

    public List<string> SchemaLog { get; } = [];

    public ValidationDecision Next(string csv)
    {
        using var reader = new CsvReader(new MemoryStream(Encoding.UTF8.GetBytes(csv)), "batch.csv");
        if (Schema is null)
        {
            var first = BatchStatistics.Compute(reader, null, labelColumn, pipelined: false);
            Schema = DataSchema.Infer(first, labelColumn);
            var decision = _validator.Validate(first, Schema);
            _accepted.Add(first);
            _history.Add(decision.Measures!);
            return decision;
        }

        var statistics = BatchStatistics.Compute(reader, Schema, null, pipelined: false);
        var window = BatchStatistics.Merge(_accepted.TakeLast(windowBatches));
        var result = _validator.Validate(statistics, Schema, window, null, null, _history);
        _history.Add(result.Measures!);
        if (result.IsAccepted)
        {
            _accepted.Add(statistics);
            if (result.SchemaChanges.Count > 0)
            {
                Schema = Schema.Apply(result.SchemaChanges);
                SchemaLog.Add($"v{Schema.Version}: {string.Join("; ", result.SchemaChanges.Select(c => c.Describe()))}");
            }
        }

        return result;
    }
}
