namespace NetPolicy.Loader;

/// <summary>How a netfilter applier brought the kernel to a ruleset.</summary>
public enum NetfilterApplyMode
{
    /// <summary>The whole ruleset was written (the first apply, after <c>Remove</c>, a repair, or when a delta was refused).</summary>
    Full = 0,

    /// <summary>Only what differs from the ruleset this applier applied before was written.</summary>
    Incremental = 1,

    /// <summary>Nothing differed from the ruleset this applier applied before; nothing was written.</summary>
    Unchanged = 2,
}
