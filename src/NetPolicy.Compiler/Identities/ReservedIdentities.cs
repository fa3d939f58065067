namespace NetPolicy.Compiler.Identities;

/// <summary>The numeric identity ranges and the reserved identities.</summary>
/// <remarks>
/// <list type="table">
/// <item><term>0</term><description>Unknown; never allocated. In policy maps 0 stands for "any peer".</description></item>
/// <item><term>1</term><description><see cref="Host"/>: the node the pod runs on.</description></item>
/// <item><term>2</term><description><see cref="World"/>: any address outside the cluster (not a pod IP).</description></item>
/// <item><term>3–255</term><description>Reserved for future reserved identities.</description></item>
/// <item><term>256 – 16,777,215</term><description>Pod identities, one per distinct (namespace, namespace labels, pod labels).</description></item>
/// <item><term>16,777,216 – 4,294,967,295</term><description>Address classes (ipBlock equivalence classes).</description></item>
/// </list>
/// The ranges match Cilium's: cluster identities below 2^24, local CIDR identities from 2^24.
/// </remarks>
public static class ReservedIdentities
{
    /// <summary>The unknown identity; never allocated.</summary>
    public const uint Unknown = 0;

    /// <summary>The node hosting the pod.</summary>
    public const uint Host = 1;

    /// <summary>Any address outside the cluster.</summary>
    public const uint World = 2;

    /// <summary>The first pod identity.</summary>
    public const uint FirstPodIdentity = 256;

    /// <summary>The last pod identity.</summary>
    public const uint LastPodIdentity = (1u << 24) - 1;

    /// <summary>The first address-class identifier.</summary>
    public const uint FirstAddressClass = 1u << 24;

    /// <summary>Returns whether an identifier names an address class rather than an identity.</summary>
    /// <param name="id">The identifier.</param>
    /// <returns><see langword="true"/> for address classes.</returns>
    public static bool IsAddressClass(uint id) => id >= FirstAddressClass;
}
