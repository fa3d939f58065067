namespace NetPolicy.Testing;

/// <summary>What a golden-snapshot comparison did.</summary>
public enum SnapshotOutcome
{
    /// <summary>The file existed and matched.</summary>
    Matched,

    /// <summary>The file did not exist and was written; review and commit it.</summary>
    Created,

    /// <summary>The file differed and was rewritten because updating was on (<c>NETPOL_UPDATE_SNAPSHOTS=1</c>); review the diff.</summary>
    Updated,
}
