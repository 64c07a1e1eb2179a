using Ctm.Registry.Apis;
using Ctm.Registry.Console;
using Ctm.Registry.Extensions;
using Ctm.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddRegistry();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapModelsApi();
app.MapProvenanceApi();
app.MapOperationsApi();
app.MapConsole();
app.Run();

// Reachable by WebApplicationFactory<Program> in tests/Ctm.Registry.Fast.Tests.
public partial class Program;
