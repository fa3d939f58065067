using System.Collections.Immutable;
using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using NetPolicy.Compiler.Iptables;
using NetPolicy.Compiler.Ir;
using NetPolicy.Compiler.Nftables;
using NetPolicy.Loader.Iptables;
using NetPolicy.Loader.Netns;
using NetPolicy.Loader.Nftables;

namespace NetPolicy.Loader.Tests.Support;

public enum NetfilterEngine
{
    Iptables,
    Nftables,
}

/// <summary>Node options shared by both netfilter renderers in the kernel tests.</summary>
internal sealed record NetfilterNodeOptions(ImmutableArray<IPNetwork> PodCidrs, ImmutableArray<IPAddress> HostAddresses, bool FailOpen)
{
    public static NetfilterNodeOptions None { get; } = new([], [], false);
}

/// <summary>One netfilter backend applied in one network namespace: render, apply (incremental once something was
/// applied), and a normalised listing of what the kernel holds of ours, to compare two namespaces.</summary>
internal sealed partial class NetfilterBackend
{
    private readonly IptablesApplier? _iptables;
    private readonly NftablesApplier? _nftables;
    private readonly NetworkNamespace _namespace;

    public NetfilterBackend(NetfilterEngine engine, NetworkNamespace networkNamespace)
    {
        Engine = engine;
        _namespace = networkNamespace;
        if (engine == NetfilterEngine.Iptables)
        {
            _iptables = new IptablesApplier(networkNamespace);
        }
        else
        {
            _nftables = new NftablesApplier(networkNamespace);
        }
    }

    public NetfilterEngine Engine { get; }

    /// <summary>Renders with the backend's renderer and returns the files as one text (to look into).</summary>
    public static object Render(NetfilterEngine engine, CompiledPolicySet policySet, NetfilterNodeOptions node) => engine == NetfilterEngine.Iptables
        ? IptablesRenderer.Render(policySet, new IptablesRenderOptions { PodCidrs = node.PodCidrs, HostAddresses = node.HostAddresses, FailOpen = node.FailOpen })
        : NftablesRenderer.Render(policySet, new NftablesRenderOptions { PodCidrs = node.PodCidrs, HostAddresses = node.HostAddresses, FailOpen = node.FailOpen });

    public static string TextOf(object ruleset) => ruleset switch
    {
        IptablesRuleset i => i.IpsetRestore + i.IPv4Rules + i.IPv6Rules,
        NftablesRuleset n => n.Text,
        _ => throw new ArgumentException("not a ruleset", nameof(ruleset)),
    };

    public NetfilterApplyMode Apply(CompiledPolicySet policySet, NetfilterNodeOptions node) => Apply(Render(Engine, policySet, node));

    public NetfilterApplyMode Apply(object ruleset) => ruleset switch
    {
        IptablesRuleset i => _iptables!.Apply(i),
        NftablesRuleset n => _nftables!.Apply(n),
        _ => throw new ArgumentException("not a ruleset", nameof(ruleset)),
    };

    /// <summary>What the kernel holds of ours, normalised: chains (or blocks) sorted by name with their rules in order,
    /// set members sorted, counters and hash sizes dropped.</summary>
    public string Listing()
    {
        if (Engine == NetfilterEngine.Nftables)
        {
            var listing = Tool("nft", "-s", "list", "table", "inet", "netpolicy");
            var blocks = NftablesApplier.ParseListing(listing);
            return string.Join("\n", blocks.OrderBy(b => b.Key, StringComparer.Ordinal).Select(b => b.Key + "\n  " + string.Join("\n  ", b.Value.Select(SortElements))));
        }

        var text = new List<string>();
        foreach (var save in new[] { "iptables-save", "ip6tables-save" })
        {
            var chains = IptablesApplier.ParseChains(Tool(save, "-t", "filter"));
            text.AddRange(chains.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => save + " " + c.Key + "\n  " + string.Join("\n  ", c.Value.Select(r => r.Text))));
            text.Add(string.Join("\n", Tool(save, "-t", "filter").Split('\n').Where(l => Regex.IsMatch(l, "^-A (FORWARD|OUTPUT) -j NP-"))));
        }

        text.AddRange(Tool("ipset", "save").Split('\n').Where(l => l.Contains(" NP-", StringComparison.Ordinal))
            .Select(l => HashSize().Replace(l, string.Empty)).Order(StringComparer.Ordinal));
        return string.Join("\n", text);
    }

    private static string SortElements(string line)
    {
        var match = Elements().Match(line);
        return match.Success
            ? line[..match.Groups[1].Index] + string.Join(", ", match.Groups[1].Value.Split(", ").Select(e => e.Trim()).Order(StringComparer.Ordinal)) + line[(match.Groups[1].Index + match.Groups[1].Length)..]
            : line;
    }

    private string Tool(string tool, params string[] arguments)
    {
        var start = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "netns", "exec", _namespace.Name, tool }.Concat(arguments))
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{tool} {string.Join(' ', arguments)}: {error.Result}");
        return output;
    }

    [GeneratedRegex(@"elements = \{ (.*) \}")]
    private static partial Regex Elements();

    [GeneratedRegex(@" (hashsize|initval|bucketsize) [0-9a-fx]+")]
    private static partial Regex HashSize();
}
