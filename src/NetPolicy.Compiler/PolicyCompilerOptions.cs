using Microsoft.Extensions.Logging;

namespace NetPolicy.Compiler;

/// <summary>Settings for <see cref="PolicyCompiler"/>.</summary>
public sealed class PolicyCompilerOptions
{
    /// <summary>Gets or sets the logger factory.</summary>
    /// <value><see langword="null"/> by default: nothing is logged.</value>
    public ILoggerFactory? LoggerFactory { get; set; }
}
