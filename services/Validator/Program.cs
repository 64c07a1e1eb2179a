using Ctm.ServiceDefaults;
using Ctm.Validator.Apis;
using Ctm.Validator.Extensions;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddValidator();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapDatasetsApi();
app.MapQuarantineApi();
app.MapSchemaApi();
app.MapStatisticsApi();
app.MapSkewApi();
app.Run();

// Reachable by WebApplicationFactory<Program> in tests/Ctm.Validator.Fast.Tests.
public partial class Program;
