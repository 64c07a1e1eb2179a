using Ctm.Predictor.Extensions;
using Ctm.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddPredictor();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapPredictorApis();
app.Run();

// Reachable by WebApplicationFactory<Program> in tests/Ctm.Predictor.Fast.Tests.
public partial class Program;
