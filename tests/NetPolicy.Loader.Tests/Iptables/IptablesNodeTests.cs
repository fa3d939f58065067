using NetPolicy.Loader.Tests.Support;

namespace NetPolicy.Loader.Tests.Iptables;

/// <summary>The shared netfilter kernel tests (<see cref="NetfilterNodeTests"/>) with iptables + ipset.</summary>
[Collection("Kernel")]
public sealed class IptablesNodeTests() : NetfilterNodeTests(NetfilterEngine.Iptables);
