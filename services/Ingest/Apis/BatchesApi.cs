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

public static class BatchesApi
{
    private static readonly string[] CsvTypes = ["text/csv", "application/csv"];
    private static readonly string[] JsonLinesTypes = ["application/x-ndjson", "application/jsonl", "application/x-jsonlines", "application/json-lines", "application/jsonlines"];

    public static IEndpointRouteBuilder MapBatchesApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1");
        api.MapPost("/datasets/{dataset}/batches", UploadAsync);
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

        var limit = options.Value.MaxUploadBytes;
        if (request.ContentLength > limit)
        {
            return Problem("Upload too large", $"the upload is {request.ContentLength} bytes; the limit is {limit} (setting Ingest:MaxUploadBytes)", StatusCodes.Status413PayloadTooLarge);
        }

        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = limit;
        }

        // Kestrel forbids synchronous reads, and the readers are synchronous: buffer the body first.
        using var body = new MemoryStream();
        await request.Body.CopyToAsync(body, ct);
        body.Position = 0;

        var source = request.Headers["X-Source-Name"].FirstOrDefault() ?? "upload";
        TabularBatch batch;
        try
        {
            batch = format == "csv" ? TabularBatch.ReadCsv(body, source) : JsonLinesReader.Read(body, source);
        }
        catch (TabularFormatException e)
        {
            return Problem(format == "csv" ? "Malformed CSV" : "Malformed JSON Lines", e.Message, extensions: new Dictionary<string, object?>
            {
                ["source"] = e.Source,
                ["line"] = e.Line,
                ["column"] = e.Column,
                ["field"] = e.Field,
                ["problem"] = e.Problem,
            });
        }

        if (batch.Rows.Count == 0)
        {
            return Problem("Empty batch", $"{source}: the input has a header but no data rows");
        }

        var key = request.Headers["Idempotency-Key"].FirstOrDefault();
        var (stored, created) = await store.StoreAsync(dataset, batch, "http", upstream, key, ct);
        var receipt = BatchReceipt.From(stored, store.RowsLocation(stored.Id));
        if (!created)
        {
            return TypedResults.Ok(receipt);
        }

        logger.LogInformation("Stored batch {BatchId} of {Dataset}: {Rows} rows, sha256 {Sha256}", stored.Id, dataset, stored.RowCount, stored.Sha256);
        return TypedResults.Accepted($"/v1/batches/{stored.Id}", receipt);
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

    public static async Task<Results<FileContentHttpResult, NotFound>> GetRowsAsync(Guid id, IngestDbContext db, HttpResponse response, CancellationToken ct)
    {
        var b = await db.Batches.AsNoTracking().Where(b => b.Id == id).Select(b => new { b.Content, b.Sha256 }).SingleOrDefaultAsync(ct);
        if (b is null)
        {
            return TypedResults.NotFound();
        }

        response.Headers["X-Content-SHA256"] = b.Sha256;
        return TypedResults.File(b.Content, "text/csv; charset=utf-8", entityTag: new EntityTagHeaderValue($"\"{b.Sha256}\""));
    }

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

    private static ProblemHttpResult Problem(string title, string detail, int status = StatusCodes.Status400BadRequest, IDictionary<string, object?>? extensions = null) =>
        TypedResults.Problem(detail: detail, statusCode: status, title: title, extensions: extensions);
}

/// <summary>A stored batch. <c>Source</c> is how it arrived (http, bus); <c>Upstream</c> the system the producer named (<c>?source=</c>, a row event's <c>source</c>), or null.</summary>
public sealed record BatchReceipt(
    Guid BatchId, string Dataset, long RowCount, long ByteCount, string Sha256, IReadOnlyList<string> Columns, string Source, string Location, DateTimeOffset IngestedAt,
    string? Upstream)
{
    public static BatchReceipt From(StoredBatch b, string location) =>
        new(b.Id, b.Dataset, b.RowCount, b.ByteCount, b.Sha256, b.Columns, b.Source, location, b.CreatedAt, b.Upstream);
}
