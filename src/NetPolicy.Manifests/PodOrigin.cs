namespace NetPolicy.Manifests;

/// <summary>Where a pod of a <see cref="ManifestSet"/> came from: a Pod document or a workload's pod template.</summary>
/// <param name="Kind">The kind of the object the pod was read from: <c>Pod</c>, <c>Deployment</c>, ...</param>
/// <param name="Source">The object's source, when known.</param>
internal readonly record struct PodOrigin(string Kind, CompactSource? Source)
{
    public bool IsWorkload => Kind != "Pod";
}
