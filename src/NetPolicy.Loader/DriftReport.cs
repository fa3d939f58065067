using System.Collections.ObjectModel;

namespace NetPolicy.Loader;

/// <summary>How one object of ours differs from what the ruleset declares.</summary>
public enum DriftKind
{
    /// <summary>The ruleset declares the object but the kernel does not have it.</summary>
    Missing,

    /// <summary>The kernel has the object in one of our tables, chains or sets but the ruleset does not declare it.</summary>
    Extra,

    /// <summary>The object exists on both sides but its content (members, rule order, definition) differs.</summary>
    Changed,
}

/// <summary>One difference found by a drift check.</summary>
public sealed class DriftItem
{
    internal DriftItem(DriftKind kind, string objectType, string name, string detail)
    {
        Kind = kind;
        ObjectType = objectType;
        Name = name;
        Detail = detail;
    }

    /// <summary>Gets whether the object is missing, extra or changed.</summary>
    public DriftKind Kind { get; }

    /// <summary>Gets what the object is: <c>table</c>, <c>chain</c>, <c>rule</c>, <c>set</c>, <c>map</c> or <c>hook</c>.</summary>
    public string ObjectType { get; }

    /// <summary>Gets the object's name: a chain or set name, or for a rule the name of the chain that holds it.</summary>
    public string Name { get; }

    /// <summary>Gets a human-readable detail: the family, the rule text or which members differ.</summary>
    public string Detail { get; }

    /// <summary>Returns <c>kind objectType name: detail</c>.</summary>
    /// <returns>A one-line description.</returns>
    public override string ToString() => $"{Kind} {ObjectType} {Name}: {Detail}";
}

/// <summary>The result of comparing what the kernel holds of ours with what a ruleset declares.</summary>
/// <remarks>Objects that are not ours (other tables, chains, sets and rules) are never compared and never reported.</remarks>
public sealed class DriftReport
{
    internal DriftReport(IList<DriftItem> items)
    {
        Items = new ReadOnlyCollection<DriftItem>(items);
    }

    /// <summary>Gets the differences, empty when there is no drift.</summary>
    public IReadOnlyList<DriftItem> Items { get; }

    /// <summary>Gets whether any difference was found.</summary>
    public bool HasDrift => Items.Count > 0;

    /// <summary>Returns one line per difference, or <c>no drift</c>.</summary>
    /// <returns>A description of the report.</returns>
    public override string ToString() => HasDrift ? string.Join('\n', Items) : "no drift";
}
