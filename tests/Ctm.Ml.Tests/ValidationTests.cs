using Ctm.Ml.Engine;

namespace Ctm.Ml.Tests;

public sealed class ValidationTests
{
    private readonly ManagedTrainingEngine _engine = new();

    [Fact]
    public void Train_NaNRegressionLabel_ThrowsNamingTheRow()
    {
        var data = TabularDataset.CreateBuilder().AddNumeric("x", [1, 2, 3]).WithLabel("y", [1, double.NaN, 3]).Build();

        var e = Assert.Throws<ArgumentException>(() => _engine.Train(data, new TrainingOptions { Task = ModelTask.Regression }));

        Assert.Contains("NaN at row 1", e.Message);
    }

    [Fact]
    public void Train_MissingClassLabel_Throws()
    {
        var data = TabularDataset.CreateBuilder().AddNumeric("x", [1, 2, 3]).WithLabel("y", ["a", null, "b"]).Build();

        var e = Assert.Throws<ArgumentException>(() => _engine.Train(data, new TrainingOptions { Task = ModelTask.BinaryClassification }));

        Assert.Contains("missing at row 1", e.Message);
    }

    [Fact]
    public void Train_EmptyDataset_Throws()
    {
        var data = TabularDataset.CreateBuilder().AddNumeric("x", []).WithLabel("y", Array.Empty<double>()).Build();

        var e = Assert.Throws<ArgumentException>(() => _engine.Train(data, new TrainingOptions { Task = ModelTask.Regression }));

        Assert.Contains("empty", e.Message);
    }

    [Fact]
    public void Train_WarmStartWithUnknownFeature_ThrowsNamingIt()
    {
        var parent = _engine.Train(TestData.Mixed(ModelTask.Regression, 200, 1), TestData.Options(ModelTask.Regression)).State;
        var data = TabularDataset.CreateBuilder().AddNumeric("x1", [1]).AddCategorical("color", ["red"]).AddNumeric("x2", [1])
            .AddCategorical("size", ["S"]).AddNumeric("surprise", [1]).WithLabel("target", [1.0]).Build();

        var e = Assert.Throws<ArgumentException>(() => _engine.Train(data, TestData.Options(ModelTask.Regression), parent));

        Assert.Contains("'surprise'", e.Message);
    }

    [Fact]
    public void Predict_DatasetLackingAFeature_ThrowsNamingIt()
    {
        var model = _engine.Train(TestData.Mixed(ModelTask.Regression, 200, 1), TestData.Options(ModelTask.Regression));
        var data = TabularDataset.CreateBuilder().AddNumeric("x1", [1]).AddCategorical("color", ["red"]).AddNumeric("x2", [1]).Build();

        var e = Assert.Throws<ArgumentException>(() => model.Predict(data));

        Assert.Contains("'size'", e.Message);
    }

    [Fact]
    public void Predict_FeatureOfTheWrongKind_Throws()
    {
        var model = _engine.Train(TestData.Mixed(ModelTask.Regression, 200, 1), TestData.Options(ModelTask.Regression));
        var data = TabularDataset.CreateBuilder().AddNumeric("x1", [1]).AddNumeric("color", [1]).AddNumeric("x2", [1]).AddCategorical("size", ["S"]).Build();

        var e = Assert.Throws<ArgumentException>(() => model.Predict(data));

        Assert.Contains("'color' is Numeric in the dataset but Categorical", e.Message);
    }

    [Fact]
    public void Train_BinaryWithThreeClasses_Throws()
    {
        var data = TabularDataset.CreateBuilder().AddNumeric("x", [1, 2, 3]).WithLabel("y", ["a", "b", "c"]).Build();

        var e = Assert.Throws<ArgumentException>(() => _engine.Train(data, new TrainingOptions { Task = ModelTask.BinaryClassification }));

        Assert.Contains("exactly two classes", e.Message);
    }

    [Fact]
    public void Train_InfiniteFeature_Throws()
    {
        var data = TabularDataset.CreateBuilder().AddNumeric("x", [1, double.PositiveInfinity]).WithLabel("y", [1.0, 2.0]).Build();

        var e = Assert.Throws<ArgumentException>(() => _engine.Train(data, new TrainingOptions { Task = ModelTask.Regression }));

        Assert.Contains("'x'", e.Message);
    }

    [Fact]
    public void Train_BadOption_ThrowsNamingIt()
    {
        var data = TestData.Mixed(ModelTask.Regression, 10, 1);

        var e = Assert.Throws<ArgumentException>(() => _engine.Train(data, new TrainingOptions { Task = ModelTask.Regression, BatchSize = 0 }));

        Assert.Contains("BatchSize", e.Message);
    }

    [Fact]
    public void Builder_ColumnsOfDifferentLength_Throw()
    {
        Assert.Throws<ArgumentException>(() => TabularDataset.CreateBuilder().AddNumeric("a", [1, 2]).AddNumeric("b", [1]).Build());
    }

    [Fact]
    public void FromRows_BadNumber_ThrowsNamingRowAndColumn()
    {
        FeatureSpec[] features = [new("a", FeatureKind.Numeric), new("b", FeatureKind.Categorical)];

        var e = Assert.Throws<FormatException>(() => TabularDataset.FromRows(features, "y", ModelTask.Regression, [["1", "x", "2"], ["oops", "y", "3"]]));

        Assert.Contains("Row 1, column 'a'", e.Message);
    }

    [Fact]
    public void FromRows_EmptyCells_AreMissing()
    {
        FeatureSpec[] features = [new("a", FeatureKind.Numeric), new("b", FeatureKind.Categorical)];

        var data = TabularDataset.FromRows(features, "y", ModelTask.BinaryClassification, [["", "", "p"], ["2.5", "k", "q"]]);

        Assert.True(double.IsNaN(data.GetNumeric("a")[0]));
        Assert.Null(data.GetCategorical("b")[0]);
        Assert.Equal(2.5, data.GetNumeric("a")[1]);
        Assert.Equal(new[] { "p", "q" }, data.ClassLabels!.Select(c => c!).ToArray());
    }

    [Fact]
    public void FromBytes_Garbage_ThrowsInvalidData()
    {
        Assert.Throws<InvalidDataException>(() => ModelState.FromBytes([1, 2, 3, 4, 5, 6, 7, 8]));
        var bytes = _engine.Train(TestData.Mixed(ModelTask.Regression, 50, 1), TestData.Options(ModelTask.Regression)).State.ToBytes();
        Assert.Throws<InvalidDataException>(() => ModelState.FromBytes(bytes[..^10]));
    }
}
