using Microsoft.Extensions.Logging;

namespace NetPolicy.Compiler;

/// <summary>Settings for <see cref="PolicyCompiler"/>.</summary>
public sealed class PolicyCompilerOptions
{
    /// <summary>Gets or sets the logger factory.</summary>
    /// <value><see langword="null"/> by default: nothing is logged.</value>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>Gets or sets how many threads a cold compile may use for its parallel parts (peer selection, matching
    /// policies to identities, building rule sets), as <see cref="System.Threading.Tasks.ParallelOptions.MaxDegreeOfParallelism"/>.
    /// The result is the same, byte for byte, whatever the value; a node agent that shares its cores may lower it.</summary>
    /// <value>-1 (the default): as many as the thread pool gives; 1: everything on the calling thread.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is 0 or less than -1.</exception>
    public int MaxDegreeOfParallelism
    {
        get => _maxDegreeOfParallelism;
        set
        {
            if (value is 0 or < -1)
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, "MaxDegreeOfParallelism must be -1 (no limit) or positive.");
            }

            _maxDegreeOfParallelism = value;
        }
    }

    private int _maxDegreeOfParallelism = -1;
}
