using NetPolicy.Loader.Bpf;

namespace NetPolicy.Loader;

/// <summary>An endpoint's programs attached to its host-side veth; <see cref="Dispose"/> detaches exactly these two.</summary>
public sealed class BpfEndpointAttachment : IDisposable
{
    private readonly Action<Action>? _runInNamespace;

    internal BpfEndpointAttachment(uint endpointId, TcAttachment fromPod, TcAttachment toPod, Action<Action>? runInNamespace)
    {
        EndpointId = endpointId;
        FromPod = fromPod;
        ToPod = toPod;
        _runInNamespace = runInNamespace;
    }

    /// <summary>Gets the endpoint id.</summary>
    public uint EndpointId { get; }

    /// <summary>Gets the attachment of the program for packets the pod sends.</summary>
    public TcAttachment FromPod { get; }

    /// <summary>Gets the attachment of the program for packets the pod receives.</summary>
    public TcAttachment ToPod { get; }

    /// <summary>Gets how the programs are attached (tcx, or tc clsact on older kernels).</summary>
    public TcAttachMode Mode => FromPod.Mode;

    /// <summary>Detaches both programs; idempotent.</summary>
    public void Dispose()
    {
        void Detach()
        {
            try
            {
                FromPod.Dispose();
            }
            finally
            {
                ToPod.Dispose();
            }
        }

        if (_runInNamespace is null)
        {
            Detach();
        }
        else
        {
            _runInNamespace(Detach);
        }
    }
}
