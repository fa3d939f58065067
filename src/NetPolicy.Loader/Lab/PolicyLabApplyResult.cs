using NetPolicy.Compiler.Iptables;
using NetPolicy.Compiler.Ir;
using NetPolicy.Compiler.Nftables;

namespace NetPolicy.Loader.Lab;

/// <summary>What <see cref="PolicyLab.Apply"/> compiled and applied.</summary>
/// <param name="PolicySet">The compiled policy set.</param>
/// <param name="Bpf">For <see cref="LabBackend.Bpf"/>, the map delta written; otherwise <see langword="null"/>.</param>
/// <param name="Iptables">For <see cref="LabBackend.Iptables"/>, the applied rules; otherwise <see langword="null"/>.</param>
/// <param name="Nftables">For <see cref="LabBackend.Nftables"/>, the applied ruleset; otherwise <see langword="null"/>.</param>
public sealed record PolicyLabApplyResult(CompiledPolicySet PolicySet, BpfApplyResult? Bpf, IptablesRuleset? Iptables, NftablesRuleset? Nftables);
