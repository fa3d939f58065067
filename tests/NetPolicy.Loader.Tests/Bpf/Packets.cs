using System.Buffers.Binary;

namespace NetPolicy.Loader.Tests.Bpf;

/// <summary>Hand-made Ethernet frames for BPF_PROG_TEST_RUN, addressed in 198.18.0.0/15.</summary>
internal static class Packets
{
    public static readonly byte[] Source = [198, 18, 0, 1];
    public static readonly byte[] Destination = [198, 18, 0, 2];

    /// <summary>An ARP who-has 198.18.0.2 from 198.18.0.1 (42 bytes).</summary>
    public static byte[] Arp()
    {
        byte[] frame = new byte[42];
        Ethernet(frame, 0x0806, broadcast: true);
        var arp = frame.AsSpan(14);
        BinaryPrimitives.WriteUInt16BigEndian(arp, 1);          // htype Ethernet
        BinaryPrimitives.WriteUInt16BigEndian(arp[2..], 0x0800); // ptype IPv4
        arp[4] = 6;
        arp[5] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(arp[6..], 1);     // request
        byte[] mac = [0x02, 0, 0, 0, 0, 0x01];
        mac.CopyTo(arp[8..]);
        Source.CopyTo(arp[14..]);
        Destination.CopyTo(arp[24..]);
        return frame;
    }

    /// <summary>An IPv4 TCP segment from 198.18.0.1 to 198.18.0.2 (54 bytes).</summary>
    public static byte[] Tcp(ushort sourcePort, ushort destinationPort, byte flags)
    {
        byte[] frame = new byte[54];
        Ethernet(frame, 0x0800, broadcast: false);
        var ip = frame.AsSpan(14, 20);
        ip[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], 40);
        BinaryPrimitives.WriteUInt16BigEndian(ip[6..], 0x4000); // DF
        ip[8] = 64;
        ip[9] = 6;
        Source.CopyTo(ip[12..]);
        Destination.CopyTo(ip[16..]);
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], Checksum(ip));
        var tcp = frame.AsSpan(34, 20);
        BinaryPrimitives.WriteUInt16BigEndian(tcp, sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(tcp[2..], destinationPort);
        BinaryPrimitives.WriteUInt32BigEndian(tcp[4..], 1);
        tcp[12] = 5 << 4;
        tcp[13] = flags;
        BinaryPrimitives.WriteUInt16BigEndian(tcp[14..], 65535);
        return frame;
    }

    /// <summary>::ffff:a.b.c.d, as the datapath stores IPv4 addresses.</summary>
    public static byte[] Mapped(byte[] ipv4) => [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, .. ipv4];

    private static void Ethernet(byte[] frame, ushort type, bool broadcast)
    {
        byte[] destination = broadcast ? [0xff, 0xff, 0xff, 0xff, 0xff, 0xff] : [0x02, 0, 0, 0, 0, 0x02];
        destination.CopyTo(frame, 0);
        new byte[] { 0x02, 0, 0, 0, 0, 0x01 }.CopyTo(frame, 6);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), type);
    }

    private static ushort Checksum(ReadOnlySpan<byte> header)
    {
        uint sum = 0;
        for (int i = 0; i < header.Length; i += 2)
        {
            sum += BinaryPrimitives.ReadUInt16BigEndian(header[i..]);
        }

        while (sum > 0xFFFF)
        {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }

        return (ushort)~sum;
    }
}
