using System.Collections.Immutable;

namespace NetPolicy.Compiler.Bpf;

/// <summary>The shape of a map the renderer fills, as <c>policy_tc.bpf.c</c> declares it.</summary>
internal sealed record BpfMapDefinition(string Name, BpfMapType Type, int KeySize, int ValueSize, uint Flags)
{
    /// <summary><c>BPF_F_NO_PREALLOC</c>, required for LPM tries.</summary>
    public const uint NoPrealloc = 1;

    public static BpfMapDefinition IPCacheHost { get; } = new(BpfConstants.IPCacheHostMapName, BpfMapType.Hash, BpfIPCacheHostKey.Size, BpfIPCacheValue.Size, 0);

    public static BpfMapDefinition IPCacheLpm { get; } = new(BpfConstants.IPCacheLpmMapName, BpfMapType.LpmTrie, BpfIPCacheLpmKey.Size, BpfIPCacheValue.Size, NoPrealloc);

    public static BpfMapDefinition Endpoints { get; } = new(BpfConstants.EndpointsMapName, BpfMapType.Array, sizeof(uint), BpfEndpointValue.Size, 0);

    public static BpfMapDefinition RuleSets { get; } = new(BpfConstants.RuleSetsMapName, BpfMapType.Array, sizeof(uint), BpfRuleSetValue.Size, 0);

    public static BpfMapDefinition Policy { get; } = new(BpfConstants.PolicyMapName, BpfMapType.Hash, BpfPolicyKey.Size, BpfPolicyValue.Size, 0);

    /// <summary>Gets the rendered maps in image order (the order of the header).</summary>
    public static ImmutableArray<BpfMapDefinition> All { get; } = [IPCacheHost, IPCacheLpm, Endpoints, RuleSets, Policy];

    public int RecordSize => KeySize + ValueSize;
}
