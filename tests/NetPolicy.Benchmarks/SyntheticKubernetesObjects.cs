using k8s.Models;

namespace NetPolicy.Benchmarks;

/// <summary>A synthetic cluster as <c>k8s.Models</c> objects, ready for <see cref="NetPolicy.Compiler.ClusterSnapshot.Create"/>.</summary>
/// <param name="Namespaces">The namespaces.</param>
/// <param name="Pods">The pods, with <c>status.podIPs</c>.</param>
/// <param name="Policies">The NetworkPolicies.</param>
public sealed record SyntheticKubernetesObjects(
    IReadOnlyList<V1Namespace> Namespaces,
    IReadOnlyList<V1Pod> Pods,
    IReadOnlyList<V1NetworkPolicy> Policies);
