namespace Ctm.Registry.Lineage;

/// <summary>One version as lineage sees it: its warm-start parent and the batches it was trained on.</summary>
public sealed record LineageNode(int Version, int? Parent, IReadOnlyCollection<Guid> Batches, bool Tainted);

/// <summary>A version and the batches (of a rollback's set) that influenced it, directly or through warm-start parents.</summary>
public sealed record VersionInfluence(int Version, IReadOnlyList<Guid> Batches);

/// <summary>Influence through lineage. Pure, so the rules are tested without a database.</summary>
public static class LineageGraph
{
    /// <summary>
    /// Every version <paramref name="batch"/> influenced: trained on it directly, or warm-started (at any depth) from
    /// a version that was. Ascending.
    /// </summary>
    public static IReadOnlyList<int> InfluencedBy(IReadOnlyCollection<LineageNode> nodes, Guid batch)
    {
        var influenced = nodes.Where(n => n.Batches.Contains(batch)).Select(n => n.Version).ToHashSet();
        var children = nodes.Where(n => n.Parent is not null).ToLookup(n => n.Parent!.Value, n => n.Version);
        var queue = new Queue<int>(influenced);
        while (queue.TryDequeue(out var v))
        {
            foreach (var child in children[v])
            {
                if (influenced.Add(child))
                {
                    queue.Enqueue(child);
                }
            }
        }

        return [.. influenced.Order()];
    }

    /// <summary>
    /// Every version any of <paramref name="batches"/> influenced, each with the batches (of those given, in their
    /// order) that influenced it. Ascending by version.
    /// </summary>
    public static IReadOnlyList<VersionInfluence> InfluencedBy(IReadOnlyCollection<LineageNode> nodes, IReadOnlyList<Guid> batches)
    {
        var by = new SortedDictionary<int, List<Guid>>();
        foreach (var batch in batches.Distinct())
        {
            foreach (var version in InfluencedBy(nodes, batch))
            {
                if (!by.TryGetValue(version, out var list))
                {
                    by[version] = list = [];
                }

                list.Add(batch);
            }
        }

        return [.. by.Select(x => new VersionInfluence(x.Key, x.Value))];
    }

    /// <summary>The parent chain from <paramref name="version"/> up to its cold start, nearest first (cycles cannot occur: a parent is always older).</summary>
    public static IReadOnlyList<int> Ancestors(IReadOnlyCollection<LineageNode> nodes, int version)
    {
        var byVersion = nodes.ToDictionary(n => n.Version);
        var chain = new List<int>();
        var current = byVersion.GetValueOrDefault(version)?.Parent;
        while (current is { } p && byVersion.TryGetValue(p, out var node) && !chain.Contains(p))
        {
            chain.Add(p);
            current = node.Parent;
        }

        return chain;
    }

    /// <summary>
    /// What to serve once <paramref name="tainted"/> are tainted: the serving version if it is clean, otherwise the
    /// newest clean version that has served before (a last known-good model, not one a policy held back). Null: none.
    /// </summary>
    public static int? ChooseClean(IReadOnlyCollection<int> versions, ISet<int> tainted, int? serving, ISet<int> everServed)
    {
        if (serving is { } s && !tainted.Contains(s))
        {
            return s;
        }

        return versions.Where(v => !tainted.Contains(v) && everServed.Contains(v)).OrderDescending().Cast<int?>().FirstOrDefault();
    }
}
