using System.Collections.Immutable;
using System.Net;
using NetPolicy.Compiler.Identities;

namespace NetPolicy.Compiler.Ir;

/// <summary>What changed between two compiled policy sets, so a node agent can push only deltas.</summary>
public sealed record CompilationDelta
{
    /// <summary>Gets endpoints that are new.</summary>
    public ImmutableArray<string> AddedEndpoints { get; init; } = [];

    /// <summary>Gets endpoints that are gone.</summary>
    public ImmutableArray<string> RemovedEndpoints { get; init; } = [];

    /// <summary>Gets endpoints whose identity, addresses, isolation or rule sets changed.</summary>
    public ImmutableArray<string> ChangedEndpoints { get; init; } = [];

    /// <summary>Gets identities that are new.</summary>
    public ImmutableArray<uint> AddedIdentities { get; init; } = [];

    /// <summary>Gets identities that are gone.</summary>
    public ImmutableArray<uint> RemovedIdentities { get; init; } = [];

    /// <summary>Gets rule sets that are new.</summary>
    public ImmutableArray<int> AddedRuleSets { get; init; } = [];

    /// <summary>Gets rule sets whose rules changed in place (same identifier, for example because a peer set gained a member).</summary>
    public ImmutableArray<int> ChangedRuleSets { get; init; } = [];

    /// <summary>Gets peer sets that are new.</summary>
    public ImmutableArray<int> AddedPeerSets { get; init; } = [];

    /// <summary>Gets peer sets whose members changed in place.</summary>
    public ImmutableArray<int> ChangedPeerSets { get; init; } = [];

    /// <summary>Gets peer sets that are gone.</summary>
    public ImmutableArray<int> RemovedPeerSets { get; init; } = [];

    /// <summary>Gets rule sets that are gone.</summary>
    public ImmutableArray<int> RemovedRuleSets { get; init; } = [];

    /// <summary>Gets ipcache entries that are new or whose identity or class changed.</summary>
    public ImmutableArray<IPCacheEntry> UpsertedIPCacheEntries { get; init; } = [];

    /// <summary>Gets ipcache prefixes that are gone.</summary>
    public ImmutableArray<IPNetwork> RemovedIPCachePrefixes { get; init; } = [];

    /// <summary>Gets a value indicating whether nothing changed.</summary>
    public bool IsEmpty =>
        AddedEndpoints.IsEmpty && RemovedEndpoints.IsEmpty && ChangedEndpoints.IsEmpty &&
        AddedIdentities.IsEmpty && RemovedIdentities.IsEmpty && AddedRuleSets.IsEmpty && ChangedRuleSets.IsEmpty && RemovedRuleSets.IsEmpty &&
        AddedPeerSets.IsEmpty && ChangedPeerSets.IsEmpty && RemovedPeerSets.IsEmpty &&
        UpsertedIPCacheEntries.IsEmpty && RemovedIPCachePrefixes.IsEmpty;

    /// <summary>Formats a one-line summary of the counts.</summary>
    /// <returns>The text.</returns>
    public override string ToString() =>
        $"endpoints +{AddedEndpoints.Length} -{RemovedEndpoints.Length} ~{ChangedEndpoints.Length}, identities +{AddedIdentities.Length} -{RemovedIdentities.Length}, " +
        $"rule sets +{AddedRuleSets.Length} ~{ChangedRuleSets.Length} -{RemovedRuleSets.Length}, peer sets +{AddedPeerSets.Length} ~{ChangedPeerSets.Length} -{RemovedPeerSets.Length}, " +
        $"ipcache ~{UpsertedIPCacheEntries.Length} -{RemovedIPCachePrefixes.Length}";
}
