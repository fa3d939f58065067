using System.Security.Cryptography;
using NetPolicy.Loader.Native;

namespace NetPolicy.Loader.Tests.Bpf;

/// <summary>
/// A network namespace of the test's own (np-test-RANDOM) holding a veth pair np0/np1, deleted on dispose. Work that
/// must act inside it runs on a new thread that entered it with setns(2) and ends afterwards.
/// </summary>
internal sealed class TestNetworkNamespace : IDisposable
{
    public const string Host = "np0";
    public const string Peer = "np1";

    private TestNetworkNamespace(string name)
    {
        Name = name;
    }

    public string Name { get; }

    public static TestNetworkNamespace CreateWithVeth()
    {
        var ns = new TestNetworkNamespace($"np-test-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}");
        Shell.Run("ip", "netns", "add", ns.Name);
        try
        {
            ns.Ip("link", "add", Host, "type", "veth", "peer", "name", Peer);
            ns.Ip("link", "set", Host, "up");
            ns.Ip("link", "set", Peer, "up");
        }
        catch
        {
            ns.Dispose();
            throw;
        }

        return ns;
    }

    public string Ip(params string[] arguments) => Shell.Run("ip", ["-n", Name, .. arguments]);

    public string Tc(params string[] arguments) => Shell.Run("tc", ["-n", Name, .. arguments]);

    public T Run<T>(Func<T> action)
    {
        T result = default!;
        using var handle = ThreadNetworkNamespace.Open($"/run/netns/{Name}");
        ThreadNetworkNamespace.RunOnNewThread(handle, () => result = action());
        return result;
    }

    public int InterfaceIndex(string name) => Run(() => (int)LibC.InterfaceNameToIndex(name));

    public void Dispose() => Shell.TryRun("ip", "netns", "del", Name);
}
