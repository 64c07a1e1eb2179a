using Ctm.Registry.Lineage;

namespace Ctm.Registry.Tests;

public sealed class LineageGraphTests
{
    private static readonly Guid A = Guid.NewGuid(), B = Guid.NewGuid(), C = Guid.NewGuid(), D = Guid.NewGuid();

    // v1 [A]; v2 [A, B] from v1; v3 [C] from v2; v4 [D] cold; v5 [D] from v4; v6 [A] from v3.
    private static readonly LineageNode[] Nodes =
    [
        new(1, null, [A], false), new(2, 1, [A, B], false), new(3, 2, [C], false),
        new(4, null, [D], false), new(5, 4, [D], false), new(6, 3, [A], false),
    ];

    [Fact]
    public void InfluencedBy_BatchOfV2_IsV2AndEveryWarmStartDescendant()
    {
        Assert.Equal([2, 3, 6], LineageGraph.InfluencedBy(Nodes, B));
    }

    [Fact]
    public void InfluencedBy_BatchOfTheRoot_IsTheWholeChainButNotOtherLineages()
    {
        Assert.Equal([1, 2, 3, 6], LineageGraph.InfluencedBy(Nodes, A));
        Assert.Equal([4, 5], LineageGraph.InfluencedBy(Nodes, D));
    }

    [Fact]
    public void InfluencedBy_UnknownBatch_IsNothing()
    {
        Assert.Empty(LineageGraph.InfluencedBy(Nodes, Guid.NewGuid()));
    }

    [Fact]
    public void InfluencedBy_SeveralBatches_IsTheUnion_EachVersionNamingTheBatchesThatReachedIt()
    {
        var influence = LineageGraph.InfluencedBy(Nodes, [B, C, D]);
        Assert.Equal([2, 3, 4, 5, 6], influence.Select(i => i.Version));
        Assert.Equal([[B], [B, C], [D], [D], [B, C]], influence.Select(i => i.Batches.ToArray()));
    }

    [Fact]
    public void Ancestors_OfV6_IsTheParentChainNearestFirst()
    {
        Assert.Equal([3, 2, 1], LineageGraph.Ancestors(Nodes, 6));
        Assert.Empty(LineageGraph.Ancestors(Nodes, 4));
    }

    [Fact]
    public void ChooseClean_ServingTainted_IsNewestCleanVersionThatServed()
    {
        var versions = new[] { 1, 2, 3, 4, 5 };
        Assert.Equal(1, LineageGraph.ChooseClean(versions, new HashSet<int> { 2, 3 }, 3, new HashSet<int> { 1, 2, 3 }));
        // v4 is clean and newer but never served (held back by the policy): not a rollback target.
        Assert.Equal(1, LineageGraph.ChooseClean(versions, new HashSet<int> { 2, 3, 5 }, 5, new HashSet<int> { 1, 2, 3, 5 }));
    }

    [Fact]
    public void ChooseClean_ServingClean_KeepsServing()
    {
        Assert.Equal(2, LineageGraph.ChooseClean([1, 2, 3], new HashSet<int> { 3 }, 2, new HashSet<int> { 1, 2, 3 }));
    }

    [Fact]
    public void ChooseClean_EveryServedVersionTainted_IsNull()
    {
        Assert.Null(LineageGraph.ChooseClean([1, 2, 3], new HashSet<int> { 1, 2 }, 2, new HashSet<int> { 1, 2 }));
    }
}
