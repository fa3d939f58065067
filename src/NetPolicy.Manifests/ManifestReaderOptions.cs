namespace NetPolicy.Manifests;

/// <summary>Settings for <see cref="ManifestReader"/>.</summary>
public sealed class ManifestReaderOptions
{
    /// <summary>Gets or sets a value indicating whether the location of each field is recorded in <see cref="NetPolicy.Compiler.ObjectSource.Fields"/>.</summary>
    /// <value><see langword="true"/> by default. Turning it off saves about a third of the memory on very large inputs;
    /// diagnostics then point at the start of the object.</value>
    public bool RecordFieldLocations { get; set; } = true;

    /// <summary>Gets or sets a value indicating whether workloads (Deployment, StatefulSet, DaemonSet, ReplicaSet,
    /// ReplicationController, Job, CronJob) are read as one pod each, made from their pod template.</summary>
    /// <value><see langword="true"/> by default; when <see langword="false"/> they are skipped like other kinds (NP1202).</value>
    public bool ExpandWorkloads { get; set; } = true;

    /// <summary>Gets or sets the reader used for the path <c>-</c>.</summary>
    /// <value><see langword="null"/> by default: the process's standard input, read as UTF-8.</value>
    public TextReader? StandardInput { get; set; }
}
