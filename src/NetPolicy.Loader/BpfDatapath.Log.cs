using Microsoft.Extensions.Logging;
using NetPolicy.Compiler;

namespace NetPolicy.Loader;

/// <summary>The datapath's log messages.</summary>
internal static partial class BpfDatapathLog
{
    [LoggerMessage(EventId = NetPolicyEventIds.BpfDatapathCreated, Level = LogLevel.Information, Message = "BPF datapath maps created ({BuildInfo})")]
    public static partial void DatapathCreated(this ILogger logger, string buildInfo);

    [LoggerMessage(EventId = NetPolicyEventIds.BpfMapsApplied, Level = LogLevel.Debug, Message = "Applied map images: {Upserted} entries written, {Deleted} deleted, in {Milliseconds:F2} ms")]
    public static partial void MapsApplied(this ILogger logger, int upserted, int deleted, double milliseconds);

    [LoggerMessage(EventId = NetPolicyEventIds.BpfEndpointLoaded, Level = LogLevel.Debug, Message = "Loaded the programs of endpoint {EndpointId}")]
    public static partial void EndpointLoaded(this ILogger logger, uint endpointId);

    [LoggerMessage(EventId = NetPolicyEventIds.BpfAttachedWithClsact, Level = LogLevel.Warning, Message = "Endpoint {EndpointId} (interface {InterfaceIndex}) attached with tc clsact: this kernel has no tcx (Linux 6.6+)")]
    public static partial void AttachedWithClsact(this ILogger logger, uint endpointId, int interfaceIndex);
}
