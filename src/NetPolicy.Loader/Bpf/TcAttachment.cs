using NetPolicy.Loader.Native;

namespace NetPolicy.Loader.Bpf;

/// <summary>A program attached to a tc hook of a network interface; dispose it to detach.</summary>
/// <remarks>
/// <para>
/// tcx (<see cref="TcAttachMode.Tcx"/>, Linux 6.6+) attaches through a BPF link owned by a file descriptor: other
/// programs on the hook stay untouched, and the kernel detaches the program when the descriptor closes (also when this
/// object is finalized) unless the link is pinned (<see cref="PinLink"/>).
/// </para>
/// <para>
/// clsact (<see cref="TcAttachMode.Clsact"/>) adds a direct-action cls_bpf filter with a handle and priority the
/// kernel assigns, creating the clsact qdisc when the interface has none. Detaching removes exactly that filter,
/// after checking it still runs our program, and removes the qdisc only when this process created it and no filter
/// is left on it. A clsact filter is not tied to a descriptor: it stays until <see cref="Dispose"/>, even after the
/// process exits. Until disposed, a clsact attachment holds a reference to the network namespace it was made in.
/// </para>
/// <para>
/// Attaching acts in the calling thread's network namespace. <see cref="Dispose"/> may run on any thread: a clsact
/// attachment remembers its namespace and enters it on a short-lived thread when needed. Dispose is idempotent; when
/// detaching fails it throws, and a later call retries.
/// </para>
/// </remarks>
public sealed class TcAttachment : IDisposable
{
    /// <summary>Gets the first Linux version with tcx (6.6).</summary>
    public static Version TcxMinimumKernelVersion { get; } = new(6, 6);

    private static readonly Lock s_qdiscLock = new();
    private static readonly Dictionary<(string Namespace, int InterfaceIndex), int> s_ownedQdiscs = [];

    private readonly Lock _lock = new();
    private readonly SafeFdHandle? _link;
    private readonly SafeFdHandle? _namespace;
    private readonly string _namespaceIdentity = string.Empty;
    private readonly bool _sharesOwnedQdisc;
    private bool _detached;

    private TcAttachment(SafeFdHandle link, int interfaceIndex, TcDirection direction, uint programId, string? linkPinPath)
    {
        _link = link;
        Mode = TcAttachMode.Tcx;
        InterfaceIndex = interfaceIndex;
        Direction = direction;
        ProgramId = programId;
        LinkPinPath = linkPinPath;
    }

    private TcAttachment(SafeFdHandle ns, string namespaceIdentity, int interfaceIndex, TcDirection direction, uint programId, uint handle, uint priority, bool sharesOwnedQdisc)
    {
        _namespace = ns;
        _namespaceIdentity = namespaceIdentity;
        Mode = TcAttachMode.Clsact;
        InterfaceIndex = interfaceIndex;
        Direction = direction;
        ProgramId = programId;
        FilterHandle = handle;
        FilterPriority = priority;
        _sharesOwnedQdisc = sharesOwnedQdisc;
    }

    /// <summary>Gets how the program is attached: <see cref="TcAttachMode.Tcx"/> or <see cref="TcAttachMode.Clsact"/>, never Auto.</summary>
    public TcAttachMode Mode { get; }

    /// <summary>Gets the interface index, in the network namespace the attachment was made in.</summary>
    public int InterfaceIndex { get; }

    /// <summary>Gets the hook.</summary>
    public TcDirection Direction { get; }

    /// <summary>Gets the kernel id of the attached program.</summary>
    public uint ProgramId { get; }

    /// <summary>Gets the handle of our cls_bpf filter (clsact only; 0 for tcx).</summary>
    public uint FilterHandle { get; }

    /// <summary>Gets the priority of our cls_bpf filter (clsact only; 0 for tcx).</summary>
    public uint FilterPriority { get; }

    /// <summary>Gets the bpffs path of the pinned tcx link; <see langword="null"/> when not pinned.</summary>
    public string? LinkPinPath { get; private set; }

    /// <summary>Gets whether the program is still attached by this object (false after <see cref="Dispose"/>).</summary>
    public bool IsAttached => !_detached;

    /// <summary>Opens a pinned tcx link (made with <see cref="PinLink"/>), for example after the agent restarted.</summary>
    /// <param name="path">The pin path of the link.</param>
    /// <returns>The attachment; disposing it detaches the program and removes the pin.</returns>
    /// <exception cref="ArgumentException">The pinned object is not a tcx link.</exception>
    /// <exception cref="KernelOperationException">The pin cannot be opened (ENOENT, EPERM).</exception>
    public static TcAttachment OpenPinnedLink(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        int fd = LibBpf.ObjGet(path);
        if (fd < 0)
        {
            throw KernelErrors.FromResult("bpf_obj_get", $"Opening the BPF link pinned at '{path}'", fd);
        }

        var link = new SafeFdHandle(fd);
        int result = BpfSyscall.GetLinkInfo(fd, out var info);
        if (result < 0 || info.Type != BpfSyscall.BPF_LINK_TYPE_TCX)
        {
            link.Dispose();
            if (result < 0)
            {
                throw KernelErrors.FromResult("bpf_obj_get_info_by_fd", $"Reading the BPF link pinned at '{path}'", result);
            }

            throw new ArgumentException($"The BPF object pinned at '{path}' is not a tcx link (link type {info.Type}).", nameof(path));
        }

        var direction = info.TcxAttachType == BpfSyscall.BPF_TCX_EGRESS ? TcDirection.Egress : TcDirection.Ingress;
        return new TcAttachment(link, (int)info.TcxInterfaceIndex, direction, info.ProgramId, path);
    }

    /// <summary>Pins the tcx link to a bpffs path, so the program stays attached after this process exits.</summary>
    /// <param name="path">A path in a mounted bpffs whose parent directory exists.</param>
    /// <remarks><see cref="Dispose"/> still detaches the program, and removes the pin.</remarks>
    /// <exception cref="InvalidOperationException">The attachment is not tcx, or is detached.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is not in a BPF filesystem.</exception>
    /// <exception cref="KernelOperationException">The path exists (EEXIST) or pinning failed otherwise.</exception>
    public void PinLink(string path)
    {
        BpfFileSystem.RequirePinPath(path);
        lock (_lock)
        {
            if (_link is null || _detached)
            {
                throw new InvalidOperationException(_detached
                    ? "The attachment is detached."
                    : "Only tcx attachments have a link to pin; a clsact filter persists by itself.");
            }

            using var lease = new FdLease(_link, _link.Fd);
            int result = LibBpf.ObjPin(lease.Fd, path);
            if (result < 0)
            {
                throw KernelErrors.FromResult("bpf_obj_pin", $"Pinning the tcx link of program {ProgramId} on interface {InterfaceIndex} at '{path}'", result);
            }

            LinkPinPath = path;
        }
    }

    /// <summary>Detaches the program (and removes the link pin or the qdisc we created, as described above). Idempotent.</summary>
    /// <exception cref="KernelOperationException">The kernel refused to detach; calling again retries.</exception>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_detached)
            {
                return;
            }

            if (_link is not null)
            {
                DetachTcx();
            }
            else
            {
                ThreadNetworkNamespace.Run(_namespace!, _namespaceIdentity, DetachClsact);
                _namespace!.Dispose();
            }

            _detached = true;
        }
    }

    /// <inheritdoc/>
    public override string ToString() => Mode == TcAttachMode.Tcx
        ? $"tcx {Direction.ToString().ToLowerInvariant()} on ifindex {InterfaceIndex}: program {ProgramId}"
        : $"clsact {Direction.ToString().ToLowerInvariant()} on ifindex {InterfaceIndex}: program {ProgramId} (handle 0x{FilterHandle:x}, priority {FilterPriority})";

    internal static TcAttachment Attach(BpfProgram program, int interfaceIndex, TcDirection direction, TcAttachMode mode)
    {
        ArgumentNullException.ThrowIfNull(program);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(interfaceIndex);
        uint programId = program.Id;
        using var lease = program.Lease();
        if (mode is TcAttachMode.Auto or TcAttachMode.Tcx)
        {
            uint attachType = direction == TcDirection.Ingress ? BpfSyscall.BPF_TCX_INGRESS : BpfSyscall.BPF_TCX_EGRESS;
            int fd = BpfSyscall.TcxLinkCreate(lease.Fd, interfaceIndex, attachType);
            if (fd >= 0)
            {
                return new TcAttachment(new SafeFdHandle(fd), interfaceIndex, direction, programId, linkPinPath: null);
            }

            int errno = -fd;
            bool noTcx = errno == Errno.EINVAL || Errno.IsNotSupported(errno);
            string subject = $"Attaching BPF program '{program.Name}' to tcx {direction.ToString().ToLowerInvariant()} of interface {interfaceIndex}";
            if (mode == TcAttachMode.Tcx || !noTcx)
            {
                if (noTcx && Environment.OSVersion.Version < TcxMinimumKernelVersion)
                {
                    throw KernelErrors.FeatureMissing("BPF_LINK_CREATE", subject, errno, "tcx", TcxMinimumKernelVersion, "use TcAttachMode.Auto or TcAttachMode.Clsact, or upgrade the kernel.");
                }

                throw KernelErrors.Create("BPF_LINK_CREATE", subject, errno);
            }
        }

        return AttachClsact(program, lease.Fd, programId, interfaceIndex, direction);
    }

    private static unsafe TcAttachment AttachClsact(BpfProgram program, int programFd, uint programId, int interfaceIndex, TcDirection direction)
    {
        string subject = $"Attaching BPF program '{program.Name}' to clsact {direction.ToString().ToLowerInvariant()} of interface {interfaceIndex}";
        var ns = ThreadNetworkNamespace.OpenCurrent();
        try
        {
            string identity = ThreadNetworkNamespace.IdentityOf(ns);
            var key = (identity, interfaceIndex);
            var hook = Hook(interfaceIndex, direction);
            using var capture = LibBpfLog.Begin();
            bool created;
            bool shares;
            lock (s_qdiscLock)
            {
                int result = LibBpf.TcHookCreate(&hook);
                if (result < 0 && result != -Errno.EEXIST)
                {
                    throw KernelErrors.FromResult("bpf_tc_hook_create", $"{subject}: creating its clsact qdisc", result, capture.Messages);
                }

                created = result == 0;
                if (created)
                {
                    s_ownedQdiscs[key] = 1;
                }
                else if (s_ownedQdiscs.TryGetValue(key, out int count))
                {
                    s_ownedQdiscs[key] = count + 1;
                }

                shares = s_ownedQdiscs.ContainsKey(key);
            }

            var options = new LibBpf.TcOptions { Size = (nuint)sizeof(LibBpf.TcOptions), ProgramFd = programFd };
            int attached = LibBpf.TcAttach(&hook, &options);
            if (attached < 0)
            {
                var failure = KernelErrors.FromResult("bpf_tc_attach", subject, attached, capture.Messages);
                if (shares)
                {
                    int released = ReleaseQdisc(key, interfaceIndex);
                    if (released < 0)
                    {
                        throw KernelErrors.FromResult(
                            "bpf_tc_attach",
                            $"{subject} (and removing the clsact qdisc we created failed too: {Errno.Name(-released)})",
                            attached,
                            capture.Messages);
                    }
                }

                throw failure;
            }

            return new TcAttachment(ns, identity, interfaceIndex, direction, programId, options.Handle, options.Priority, shares);
        }
        catch
        {
            ns.Dispose();
            throw;
        }
    }

    private static LibBpf.TcHook Hook(int interfaceIndex, TcDirection direction) => new()
    {
        Size = (nuint)System.Runtime.CompilerServices.Unsafe.SizeOf<LibBpf.TcHook>(),
        InterfaceIndex = interfaceIndex,
        AttachPoint = direction == TcDirection.Ingress ? LibBpf.TcIngress : LibBpf.TcEgress,
    };

    /// <summary>Drops one reference to a qdisc we created; removes it when unreferenced and empty.</summary>
    /// <returns>0, or a negative errno when removing it failed.</returns>
    private static unsafe int ReleaseQdisc((string Namespace, int InterfaceIndex) key, int interfaceIndex)
    {
        lock (s_qdiscLock)
        {
            if (!s_ownedQdiscs.TryGetValue(key, out int count))
            {
                return 0;
            }

            if (count > 1)
            {
                s_ownedQdiscs[key] = count - 1;
                return 0;
            }

            s_ownedQdiscs.Remove(key);
            int ingress = TcNetlink.CountFilters(interfaceIndex, TcNetlink.ClsactIngressParent);
            int egress = TcNetlink.CountFilters(interfaceIndex, TcNetlink.ClsactEgressParent);
            if (ingress < 0 || egress < 0)
            {
                int error = Math.Min(ingress, egress);
                return error is -Errno.ENODEV or -Errno.EINVAL or -Errno.ENOENT ? 0 : error;
            }

            if (ingress + egress > 0)
            {
                return 0; // someone else's filters live there now: the qdisc is theirs as much as ours
            }

            var hook = new LibBpf.TcHook
            {
                Size = (nuint)sizeof(LibBpf.TcHook),
                InterfaceIndex = interfaceIndex,
                AttachPoint = LibBpf.TcIngress | LibBpf.TcEgress,
            };
            int result = LibBpf.TcHookDestroy(&hook);
            return result is -Errno.ENOENT or -Errno.ENODEV or -Errno.EINVAL ? 0 : result;
        }
    }

    private void DetachTcx()
    {
        using (var lease = new FdLease(_link!, _link!.Fd))
        {
            int result = LibBpf.LinkDetach(lease.Fd);
            if (result < 0 && result is not (-Errno.ENOLINK or -Errno.ENOENT or -Errno.ENODEV))
            {
                throw KernelErrors.FromResult("bpf_link_detach", $"Detaching the tcx link of program {ProgramId} from interface {InterfaceIndex}", result);
            }
        }

        _link.Dispose();
        if (LinkPinPath is { } pin)
        {
            File.Delete(pin);
            LinkPinPath = null;
        }
    }

    private unsafe void DetachClsact()
    {
        string subject = $"Detaching BPF program {ProgramId} from clsact {Direction.ToString().ToLowerInvariant()} of interface {InterfaceIndex} (handle 0x{FilterHandle:x}, priority {FilterPriority})";
        var hook = Hook(InterfaceIndex, Direction);
        using var capture = LibBpfLog.Begin();
        var query = new LibBpf.TcOptions { Size = (nuint)sizeof(LibBpf.TcOptions), Handle = FilterHandle, Priority = FilterPriority };
        int result = LibBpf.TcQuery(&hook, &query);
        if (result == 0 && query.ProgramId == ProgramId)
        {
            var detach = new LibBpf.TcOptions { Size = (nuint)sizeof(LibBpf.TcOptions), Handle = FilterHandle, Priority = FilterPriority };
            result = LibBpf.TcDetach(&hook, &detach);
        }

        // Gone already (ENOENT: filter, EINVAL: qdisc, ENODEV: interface) or replaced by someone else: nothing of ours is left.
        if (result < 0 && result is not (-Errno.ENOENT or -Errno.EINVAL or -Errno.ENODEV))
        {
            throw KernelErrors.FromResult("bpf_tc_detach", subject, result, capture.Messages);
        }

        if (_sharesOwnedQdisc)
        {
            int released = ReleaseQdisc((_namespaceIdentity, InterfaceIndex), InterfaceIndex);
            if (released < 0)
            {
                throw KernelErrors.FromResult("bpf_tc_hook_destroy", $"{subject}: removing the clsact qdisc we created", released, capture.Messages);
            }
        }
    }
}
