using System.Net;
using System.Net.Sockets;
using NetPolicy.Analysis.Diff;

namespace NetPolicy.Analysis.Tests;

public class AddressMathTests
{
    [Theory]
    [InlineData("0.0.0.0/0", "0.0.0.0/0")]
    [InlineData("::/0", "::/0")]
    [InlineData("10.0.0.0/8", "10.0.0.0/8")]
    [InlineData("fd00:198::/64", "fd00:198::/64")]
    public void ToCidrs_WholeNetwork_IsThatNetwork(string network, string expected)
    {
        var (start, last) = AddressMath.Range(IPNetwork.Parse(network));

        var cidrs = AddressMath.ToCidrs(start, last, IPNetwork.Parse(network).BaseAddress.AddressFamily).Select(c => c.ToString());

        Assert.Equal([expected], cidrs);
    }

    [Fact]
    public void ToCidrs_IPv4SpaceMinusAPrivateRange_IsTheFewestBlocksInOrder()
    {
        var (start, _) = AddressMath.Range(IPNetwork.Parse("10.0.0.0/8"));
        var (_, last) = AddressMath.Range(IPNetwork.Parse("10.0.0.0/8"));

        var before = AddressMath.ToCidrs(0, start - 1, AddressFamily.InterNetwork).Select(c => c.ToString());
        var after = AddressMath.ToCidrs(last + 1, AddressMath.Max(AddressFamily.InterNetwork), AddressFamily.InterNetwork).Select(c => c.ToString());

        Assert.Equal(["0.0.0.0/5", "8.0.0.0/7"], before);
        Assert.Equal(["11.0.0.0/8", "12.0.0.0/6", "16.0.0.0/4", "32.0.0.0/3", "64.0.0.0/2", "128.0.0.0/1"], after);
    }

    [Fact]
    public void FromNumber_RoundTripsIPv6()
    {
        var address = IPAddress.Parse("fd00:198::ffff");

        Assert.Equal(address, AddressMath.FromNumber(AddressMath.ToNumber(address), AddressFamily.InterNetworkV6));
    }
}
