namespace NetPolicy.Testing;

/// <summary>Settings of golden reachability snapshots; the defaults come from the environment.</summary>
public sealed class ReachabilitySnapshotOptions
{
    /// <summary>The environment variable that turns updating on: <c>NETPOL_UPDATE_SNAPSHOTS=1</c> (or <c>true</c>).</summary>
    public const string UpdateVariable = "NETPOL_UPDATE_SNAPSHOTS";

    /// <summary>Gets or sets a value indicating whether a snapshot that differs is rewritten instead of failing.</summary>
    /// <value><see langword="true"/> when <c>NETPOL_UPDATE_SNAPSHOTS</c> is <c>1</c> or <c>true</c> when the options are made.</value>
    public bool Update { get; set; } = IsSet(Environment.GetEnvironmentVariable(UpdateVariable));

    /// <summary>Gets or sets a value indicating whether a missing snapshot is written (and the comparison passes) instead of failing.</summary>
    /// <value><see langword="true"/> unless <c>CI=true</c> when the options are made: CI must compare against a committed file.</value>
    public bool CreateMissing { get; set; } = !IsSet(Environment.GetEnvironmentVariable("CI"));

    private static bool IsSet(string? value) => value is not null &&
        (value == "1" || string.Equals(value, "true", StringComparison.OrdinalIgnoreCase));
}
