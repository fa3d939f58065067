using System.Globalization;
using System.Text;
using BenchmarkDotNet.Running;

namespace NetPolicy.Benchmarks;

/// <summary>Runs the benchmarks, or one of the commands <c>generate</c>, <c>measure</c>, <c>verify</c>, <c>bpf-packet</c>,
/// <c>bpf-update</c>, <c>netfilter</c> and <c>packet-cost</c> (see README.md).</summary>
internal static class Program
{
    public static int Main(string[] args)
    {
        switch (args.FirstOrDefault())
        {
            case "generate":
                return Generate(Options.Parse(args.AsSpan(1)));
            case "measure":
                return MeasureCommand.Run(Options.Parse(args.AsSpan(1)));
            case "verify":
                return VerifyCommand.Run(Options.Parse(args.AsSpan(1)));
            case "bpf-packet" or "bpf-update":
                return Bpf(args[0], args.AsSpan(1));
            case "netfilter":
                if (!OperatingSystem.IsLinux())
                {
                    Console.Error.WriteLine("netfilter needs Linux (and root, nft, ipset, iptables and iproute2 for the apply part).");
                    return 2;
                }

                return NetfilterCommand.Run(args.AsSpan(1));
            case "packet-cost":
                if (!OperatingSystem.IsLinux())
                {
                    Console.Error.WriteLine("packet-cost needs Linux and root (network namespaces, BPF, nft, ipset, iptables and iproute2).");
                    return 2;
                }

                return PacketCostCommand.Run(args.AsSpan(1));
            case "-h" or "--help" or "help" when args.Length == 1:
                Console.WriteLine("""
                    Usage:
                      dotnet run -c Release --project tests/NetPolicy.Benchmarks -- [BenchmarkDotNet options, e.g. --filter '*' --job short]
                      dotnet run -c Release --project tests/NetPolicy.Benchmarks -- generate --namespaces 25000 --pods 100000 --policies 75000 --seed 1 --out /tmp/big.yaml
                      dotnet run -c Release --project tests/NetPolicy.Benchmarks -- measure [--namespaces N --pods N --policies N --seed S --incremental K]
                      dotnet run -c Release --project tests/NetPolicy.Benchmarks -- verify [--namespaces N --pods N --policies N --seed S]
                      sudo dotnet run -c Release --project tests/NetPolicy.Benchmarks -- bpf-packet [--ipcache 100000 --entries 100,1000,4096,16384,65536 --repeat 1000000 --runs 5]
                      sudo dotnet run -c Release --project tests/NetPolicy.Benchmarks -- bpf-update [--namespaces 1000 --pods 10000 --policies 3000 --seed 1 --changes 100 --warmup 6]
                      sudo dotnet run -c Release --project tests/NetPolicy.Benchmarks -- netfilter [--namespaces 25000 --pods 100000 --policies 10000 --runs 3 --changes 3 --seed 1 --apply-namespaces N --apply-pods N --apply-policies N]
                      sudo dotnet run -c Release --project tests/NetPolicy.Benchmarks -- packet-cost [--policies 10,100,1000,10000 --rounds 21 --millis 30]
                    """);
                return 0;
            default:
                BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
                return 0;
        }
    }

    private static int Bpf(string command, ReadOnlySpan<string> args)
    {
        if (!OperatingSystem.IsLinux())
        {
            Console.Error.WriteLine($"{command} needs Linux with BPF (and root): it loads the datapath and runs it with BPF_PROG_TEST_RUN.");
            return 2;
        }

        return command == "bpf-packet" ? BpfPacketCommand.Run(args) : BpfUpdateCommand.Run(args);
    }

    private static int Generate(Options options)
    {
        var cluster = SyntheticCluster.Generate(options.Shape, options.Seed);
        if (options.Out is null || options.Out == "-")
        {
            using var stdout = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false), 1 << 16);
            cluster.WriteYaml(stdout);
            return 0;
        }

        using (var stream = new FileStream(options.Out, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
        using (var writer = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16))
        {
            cluster.WriteYaml(writer);
        }

        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"wrote {options.Out}: {cluster.Namespaces.Length} namespaces, {cluster.Pods.Length} pods, {cluster.Policies.Length} NetworkPolicies, {new FileInfo(options.Out).Length / 1e6:0.0} MB (seed {options.Seed})"));
        return 0;
    }
}
