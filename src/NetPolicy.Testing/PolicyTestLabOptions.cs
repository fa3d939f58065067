namespace NetPolicy.Testing;

/// <summary>Settings of a <see cref="PolicyTestLab"/>.</summary>
public sealed class PolicyTestLabOptions
{
    /// <summary>Gets or sets the pods to put in the lab (endpoint forms as in the assertions).</summary>
    /// <value><see langword="null"/> by default: every pod of the cluster. Each pod costs a namespace and about 30 ms.</value>
    public IReadOnlyCollection<string>? Pods { get; set; }

    /// <summary>Gets or sets how long a probe waits for an answer before it counts as dropped (it is tried twice).</summary>
    /// <value>700 ms by default.</value>
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromMilliseconds(700);
}
