using Microsoft.Extensions.Logging;

namespace NetPolicy.Compiler;

internal static partial class CompilerLog
{
    [LoggerMessage(EventId = NetPolicyEventIds.CompileCompleted, Level = LogLevel.Information,
        Message = "Compiled {EndpointCount} endpoints, {IdentityCount} identities, {PolicyCount} policies into {RuleSetCount} rule sets and {IPCacheCount} ipcache entries")]
    public static partial void CompileCompleted(this ILogger logger, int endpointCount, int identityCount, int policyCount, int ruleSetCount, int ipCacheCount);

    [LoggerMessage(EventId = NetPolicyEventIds.CompileFailed, Level = LogLevel.Information,
        Message = "Compile failed with {ErrorCount} error(s); nothing was produced")]
    public static partial void CompileFailed(this ILogger logger, int errorCount);

    [LoggerMessage(EventId = NetPolicyEventIds.PolicyCompiled, Level = LogLevel.Debug,
        Message = "Compiled NetworkPolicy {Policy} into {RuleCount} rules")]
    public static partial void PolicyCompiled(this ILogger logger, string policy, int ruleCount);

    [LoggerMessage(EventId = NetPolicyEventIds.IncrementalCompile, Level = LogLevel.Debug,
        Message = "Incremental compile: {Delta}")]
    public static partial void IncrementalCompile(this ILogger logger, string delta);
}
