using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace NetPolicy.Loader.Native;

/// <summary>
/// The one rtnetlink request libbpf 1.1 lacks: whether a clsact qdisc still holds any filter (RTM_GETTFILTER dump),
/// so the loader removes a qdisc it created only when nobody else uses it. Acts in the calling thread's namespace.
/// </summary>
internal static unsafe class TcNetlink
{
    private const ushort RTM_NEWTFILTER = 44;
    private const ushort RTM_GETTFILTER = 46;
    private const ushort NLMSG_ERROR = 2;
    private const ushort NLMSG_DONE = 3;
    private const ushort NLM_F_REQUEST = 0x1;
    private const ushort NLM_F_DUMP = 0x300;
    private const int NlMsgHeaderSize = 16;
    private const int TcMsgSize = 20;

    /// <summary>TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS).</summary>
    public const uint ClsactIngressParent = 0xFFFFFFF2;

    /// <summary>TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS).</summary>
    public const uint ClsactEgressParent = 0xFFFFFFF3;

    /// <summary>Counts the filter messages under a clsact parent; returns a negative errno on failure.</summary>
    public static int CountFilters(int interfaceIndex, uint parent)
    {
        int fd = LibC.Socket(LibC.AF_NETLINK, LibC.SOCK_RAW | LibC.SOCK_CLOEXEC, LibC.NETLINK_ROUTE);
        if (fd < 0)
        {
            return -Marshal.GetLastPInvokeError();
        }

        using var socket = new SafeFdHandle(fd);
        const uint Sequence = 1;
        byte* request = stackalloc byte[NlMsgHeaderSize + TcMsgSize];
        var span = new Span<byte>(request, NlMsgHeaderSize + TcMsgSize);
        span.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(span, (uint)span.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(span[4..], RTM_GETTFILTER);
        BinaryPrimitives.WriteUInt16LittleEndian(span[6..], NLM_F_REQUEST | NLM_F_DUMP);
        BinaryPrimitives.WriteUInt32LittleEndian(span[8..], Sequence);
        // struct tcmsg: family (AF_UNSPEC), pad, ifindex, handle, parent, info.
        BinaryPrimitives.WriteInt32LittleEndian(span[(NlMsgHeaderSize + 4)..], interfaceIndex);
        BinaryPrimitives.WriteUInt32LittleEndian(span[(NlMsgHeaderSize + 12)..], parent);

        byte* kernel = stackalloc byte[12]; // struct sockaddr_nl { AF_NETLINK, pad, pid 0, groups 0 }
        new Span<byte>(kernel, 12).Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(new Span<byte>(kernel, 2), LibC.AF_NETLINK);
        if (LibC.SendTo(socket.Fd, request, (nuint)span.Length, 0, kernel, 12) < 0)
        {
            return -Marshal.GetLastPInvokeError();
        }

        byte[] buffer = new byte[32768];
        int count = 0;
        fixed (byte* p = buffer)
        {
            while (true)
            {
                nint received = LibC.Receive(socket.Fd, p, (nuint)buffer.Length, 0);
                if (received < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno == Errno.EINTR)
                    {
                        continue;
                    }

                    return -errno;
                }

                var data = buffer.AsSpan(0, (int)received);
                while (data.Length >= NlMsgHeaderSize)
                {
                    int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(data);
                    ushort type = BinaryPrimitives.ReadUInt16LittleEndian(data[4..]);
                    if (length < NlMsgHeaderSize || length > data.Length)
                    {
                        return -Errno.EIO;
                    }

                    switch (type)
                    {
                        case NLMSG_DONE:
                            return count;
                        case NLMSG_ERROR:
                            int error = BinaryPrimitives.ReadInt32LittleEndian(data[NlMsgHeaderSize..]);
                            if (error != 0)
                            {
                                return error;
                            }

                            return count;
                        case RTM_NEWTFILTER:
                            count++;
                            break;
                    }

                    int aligned = (length + 3) & ~3;
                    data = data[Math.Min(aligned, data.Length)..];
                }
            }
        }
    }
}
