using NetPolicy.Loader.Iptables;

namespace NetPolicy.Loader.Tests.Iptables;

/// <summary>The applier's handling of restore files and names, without a kernel.</summary>
public sealed class IptablesApplierTests
{
    [Theory]
    [InlineData("NP-FORWARD", true)]
    [InlineData("NP-IN-12", true)]
    [InlineData("NP-EG-3", true)]
    [InlineData("NP-EG-", false)]
    [InlineData("NP-OTHER", false)]
    [InlineData("FORWARD", false)]
    [InlineData("KUBE-NP-IN-1", false)]
    public void IsOurChain_Names_OnlyOurPatterns(string name, bool ours)
    {
        Assert.Equal(ours, IptablesApplier.IsOurChain(name));
    }

    [Fact]
    public void WithDeletedChains_StaleChains_AreFlushedInTheHeaderAndDeletedBeforeCommit()
    {
        var rules = "*filter\n:NP-FORWARD - [0:0]\n-A NP-FORWARD -j ACCEPT\nCOMMIT\n";

        var text = IptablesApplier.WithDeletedChains(rules, ["NP-IN-4", "NP-EG-7"]);

        Assert.Equal("*filter\n:NP-IN-4 - [0:0]\n:NP-EG-7 - [0:0]\n:NP-FORWARD - [0:0]\n-A NP-FORWARD -j ACCEPT\n-X NP-IN-4\n-X NP-EG-7\nCOMMIT\n", text);
    }

    [Fact]
    public void WithDeletedChains_NoStaleChains_ReturnsTheRulesUnchanged()
    {
        var rules = "*filter\n:NP-FORWARD - [0:0]\nCOMMIT\n";

        Assert.Same(rules, IptablesApplier.WithDeletedChains(rules, []));
    }

    [Fact]
    public void WithDeletedChains_NotOneFilterTable_Throws()
    {
        var error = Assert.Throws<ArgumentException>(() => IptablesApplier.WithDeletedChains("*nat\nCOMMIT\n", ["NP-IN-1"]));

        Assert.Equal("rules", error.ParamName);
    }

    [Fact]
    public void FindTool_MissingTool_ThrowsNamingTheToolAndPackage()
    {
        var error = Assert.Throws<KernelOperationException>(() => IptablesApplier.FindTool("netpol-no-such-restore"));

        Assert.StartsWith("'netpol-no-such-restore' was not found on PATH", error.Message, StringComparison.Ordinal);
        Assert.Contains("install the iptables package", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, error.Errno);
    }

    [Fact]
    public void FindTool_InstalledTool_ReturnsItsPath()
    {
        Assert.EndsWith("/sh", IptablesApplier.FindTool("sh"), StringComparison.Ordinal);
    }
}
