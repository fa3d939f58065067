using NetPolicy.Loader.Bpf;

namespace NetPolicy.Loader;

/// <summary>The two loaded programs of one endpoint (their <c>.rodata</c> carries its endpoint id).</summary>
/// <param name="EndpointId">The endpoint id.</param>
/// <param name="FromPod">The program for packets the pod sends (its egress policy): tc ingress of the host-side veth.</param>
/// <param name="ToPod">The program for packets the pod receives (its ingress policy): tc egress of the host-side veth.</param>
public sealed record BpfEndpointPrograms(uint EndpointId, BpfProgram FromPod, BpfProgram ToPod);
