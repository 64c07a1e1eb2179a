using Ctm.Data.Schema;

namespace Ctm.Data.Statistics;

/// <summary>
/// Accumulates one batch's statistics cell by cell, independent of the file format: call <see cref="Add(int, ReadOnlySpan{char})"/>
/// (or a typed overload) for each cell of a row, then <see cref="EndRow"/>, and finally <see cref="Build"/>.
/// Memory depends on the number of columns, never on the number of rows. Not thread-safe: build one per
/// batch or per partition and <see cref="BatchStatistics.Merge"/> the results.
/// </summary>
public sealed class StatisticsBuilder
{
    private readonly Accumulator[] _columns;
    private readonly string? _label;
    private long _rows;

    /// <summary>Starts statistics for a batch with these columns.</summary>
    /// <param name="columns">Column names in cell order.</param>
    /// <param name="schema">The schema whose types to read the columns as; columns it lacks (and all, without one) have their type inferred.</param>
    /// <param name="labelColumn">The label column's name; defaults to the schema's.</param>
    public StatisticsBuilder(IReadOnlyList<string> columns, DataSchema? schema = null, string? labelColumn = null)
    {
        ArgumentNullException.ThrowIfNull(columns);
        _label = labelColumn ?? schema?.LabelColumn;
        _columns = new Accumulator[columns.Count];
        for (var i = 0; i < columns.Count; i++)
        {
            _columns[i] = new Accumulator(columns[i], schema?.Find(columns[i])?.Type);
        }
    }

    /// <summary>Adds the text of a cell; empty text (or null) is a missing value.</summary>
    public void Add(int column, ReadOnlySpan<char> cell) => _columns[column].Add(cell);

    /// <summary>Adds a cell known to be a number.</summary>
    public void Add(int column, double value) => _columns[column].AddNumber(value);

    /// <summary>Adds a missing cell.</summary>
    public void AddMissing(int column) => _columns[column].AddMissing();

    /// <summary>Ends the current row.</summary>
    public void EndRow() => _rows++;

    /// <summary>The statistics of the rows added so far.</summary>
    public BatchStatistics Build() => new()
    {
        RowCount = _rows,
        BatchCount = 1,
        BatchRowCountMean = _rows,
        LabelColumn = _label,
        Columns = [.. _columns.Select(c => c.Build(_rows))],
    };

    private sealed class Accumulator(string name, ColumnType? type)
    {
        private readonly bool _readsNumbers = type is null or ColumnType.Numeric;
        private readonly QuantileSketch _sketch = new();
        private readonly CategoricalStatistics? _categorical = type is null or ColumnType.Categorical ? new CategoricalStatistics() : null;

        // Small domains are counted in a cheaper table first; it is flushed into _categorical when it overflows or at Build.
        private SmallValueCounter? _small = type is null or ColumnType.Categorical ? new SmallValueCounter() : null;
        private readonly List<string> _examples = [];
        private long _missing;
        private long _nonNumeric;

        // Moments around a shift, extremes and counts: the per-value work is adds and compares only.
        private long _count;
        private double _shift = double.NaN;
        private double _sum;
        private double _sumOfSquares;
        private double _min = double.PositiveInfinity;
        private double _max = double.NegativeInfinity;
        private long _zeros;
        private long _nan;
        private long _infinity;

        public void Add(ReadOnlySpan<char> cell)
        {
            if (cell.IsEmpty)
            {
                _missing++;
                return;
            }

            if (_readsNumbers)
            {
                if (NumberParser.TryParse(cell, out var value))
                {
                    AddValue(value);
                }
                else
                {
                    _nonNumeric++;
                    if (_examples.Count < ColumnStatistics.MaxExamples && !_examples.Contains(cell.ToString()))
                    {
                        _examples.Add(cell.ToString());
                    }
                }
            }

            if (_categorical is not null)
            {
                AddText(cell);
            }
        }

        public void AddNumber(double value)
        {
            if (_readsNumbers)
            {
                AddValue(value);
            }

            if (_categorical is not null)
            {
                Span<char> text = stackalloc char[32];
                if (value.TryFormat(text, out var written, "R", System.Globalization.CultureInfo.InvariantCulture))
                {
                    AddText(text[..written]);
                }
            }
        }

        public void AddMissing() => _missing++;

        public ColumnStatistics Build(long rows)
        {
            if (_small is not null && _categorical is not null)
            {
                _small.FlushTo(_categorical);
            }

            // Without a schema a column is numeric when every present cell parsed as a number.
            var inferred = type ?? (_nonNumeric == 0 && _count + _nan + _infinity > 0 ? ColumnType.Numeric : ColumnType.Categorical);
            var numeric = inferred == ColumnType.Numeric;
            NumericStatistics? stats = null;
            if (numeric)
            {
                stats = new NumericStatistics
                {
                    Zeros = _zeros,
                    NaN = _nan,
                    Infinity = _infinity,
                    Min = _min,
                    Max = _max,
                    Sketch = _sketch.Clone(),
                };
                stats.SetMoments(_count, _shift, _sum, _sumOfSquares);
            }

            return new ColumnStatistics
            {
                Name = name,
                Type = inferred,
                Count = rows,
                Missing = _missing,
                NonNumeric = numeric ? _nonNumeric : 0,
                NonNumericExamples = numeric ? [.. _examples] : [],
                Numeric = stats,
                Categorical = numeric ? null : _categorical?.Clone(),
            };
        }

        private void AddText(ReadOnlySpan<char> text)
        {
            if (_small is not null)
            {
                if (_small.TryAdd(text))
                {
                    return;
                }

                _small.FlushTo(_categorical!);
                _small = null;
            }

            _categorical!.Add(text);
        }

        private void AddValue(double value)
        {
            if (!double.IsFinite(value))
            {
                if (double.IsNaN(value))
                {
                    _nan++;
                }
                else
                {
                    _infinity++;
                }

                return;
            }

            if (_count++ == 0)
            {
                _shift = value;
            }

            var d = value - _shift;
            _sum += d;
            _sumOfSquares += d * d;
            // Plain compares: the value is finite here, so Math.Min's NaN and signed-zero handling is not needed.
            if (value < _min)
            {
                _min = value;
            }

            if (value > _max)
            {
                _max = value;
            }
            if (value == 0)
            {
                _zeros++;
            }

            _sketch.Add(value);
        }
    }
}
