using System.Collections.Immutable;
using System.Net;

namespace NetPolicy.Loader.Lab;

/// <summary>A pod of the lab: its key and addresses.</summary>
/// <param name="Key">The pod key, <c>namespace/name</c>.</param>
/// <param name="Addresses">Its addresses: at most one IPv4 address in 198.18.0.0/15 and one IPv6 address in an
/// <c>fd00::/8</c> unique-local prefix.</param>
public sealed record LabPod(string Key, ImmutableArray<IPAddress> Addresses);
