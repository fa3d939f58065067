using System.Runtime.InteropServices;
using NetPolicy.Loader.Native;

namespace NetPolicy.Loader.Tests.Support;

/// <summary>
/// A fact that needs the kernel: root on Linux, bpf(2) able to load a tc program through libbpf.so.1, and network
/// namespaces with iproute2. Without them the test is skipped with the reason, except under <c>CI=true</c>, where it
/// runs (and fails loudly) so CI always exercises the kernel. Use it with <c>[Collection("Kernel")]</c>.
/// </summary>
public sealed class KernelFactAttribute : FactAttribute
{
    public KernelFactAttribute()
    {
        if (KernelRequirements.SkipReason is { } reason)
        {
            Skip = reason;
        }
    }
}

/// <summary>Checks, once per test run, whether kernel tests can run here.</summary>
internal static class KernelRequirements
{
    private static readonly Lazy<string?> s_skipReason = new(Evaluate);

    /// <summary>Gets why kernel tests are skipped, or <see langword="null"/> when they run (always under CI=true).</summary>
    public static string? SkipReason => s_skipReason.Value;

    /// <summary>Gets what is missing for kernel tests, or <see langword="null"/> when nothing is.</summary>
    public static string? Missing() => s_missing.Value;

    private static readonly Lazy<string?> s_missing = new(FindMissing);

    private static string? Evaluate()
    {
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        return Missing() is { } missing
            ? $"Kernel test skipped: {missing}. Run as root on Linux with BPF and iproute2; under CI=true this fails instead."
            : null;
    }

    private static unsafe string? FindMissing()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "not Linux";
        }

        if (!Environment.IsPrivilegedProcess)
        {
            return "not running as root (needs CAP_BPF, CAP_NET_ADMIN and CAP_SYS_ADMIN)";
        }

        if (!NativeLibrary.TryLoad(LibBpf.Library, out var library))
        {
            return $"{LibBpf.Library} is not installed (Debian: apt-get install libbpf1)";
        }

        NativeLibrary.Free(library);
        const int SchedClassifier = 3;
        if (LibBpf.ProbeProgramType(SchedClassifier, null) != 1)
        {
            return "the kernel does not load BPF tc programs for this process (CONFIG_BPF_SYSCALL, seccomp or a container policy)";
        }

        if (!File.Exists("/proc/self/ns/net") || !Directory.Exists("/proc/thread-self"))
        {
            return "network namespaces are not available";
        }

        string[] path = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':').Concat(["/usr/sbin", "/sbin"]).ToArray();
        foreach (string tool in new[] { "ip", "tc" })
        {
            if (!path.Any(directory => File.Exists(Path.Combine(directory, tool))))
            {
                return $"iproute2's '{tool}' is not installed";
            }
        }

        return null;
    }
}
