namespace NetPolicy.Analysis;

/// <summary>Settings of <see cref="ConnectionDiffer"/>.</summary>
public sealed class ConnectionDiffOptions
{
    /// <summary>Gets or sets a value indicating whether connections between pods and address ranges outside the cluster are compared.</summary>
    /// <value><see langword="true"/> by default.</value>
    public bool IncludeExternal { get; set; } = true;
}
