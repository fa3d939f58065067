using System.Net;

namespace NetPolicy.Compiler.Identities;

/// <summary>One longest-prefix-match entry: addresses in <paramref name="Prefix"/> (and in no longer prefix) have this identity and address class.</summary>
/// <param name="Prefix">The prefix; pod IPs appear as /32 and /128.</param>
/// <param name="Identity">The security identity: the pod's for pod IPs, <see cref="ReservedIdentities.World"/> otherwise.</param>
/// <param name="AddressClass">The address class of the addresses.</param>
public sealed record IPCacheEntry(IPNetwork Prefix, uint Identity, uint AddressClass);
