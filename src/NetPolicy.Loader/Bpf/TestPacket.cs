using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace NetPolicy.Loader.Bpf;

/// <summary>Crafts Ethernet frames for <c>BPF_PROG_TEST_RUN</c>: IPv4 or IPv6 with a TCP, UDP or SCTP header, or ARP.</summary>
public static class TestPacket
{
    /// <summary>IPPROTO_TCP.</summary>
    public const byte Tcp = 6;

    /// <summary>IPPROTO_UDP.</summary>
    public const byte Udp = 17;

    /// <summary>IPPROTO_SCTP.</summary>
    public const byte Sctp = 132;

    /// <summary>TCP SYN flag.</summary>
    public const byte TcpSyn = 0x02;

    /// <summary>TCP ACK flag.</summary>
    public const byte TcpAck = 0x10;

    /// <summary>Builds a frame.</summary>
    /// <param name="source">The source address.</param>
    /// <param name="destination">The destination address, of the same family.</param>
    /// <param name="protocol">The IP protocol number (6, 17, 132 get a transport header with ports; others get 8 zero bytes).</param>
    /// <param name="sourcePort">The source port.</param>
    /// <param name="destinationPort">The destination port.</param>
    /// <param name="tcpFlags">The TCP flags (default SYN).</param>
    /// <returns>The frame.</returns>
    /// <exception cref="ArgumentException">When the families differ.</exception>
    public static byte[] Build(IPAddress source, IPAddress destination, byte protocol, ushort sourcePort, ushort destinationPort, byte tcpFlags = TcpSyn)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(destination);
        if (source.AddressFamily != destination.AddressFamily)
        {
            throw new ArgumentException($"{source} and {destination} are of different families.", nameof(destination));
        }

        var v4 = source.AddressFamily == AddressFamily.InterNetwork;
        var transport = protocol switch { Tcp => 20, Udp => 8, Sctp => 12 + 20, _ => 8 };
        var ipHeader = v4 ? 20 : 40;
        var frame = new byte[14 + ipHeader + transport];
        var span = frame.AsSpan();

        // Ethernet: locally administered addresses.
        span[0] = 0x02;
        span[5] = 0x02;
        span[6] = 0x02;
        span[11] = 0x01;
        BinaryPrimitives.WriteUInt16BigEndian(span[12..], v4 ? (ushort)0x0800 : (ushort)0x86DD);
        var ip = span[14..];
        if (v4)
        {
            ip[0] = 0x45;
            BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(ipHeader + transport));
            ip[8] = 64;
            ip[9] = protocol;
            source.TryWriteBytes(ip[12..16], out _);
            destination.TryWriteBytes(ip[16..20], out _);
            BinaryPrimitives.WriteUInt16BigEndian(ip[10..], HeaderChecksum(ip[..20]));
        }
        else
        {
            ip[0] = 0x60;
            BinaryPrimitives.WriteUInt16BigEndian(ip[4..], (ushort)transport);
            ip[6] = protocol;
            ip[7] = 64;
            source.TryWriteBytes(ip[8..24], out _);
            destination.TryWriteBytes(ip[24..40], out _);
        }

        var l4 = span[(14 + ipHeader)..];
        if (protocol is Tcp or Udp or Sctp)
        {
            BinaryPrimitives.WriteUInt16BigEndian(l4, sourcePort);
            BinaryPrimitives.WriteUInt16BigEndian(l4[2..], destinationPort);
        }

        if (protocol == Tcp)
        {
            l4[12] = 0x50;
            l4[13] = tcpFlags;
            BinaryPrimitives.WriteUInt16BigEndian(l4[14..], 65535);
        }
        else if (protocol == Udp)
        {
            BinaryPrimitives.WriteUInt16BigEndian(l4[4..], (ushort)transport);
        }
        else if (protocol == Sctp)
        {
            l4[12] = 1; // INIT
            BinaryPrimitives.WriteUInt16BigEndian(l4[14..], 20);
        }

        return frame;
    }

    /// <summary>Builds an ARP request frame (not IP: the datapath lets it pass).</summary>
    /// <returns>The frame.</returns>
    public static byte[] Arp()
    {
        var frame = new byte[14 + 28];
        frame.AsSpan(0, 6).Fill(0xff);
        frame[6] = 0x02;
        frame[11] = 0x01;
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), 0x0806);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(14), 1);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(16), 0x0800);
        frame[18] = 6;
        frame[19] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(20), 1);
        return frame;
    }

    private static ushort HeaderChecksum(ReadOnlySpan<byte> header)
    {
        uint sum = 0;
        for (var i = 0; i < header.Length; i += 2)
        {
            sum += BinaryPrimitives.ReadUInt16BigEndian(header[i..]);
        }

        while (sum > 0xffff)
        {
            sum = (sum & 0xffff) + (sum >> 16);
        }

        return (ushort)~sum;
    }
}
