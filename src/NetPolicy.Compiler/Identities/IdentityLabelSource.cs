namespace NetPolicy.Compiler.Identities;

/// <summary>Where an identity label comes from. The source is part of the label, so a user label can never
/// impersonate a reserved one (a pod label keyed <c>host</c> stays a pod label).</summary>
public enum IdentityLabelSource
{
    /// <summary>A reserved label of the compiler, such as <c>reserved:host</c>.</summary>
    Reserved = 0,

    /// <summary>The name of the pod's namespace (<c>k8s:io.kubernetes.pod.namespace</c> in Cilium's spelling).</summary>
    NamespaceName = 1,

    /// <summary>A label of the pod's namespace (<c>k8s:io.cilium.k8s.namespace.labels.*</c> in Cilium's spelling).</summary>
    Namespace = 2,

    /// <summary>A label of the pod.</summary>
    Pod = 3,
}
