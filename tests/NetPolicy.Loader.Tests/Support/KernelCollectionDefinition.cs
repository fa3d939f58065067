using System.Runtime.Versioning;

// NetPolicy.Loader is Linux-only ([SupportedOSPlatform("linux")]); so are its tests (kernel tests skip elsewhere).
[assembly: SupportedOSPlatform("linux")]

namespace NetPolicy.Loader.Tests.Support;

/// <summary>Kernel tests share one collection that never runs in parallel: they load programs, create namespaces and
/// mount filesystems, and some read global state (tc filters, per-CPU counters).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class KernelCollectionDefinition
{
    public const string Name = "Kernel";
}
