namespace NetPolicy.Analysis;

/// <summary>Settings of <see cref="PolicyLinter.Lint(NetPolicy.Compiler.ClusterSnapshot, PolicyLintOptions?)"/>.</summary>
public sealed class PolicyLintOptions
{
    /// <summary>Gets or sets where the objects came from, so findings carry file:line.</summary>
    /// <value>Defaults to <see cref="ObjectSources.None"/>.</value>
    public ObjectSources Sources { get; set; } = ObjectSources.None;

    /// <summary>Gets the codes of checks not to run (for example <c>NP4005</c>).</summary>
    /// <value>Empty by default: every check runs.</value>
    public ISet<string> DisabledCodes { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
}
