using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NetPolicy.Compiler.Compilation;
using NetPolicy.Compiler.Ir;

namespace NetPolicy.Compiler;

/// <summary>Compiles a <see cref="ClusterSnapshot"/> into identities and the per-endpoint policy IR.</summary>
/// <remarks>Pure and deterministic: no I/O, clocks or randomness; the same snapshot gives an equal <see cref="CompiledPolicySet"/>.
/// Thread-safe: one compiler may compile on several threads.</remarks>
/// <example>
/// <code>
/// var compiler = new PolicyCompiler();
/// CompilationResult result = compiler.Compile(snapshot);
/// CompiledPolicySet ir = result.ThrowIfErrors();
/// // later, after a watch event:
/// CompilationResult next = compiler.Compile(snapshot.SetPod(pod), ir);
/// Console.WriteLine(next.Delta);
/// </code>
/// </example>
public sealed class PolicyCompiler
{
    private readonly ILogger _logger;
    private readonly int _maxDegreeOfParallelism;

    /// <summary>Initializes a compiler.</summary>
    /// <param name="options">Options, or <see langword="null"/> for the defaults.</param>
    public PolicyCompiler(PolicyCompilerOptions? options = null)
    {
        _logger = (options?.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger("NetPolicy.Compiler");
        _maxDegreeOfParallelism = options?.MaxDegreeOfParallelism ?? -1;
    }

    /// <summary>Compiles a snapshot.</summary>
    /// <param name="snapshot">The snapshot.</param>
    /// <param name="previous">The previous compile, to keep its identity, address-class, peer-set and rule-set numbers
    /// (only new content gets new numbers) and to report a <see cref="CompilationResult.Delta"/>; or <see langword="null"/>.</param>
    /// <returns>The result; <see cref="CompilationResult.Success"/> is <see langword="false"/> when the snapshot has errors.</returns>
    public CompilationResult Compile(ClusterSnapshot snapshot, CompiledPolicySet? previous = null)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        if (snapshot.HasErrors)
        {
            if (_logger.IsEnabled(LogLevel.Information))
            {
                _logger.CompileFailed(snapshot.Diagnostics.Count(d => d.Severity == DiagnosticSeverity.Error));
            }

            return new CompilationResult(snapshot, snapshot.Diagnostics, null, null);
        }

        var policySet = new CompilationRun(snapshot, previous, _logger, _maxDegreeOfParallelism).Run();
        _logger.CompileCompleted(policySet.Endpoints.Count, policySet.Identities.Count, snapshot.Policies.Count, policySet.RuleSets.Count, policySet.IPCache.Count);
        CompilationDelta? delta = null;
        if (previous is not null)
        {
            delta = policySet.DiffFrom(previous);
            if (_logger.IsEnabled(LogLevel.Debug))
            {
                _logger.IncrementalCompile(delta.ToString());
            }
        }

        return new CompilationResult(snapshot, snapshot.Diagnostics, policySet, delta);
    }
}
