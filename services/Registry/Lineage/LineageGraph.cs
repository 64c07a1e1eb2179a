namespace Ctm.Registry.Lineage;

/// <summary>One version as lineage sees it: its warm-start parent and the batches it was trained on.</summary>
public sealed record LineageNode(int Version, int? Parent, IReadOnlyCollection<Guid> Batches, bool Tainted);

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
