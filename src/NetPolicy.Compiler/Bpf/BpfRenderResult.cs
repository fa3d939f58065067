using System.Collections.Immutable;

namespace NetPolicy.Compiler.Bpf;

/// <summary>The outcome of <see cref="BpfMapRenderer.Render"/>: the map images, or the diagnostics saying why they cannot be loaded.</summary>
public sealed class BpfRenderResult
{
    internal BpfRenderResult(BpfMapImages? images, ImmutableArray<PolicyDiagnostic> diagnostics)
    {
        Images = images;
        Diagnostics = diagnostics;
    }

    /// <summary>Gets the images, or <see langword="null"/> when any error diagnostic was reported: the datapath must then
    /// keep its current maps (fail closed), never be programmed half-way.</summary>
    public BpfMapImages? Images { get; }

    /// <summary>Gets the diagnostics (codes <c>NP13xx</c>; see <see cref="DiagnosticCodes"/>).</summary>
    public ImmutableArray<PolicyDiagnostic> Diagnostics { get; }

    /// <summary>Gets a value indicating whether the images were rendered.</summary>
    public bool Success => Images is not null;

    /// <summary>Returns the images or throws.</summary>
    /// <returns>The images.</returns>
    /// <exception cref="PolicyCompilationException">The render reported errors; the exception carries every diagnostic.</exception>
    public BpfMapImages ThrowIfErrors() => Images ?? throw new PolicyCompilationException(Diagnostics);
}
