namespace NetPolicy.Loader.Lab;

/// <summary>Options of a <see cref="NetworkLab"/>.</summary>
public sealed class NetworkLabOptions
{
    /// <summary>Gets or sets the prefix of every namespace the lab creates.</summary>
    /// <value>Default <c>npl</c> followed by a random suffix, so concurrent labs never collide.</value>
    public string NamePrefix { get; set; } = "npl" + Convert.ToHexStringLower(BitConverter.GetBytes(Random.Shared.Next()))[..6];

    /// <summary>Gets or sets how long a probe waits for an answer.</summary>
    /// <value>Default 1 second; a dropped packet always costs the whole timeout.</value>
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets how many times a probe that got no answer is repeated before it counts as denied.</summary>
    /// <value>Default 1. A dropped packet is dropped again, so a repeat never turns a denial into an allow; it only keeps a
    /// busy machine (a probe answered after the timeout) from passing for a denial.</value>
    public int DeniedRetries { get; set; } = 1;

    /// <summary>Gets or sets how many probes run at once.</summary>
    /// <value>Default 256.</value>
    public int MaxParallelProbes { get; set; } = 256;
}
