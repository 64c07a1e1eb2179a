using Ctm.ServiceDefaults.Auth;
using Ctm.Data.Parsing;
using Ctm.Ingest.Batches;
using Ctm.Ingest.Extensions;
using Ctm.Ingest.Storage;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Ctm.Ingest.Apis;

public static partial class BatchesApi
{
    private static readonly string[] CsvTypes = ["text/csv", "application/csv"];
    private static readonly string[] JsonLinesTypes = ["application/x-ndjson", "application/jsonl", "application/x-jsonlines", "application/json-lines", "application/jsonlines"];

    public static IEndpointRouteBuilder MapBatchesApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1").RequireAuthorization(CtmPolicies.Receipts);
        api.MapPost("/datasets/{dataset}/batches", UploadAsync).RequireAuthorization(CtmPolicies.Ingest);
        api.MapGet("/datasets/{dataset}/batches", ListAsync);
        api.MapGet("/batches/{id:guid}", GetAsync);
        api.MapGet("/batches/{id:guid}/rows", GetRowsAsync);
        return app;
    }

    public static async Task<Results<Accepted<BatchReceipt>, Ok<BatchReceipt>, ProblemHttpResult>> UploadAsync(
        string dataset,
        HttpRequest request,
        BatchStore store,
        IOptions<IngestOptions> options,
        ILogger<BatchStore> logger,
        CancellationToken ct)
    {
        if (DatasetName.Problem(dataset) is { } nameProblem)
        {
            return Problem("Invalid dataset name", nameProblem);
        }

        var upstream = request.Query["source"].FirstOrDefault();
        if (UpstreamName.Problem(upstream) is { } upstreamProblem)
        {
            return Problem("Invalid source name", upstreamProblem);
        }

        var format = FormatOf(request.ContentType);
        if (format is null)
        {
            return Problem(
                "Unsupported content type",
                $"content type '{request.ContentType ?? "(none)"}' is not accepted: send CSV with a header row as text/csv, or JSON Lines as application/x-ndjson");
        }

        var settings = options.Value;
        var limit = settings.MaxUploadBytes;
        if (request.ContentLength > limit)
        {
            return TooLarge(request.ContentLength.Value, limit);
        }

        // The spool sees the first byte past the limit (and answers naming it), then drops what the client still sends, up
        // to a bound, so the client reads the answer; Kestrel's own limit ends the connection beyond that.
        var drain = Math.Min(limit, 64L * 1024 * 1024);
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = limit > long.MaxValue - drain ? long.MaxValue : limit + drain;
        }

        var directory = settings.SpoolDirectory ?? Path.GetTempPath();
        await using var spool = await Spool.CopyAsync(request.Body, limit, drain, directory, ct);
        if (spool is null)
        {
            request.HttpContext.Response.Headers.Connection = "close";
            return TooLarge(null, limit);
        }

        var source = request.Headers["X-Source-Name"].FirstOrDefault() ?? "upload";
        var key = request.Headers["Idempotency-Key"].FirstOrDefault();
        CanonicalContent content;
        try
        {
            content = CanonicalContent.FromUpload(spool.File, format, source, settings.Limits.ToTabular(), directory);
        }
        catch (TabularFormatException e)
        {
            var tooLarge = e.Limit is not null;
            return Problem(
                tooLarge ? "Input beyond a limit" : format == "csv" ? "Malformed CSV" : "Malformed JSON Lines",
                tooLarge ? $"{e.Message} (setting Ingest:Limits:{e.Limit})" : e.Message,
                tooLarge ? StatusCodes.Status413PayloadTooLarge : StatusCodes.Status400BadRequest,
                new Dictionary<string, object?>
                {
                    ["source"] = e.Source,
                    ["line"] = e.Line,
                    ["column"] = e.Column,
                    ["field"] = e.Field,
                    ["problem"] = e.Problem,
                    ["limit"] = e.Limit is null ? null : $"Ingest:Limits:{e.Limit}",
                });
        }

        await using (content)
        {
            if (content.RowCount == 0)
            {
                return Problem("Empty batch", $"{source}: the input has a header but no data rows");
            }

            var (stored, outcome) = await store.StoreAsync(dataset, content, "http", upstream, key, spool.Sha256, ct);
            var receipt = BatchReceipt.From(stored, store.RowsLocation(stored.Id));
            switch (outcome)
            {
                case StoreOutcome.Replayed:
                    return TypedResults.Ok(receipt);
                case StoreOutcome.KeyReused:
                    // draft-ietf-httpapi-idempotency-key-header: a key reused with a different payload is 422.
                    return Problem(
                        "Idempotency-Key reused",
                        $"the Idempotency-Key '{key}' was first used for batch {stored.Id} with a different body; send a new key for new content",
                        StatusCodes.Status422UnprocessableEntity,
                        new Dictionary<string, object?> { ["batchId"] = stored.Id });
            }

            LogStored(logger, stored.Id, dataset, stored.RowCount, stored.Sha256);
            return TypedResults.Accepted($"/v1/batches/{stored.Id}", receipt);
        }
    }

    public static async Task<Ok<List<BatchReceipt>>> ListAsync(string dataset, IngestDbContext db, BatchStore store, CancellationToken ct)
    {
        var batches = await db.Batches.AsNoTracking()
            .Where(b => b.Dataset == dataset)
            .OrderBy(b => b.CreatedAt)
            .Select(b => new { b.Id, b.Dataset, b.RowCount, b.ByteCount, b.Sha256, b.Columns, b.Source, b.Upstream, b.CreatedAt })
            .ToListAsync(ct);
        return TypedResults.Ok(batches.Select(b => new BatchReceipt(b.Id, b.Dataset, b.RowCount, b.ByteCount, b.Sha256, b.Columns, b.Source, store.RowsLocation(b.Id), b.CreatedAt, b.Upstream)).ToList());
    }

    public static async Task<Results<Ok<BatchReceipt>, NotFound>> GetAsync(Guid id, IngestDbContext db, BatchStore store, CancellationToken ct)
    {
        var b = await db.Batches.AsNoTracking()
            .Where(b => b.Id == id)
            .Select(b => new { b.Id, b.Dataset, b.RowCount, b.ByteCount, b.Sha256, b.Columns, b.Source, b.Upstream, b.CreatedAt })
            .SingleOrDefaultAsync(ct);
        return b is null
            ? TypedResults.NotFound()
            : TypedResults.Ok(new BatchReceipt(b.Id, b.Dataset, b.RowCount, b.ByteCount, b.Sha256, b.Columns, b.Source, store.RowsLocation(b.Id), b.CreatedAt, b.Upstream));
    }

    /// <summary>The batch's canonical CSV, streamed from the database (a claim check: <c>X-Content-SHA256</c> is what the bus announced).</summary>
    public static async Task<Results<EmptyHttpResult, NotFound>> GetRowsAsync(Guid id, BatchStore store, HttpResponse response, CancellationToken ct) =>
        await store.CopyContentAsync(id, response, ct) ? TypedResults.Empty : TypedResults.NotFound();

    private static string? FormatOf(string? contentType)
    {
        if (contentType is null || !MediaTypeHeaderValue.TryParse(contentType, out var media))
        {
            return null;
        }

        var type = media.MediaType.Value ?? string.Empty;
        if (CsvTypes.Contains(type, StringComparer.OrdinalIgnoreCase))
        {
            return "csv";
        }

        return JsonLinesTypes.Contains(type, StringComparer.OrdinalIgnoreCase) ? "jsonl" : null;
    }

    private static ProblemHttpResult TooLarge(long? length, long limit) => Problem(
        "Upload too large",
        length is { } n
            ? $"the upload is {n} bytes; the limit is {limit} (setting Ingest:MaxUploadBytes)"
            : $"the upload goes past byte {limit}, the limit (setting Ingest:MaxUploadBytes)",
        StatusCodes.Status413PayloadTooLarge,
        new Dictionary<string, object?> { ["limit"] = "Ingest:MaxUploadBytes", ["byte"] = length ?? limit + 1 });

    private static ProblemHttpResult Problem(string title, string detail, int status = StatusCodes.Status400BadRequest, IDictionary<string, object?>? extensions = null) =>
        TypedResults.Problem(detail: detail, statusCode: status, title: title, extensions: extensions);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stored batch {BatchId} of {Dataset}: {Rows} rows, sha256 {Sha256}")]
    private static partial void LogStored(ILogger logger, Guid batchId, string dataset, long rows, string sha256);
}

/// <summary>A stored batch. <c>Source</c> is how it arrived (http, bus); <c>Upstream</c> the system the producer named (<c>?source=</c>, a row event's <c>source</c>), or null.</summary>
public sealed record BatchReceipt(
    Guid BatchId, string Dataset, long RowCount, long ByteCount, string Sha256, IReadOnlyList<string> Columns, string Source, string Location, DateTimeOffset IngestedAt,
    string? Upstream)
{
    public static BatchReceipt From(StoredBatch b, string location) =>
        new(b.Id, b.Dataset, b.RowCount, b.ByteCount, b.Sha256, b.Columns, b.Source, location, b.CreatedAt, b.Upstream);
}
