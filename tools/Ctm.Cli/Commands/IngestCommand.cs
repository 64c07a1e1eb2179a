using System.CommandLine;
using System.Net.Http.Headers;
using Spectre.Console;

namespace Ctm.Cli.Commands;

/// <summary><c>ingest FILE --dataset D</c>: streams the file from disk (never whole in memory) with a progress bar.</summary>
public static class IngestCommand
{
    public static Command Create()
    {
        var file = new Argument<FileInfo>("file") { Description = "A CSV (with a header row) or JSON Lines (.jsonl, .ndjson) file" };
        var dataset = new Option<string>("--dataset", "-d") { Description = "The dataset the rows belong to", Required = true };
        var source = new Option<string?>("--source") { Description = "The upstream system's name (rollbacks can select its batches)" };
        var command = new Command("ingest", "Upload a file as one batch; prints the batch id") { file, dataset, source };
        command.SetAction((parse, ct) => Shared.RunAsync(parse, ct, (api, output) =>
            RunAsync(api, output, parse.GetRequiredValue(file), parse.GetRequiredValue(dataset), parse.GetValue(source), ct), TimeSpan.FromHours(1)));
        return command;
    }

    private static async Task<int> RunAsync(CtmApi api, Output output, FileInfo file, string dataset, string? source, CancellationToken ct)
    {
        if (!file.Exists)
        {
            throw new CliException(ExitCodes.NotFound, $"{file.FullName} does not exist.", "Give the path of a CSV or JSON Lines file.");
        }

        var contentType = file.Extension.ToLowerInvariant() switch
        {
            ".csv" => "text/csv",
            ".jsonl" or ".ndjson" => "application/x-ndjson",
            _ => throw new CliException(ExitCodes.Usage, $"{file.Name}: the extension '{file.Extension}' says neither CSV nor JSON Lines.", "Name the file .csv, .jsonl or .ndjson."),
        };
        var path = $"v1/datasets/{Uri.EscapeDataString(dataset)}/batches" + (source is null ? "" : $"?source={Uri.EscapeDataString(source)}");

        System.Text.Json.JsonElement receipt = default;
        async Task UploadAsync(Action<long> progress)
        {
            await using var stream = new FileStream(file.FullName, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
            using var content = new StreamContent(new ProgressStream(stream, progress), 1 << 16);
            content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
            content.Headers.ContentLength = file.Length;
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(api.Settings["Ingest"], path)) { Content = content };
            // Running the same command again on the same unchanged file answers with the batch already stored.
            request.Headers.Add("Idempotency-Key", "cli:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{file.FullName}\n{file.Length}\n{file.LastWriteTimeUtc.Ticks}"))));
            receipt = await api.SendAsync("Ingest", request, ct);
        }

        if (output.Json || !output.Error.Profile.Capabilities.Interactive)
        {
            await UploadAsync(_ => { });
        }
        else
        {
            await output.Error.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
                .StartAsync(async context =>
                {
                    var task = context.AddTask($"{file.Name} → {dataset}", maxValue: Math.Max(1, file.Length));
                    await UploadAsync(sent => task.Value = sent);
                    task.Value = task.MaxValue;
                });
        }

        output.Write(receipt, c =>
        {
            c.MarkupLineInterpolated($"[green]stored[/] {receipt.Str("rowCount")} rows of [bold]{dataset}[/] ({file.Length:N0} bytes)");
            c.WriteLine(receipt.Str("batchId"));
        });
        return ExitCodes.Ok;
    }

    /// <summary>Reports how many bytes have been read, as the upload reads them.</summary>
    private sealed class ProgressStream(Stream inner, Action<long> progress) : Stream
    {
        private long _read;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => inner.Length;
        public override long Position { get => _read; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Advance(inner.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Advance(await inner.ReadAsync(buffer, cancellationToken));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        private int Advance(int n)
        {
            _read += n;
            progress(_read);
            return n;
        }
    }
}
