using NetPolicy.Loader.Tests.Support;

namespace NetPolicy.Loader.Nftables.Tests;

/// <summary>The shared netfilter kernel tests (<see cref="NetfilterNodeTests"/>) with nftables.</summary>
[Collection("Kernel")]
public sealed class NftablesNodeTests() : NetfilterNodeTests(NetfilterEngine.Nftables);
