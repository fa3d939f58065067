namespace NetPolicy.Compiler.Model;

/// <summary>A namespace reduced to its name and labels.</summary>
public sealed record NamespaceDefinition
{
    /// <summary>The label the API server sets on every namespace to its name.</summary>
    public const string NameLabel = "kubernetes.io/metadata.name";

    /// <summary>Gets the namespace name.</summary>
    public required string Name { get; init; }

    /// <summary>Gets the namespace labels, always including <see cref="NameLabel"/>.</summary>
    public required LabelSet Labels { get; init; }

    /// <summary>Gets a value indicating whether the namespace was not declared in the input and was created because a pod or policy uses it.</summary>
    public bool Implicit { get; init; }

    /// <summary>Creates a namespace, adding <see cref="NameLabel"/> as the API server does.</summary>
    /// <param name="name">The name.</param>
    /// <param name="labels">The declared labels, or <see langword="null"/>.</param>
    /// <returns>The namespace.</returns>
    public static NamespaceDefinition Create(string name, LabelSet? labels = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        return new NamespaceDefinition { Name = name, Labels = (labels ?? LabelSet.Empty).With(NameLabel, name) };
    }
}
