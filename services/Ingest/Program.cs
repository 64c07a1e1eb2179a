using Ctm.Ingest.Apis;
using Ctm.Ingest.Extensions;
using Ctm.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddIngest();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapBatchesApi();
app.Run();

// Reachable by WebApplicationFactory<Program> in tests/Ctm.Ingest.Fast.Tests.
public partial class Program;
