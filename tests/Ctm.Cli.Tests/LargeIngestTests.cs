using System.Globalization;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Ctm.Testing;

namespace Ctm.Cli.Tests;

/// <summary>Ingest alone, accepting uploads up to 2 GiB (its default limit, 256 MiB, would refuse the file before any row is read).</summary>
public sealed class LargeIngestSystem : CtmSystem, IAsyncLifetime
{
    protected override IReadOnlyList<string> StartedServices => ["Ingest"];

    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>(base.Settings)
    {
        ["Ingest__MaxUploadBytes"] = (2L * 1024 * 1024 * 1024).ToString(CultureInfo.InvariantCulture),
    };
}

/// <summary>
/// <c>ctm ingest</c> of a 1 GiB CSV: the file goes from disk through the CLI and Ingest's spool, check and chunked store
/// without ever being held whole. Peak resident memory (VmHWM) of both processes is read from /proc and must stay
/// under <see cref="CliBound"/> and <see cref="IngestBound"/>, far below the 1 GiB that one buffered copy of the file
/// would take, so buffering anywhere on the way fails the test.
/// </summary>
public sealed class LargeIngestTests(LargeIngestSystem system) : IClassFixture<LargeIngestSystem>
{
    /// <summary>The file's size: at least this many bytes of whole rows.</summary>
    private const long FileBytes = 1L << 30;

    // A .NET console app with an HTTP client peaks near 60-100 MiB; a copy of the file in memory would add 1024 MiB.
    private const long CliBound = 256L << 20;

    // An ASP.NET Core service with EF Core, MassTransit and OpenTelemetry sits near 150-250 MiB under load; one 4 MiB
    // chunk at a time goes to PostgreSQL. Half the file's size is out of reach unless the upload is buffered.
    private const long IngestBound = 512L << 20;

    [Fact]
    public async Task Ingest_OneGibibyteCsv_StreamsThroughCliAndIngest_InBoundedMemory_AndStoresEveryRow()
    {
        var directory = Directory.CreateTempSubdirectory("ctm-ingest-1gib-");
        try
        {
            var path = Path.Combine(directory.FullName, "big.csv");
            var (rows, sha256) = await WriteCsvAsync(path, FileBytes, seed: 1729);
            var ingest = system["Ingest"];
            var ingestBefore = PeakRss(ingest.ProcessId);

            long cliPeak = 0;
            var result = await CliRunner.RunAsync(system, ["Ingest"], null, async (process, exited) =>
            {
                // VmHWM only grows: the last reading before the process exits is its peak (missing at most the last 50 ms).
                while (!exited.IsCancellationRequested)
                {
                    cliPeak = Math.Max(cliPeak, PeakRss(process.Id));
                    try
                    {
                        await Task.Delay(50, exited);
                    }
                    catch (OperationCanceledException)
                    {
                    }
                }
            }, TimeSpan.FromMinutes(10), ["ingest", path, "--dataset", "big-upload", "--json"]);
            var ingestPeak = PeakRss(ingest.ProcessId);

            TestContext.Current.TestOutputHelper?.WriteLine(
                $"1 GiB ingest: {new FileInfo(path).Length:N0} bytes, {rows:N0} rows; peak RSS (VmHWM): CLI {Mib(cliPeak)}, Ingest {Mib(ingestPeak)} (Ingest before the upload: {Mib(ingestBefore)})");
            Assert.True(result.ExitCode == 0, result.ToString());
            var receipt = result.Json;
            Assert.Equal(rows, receipt.GetProperty("rowCount").GetInt64());

            // The file is written in canonical CSV, so the stored batch is the file itself, byte for byte.
            Assert.Equal(sha256, receipt.GetProperty("sha256").GetString());
            using var client = system.Client("Ingest");
            var stored = await client.GetFromJsonAsync<JsonElement>($"v1/batches/{receipt.GetProperty("batchId").GetGuid()}");
            Assert.Equal(new FileInfo(path).Length, stored.GetProperty("byteCount").GetInt64());

            Assert.True(cliPeak > 0 && ingestPeak > 0, "no VmHWM was read from /proc");
            Assert.True(cliPeak < CliBound, $"the CLI peaked at {Mib(cliPeak)}, over {Mib(CliBound)}: is the upload buffered?");
            Assert.True(ingestPeak < IngestBound, $"Ingest peaked at {Mib(ingestPeak)}, over {Mib(IngestBound)}: is the upload buffered?\n{ingest.Tail(20)}");
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    /// <summary>Peak resident set size in bytes (VmHWM of /proc/PID/status); 0 once the process is gone.</summary>
    internal static long PeakRss(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    return long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Exited between two readings.
        }

        return 0;
    }

    private static string Mib(long bytes) => $"{bytes / (1024.0 * 1024):0} MiB";

    /// <summary>
    /// Churn-like rows with a free-text note, from a fixed seed, until the file holds <paramref name="bytes"/>; canonical
    /// CSV (no quoting needed, \n endings), so Ingest stores it unchanged. Returns the row count and the file's SHA-256.
    /// </summary>
    private static async Task<(long Rows, string Sha256)> WriteCsvAsync(string path, long bytes, int seed)
    {
        string[] plans = ["basic", "pro", "team"];
        string[] regions = ["north", "south", "east", "west", "central"];
        string[] words = ["late", "invoice", "called", "twice", "about", "upgrade", "price", "support", "slow", "login", "asked", "refund",
            "happy", "renewal", "discount", "outage", "mobile", "app", "crash", "email", "billing", "cancel", "trial", "team"];
        var random = new Random(seed);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous);
        var line = new StringBuilder(256);
        var buffer = new byte[1 << 20];
        var filled = 0;
        long written = 0;
        long rows = 0;

        async Task AppendAsync(string text)
        {
            var count = Encoding.UTF8.GetByteCount(text);
            if (filled + count > buffer.Length)
            {
                await FlushAsync();
            }

            filled += Encoding.UTF8.GetBytes(text, buffer.AsSpan(filled));
            written += count;
        }

        async Task FlushAsync()
        {
            hash.AppendData(buffer, 0, filled);
            await file.WriteAsync(buffer.AsMemory(0, filled));
            filled = 0;
        }

        await AppendAsync("customer,tenure,plan,monthly_fee,support_calls,region,note,churned\n");
        while (written < bytes)
        {
            var tenure = random.Next(1, 72);
            var calls = random.Next(0, 9);
            line.Clear().Append(CultureInfo.InvariantCulture, $"c{rows:D9},{tenure},{plans[random.Next(plans.Length)]},{10 + (random.NextDouble() * 90):0.00},{calls},{regions[random.Next(regions.Length)]},");
            for (int w = 0, n = random.Next(10, 22); w < n; w++)
            {
                line.Append(w == 0 ? "" : " ").Append(words[random.Next(words.Length)]);
            }

            line.Append(calls * 0.4 > tenure * 0.05 ? ",yes\n" : ",no\n");
            await AppendAsync(line.ToString());
            rows++;
        }

        await FlushAsync();
        return (rows, Convert.ToHexStringLower(hash.GetHashAndReset()));
    }
}
