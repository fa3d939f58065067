using System.Runtime.InteropServices;

namespace NetPolicy.Loader.Native;

/// <summary>Owns a libbpf <c>struct bpf_object *</c>; closing it closes every map, program and fd of the object.</summary>
internal sealed class SafeBpfObjectHandle : SafeHandle
{
    public SafeBpfObjectHandle(nint obj)
        : base(0, ownsHandle: true)
    {
        SetHandle(obj);
    }

    public override bool IsInvalid => handle == 0;

    public nint Pointer => handle;

    protected override bool ReleaseHandle()
    {
        LibBpf.ObjectClose(handle);
        return true;
    }
}
