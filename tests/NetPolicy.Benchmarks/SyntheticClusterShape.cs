namespace NetPolicy.Benchmarks;

/// <summary>The size of a synthetic cluster: how many namespaces, pods and NetworkPolicies.</summary>
/// <param name="Namespaces">The number of namespaces, at least 3 (kube-system and monitoring are always generated).</param>
/// <param name="Pods">The number of pods.</param>
/// <param name="Policies">The number of NetworkPolicies.</param>
public sealed record SyntheticClusterShape(int Namespaces, int Pods, int Policies)
{
    /// <summary>Gets the 1k-pod shape: 250 namespaces, 1,000 pods, 750 policies.</summary>
    public static SyntheticClusterShape Small { get; } = new(250, 1_000, 750);

    /// <summary>Gets the 10k-pod shape: 2,500 namespaces, 10,000 pods, 7,500 policies.</summary>
    public static SyntheticClusterShape Medium { get; } = new(2_500, 10_000, 7_500);

    /// <summary>Gets the 100k-pod shape: 25,000 namespaces, 100,000 pods, 75,000 policies (the README target).</summary>
    public static SyntheticClusterShape Large { get; } = new(25_000, 100_000, 75_000);

    /// <summary>Formats the shape for benchmark tables as pods/namespaces/policies, for example <c>100k/25k/75k</c>
    /// (BenchmarkDotNet truncates parameter values longer than 20 characters).</summary>
    /// <returns>The text.</returns>
    public override string ToString() => $"{Short(Pods)}/{Short(Namespaces)}/{Short(Policies)}";

    private static string Short(int n) => n >= 1000 && n % 100 == 0
        ? (n / 1000.0).ToString("0.#", System.Globalization.CultureInfo.InvariantCulture) + "k"
        : n.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
