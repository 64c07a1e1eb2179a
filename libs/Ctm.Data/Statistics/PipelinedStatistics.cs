using System.Collections.Concurrent;
using Ctm.Data.Parsing;

namespace Ctm.Data.Statistics;

/// <summary>
/// Parsing and statistics on two threads: the caller's thread reads records and copies their fields into
/// blocks of rows; a worker summarizes each block, in order. Memory stays bounded: a few blocks circulate
/// between the two threads, whatever the number of rows. The result equals the one-thread computation.
/// </summary>
internal static class PipelinedStatistics
{
    private const int BlockRows = 4096;
    private const int BlockChars = 1 << 18;
    private const int BlocksInFlight = 3;

    public static void Run(CsvReader reader, StatisticsBuilder builder)
    {
        var columns = reader.Header.Count;
        using var full = new BlockingCollection<RowBlock>(BlocksInFlight);
        using var free = new BlockingCollection<RowBlock>(BlocksInFlight);
        for (var i = 0; i < BlocksInFlight; i++)
        {
            free.Add(new RowBlock(columns));
        }

        using var stop = new CancellationTokenSource();
        var worker = Task.Factory.StartNew(() => Summarize(full, free, builder, columns, stop), stop.Token, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        try
        {
            var block = free.Take(stop.Token);
            while (reader.Read())
            {
                if (!block.TryAppend(reader, columns))
                {
                    full.Add(block, stop.Token);
                    block = free.Take(stop.Token);
                    block.Append(reader, columns);
                }
            }

            if (block.Rows > 0)
            {
                full.Add(block, stop.Token);
            }

            full.CompleteAdding();
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The worker failed; its exception is the one to report.
        }
        catch
        {
            stop.Cancel();
            worker.ContinueWith(static _ => { }, TaskScheduler.Default).Wait();
            throw;
        }

        worker.GetAwaiter().GetResult();
    }

    private static void Summarize(BlockingCollection<RowBlock> full, BlockingCollection<RowBlock> free, StatisticsBuilder builder, int columns, CancellationTokenSource stop)
    {
        try
        {
            foreach (var block in full.GetConsumingEnumerable(stop.Token))
            {
                var chars = block.Chars.AsSpan();
                var starts = block.Starts;
                var lengths = block.Lengths;
                var rows = block.Rows;
                var field = 0;
                for (var r = 0; r < rows; r++)
                {
                    for (var i = 0; i < columns; i++, field++)
                    {
                        builder.Add(i, chars.Slice(starts[field], lengths[field]));
                    }

                    builder.EndRow();
                }

                block.Clear();
                free.Add(block, stop.Token);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch
        {
            stop.Cancel();
            throw;
        }
    }

    private sealed class RowBlock(int columns)
    {
        private char[] _chars = new char[BlockChars];

        public char[] Chars => _chars;
        public int[] Starts { get; } = new int[BlockRows * columns];
        public int[] Lengths { get; } = new int[BlockRows * columns];
        public int Rows { get; private set; }
        private int _used;

        /// <summary>Copies the reader's current record; false when the block has no room for it.</summary>
        public bool TryAppend(CsvReader reader, int columns)
        {
            if (Rows == BlockRows)
            {
                return false;
            }

            var rowStart = _used;
            var field = Rows * columns;
            for (var i = 0; i < columns; i++, field++)
            {
                var text = reader.GetField(i);
                if (_used + text.Length > Chars.Length)
                {
                    if (Rows > 0)
                    {
                        // No room: the record goes to the next block whole.
                        _used = rowStart;
                        return false;
                    }

                    // One record larger than a block: the block grows for it.
                    Array.Resize(ref _chars, Math.Max(_used + text.Length, Chars.Length * 2));
                }

                text.CopyTo(Chars.AsSpan(_used));
                Starts[field] = _used;
                Lengths[field] = text.Length;
                _used += text.Length;
            }

            Rows++;
            return true;
        }

        public void Append(CsvReader reader, int columns)
        {
            if (!TryAppend(reader, columns))
            {
                throw new InvalidOperationException("an empty block refused a record");
            }
        }

        public void Clear()
        {
            Rows = 0;
            _used = 0;
        }
    }
}
