using Ctm.ServiceDefaults;
using Ctm.Trainer.Apis;
using Ctm.Trainer.Extensions;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddTrainer();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapRunsApi();
app.MapDatasetsApi();
app.MapQualityApi();
app.MapFeedbackApi();
app.Run();

// Reachable by WebApplicationFactory<Program> in tests/Ctm.Trainer.Fast.Tests.
public partial class Program;
