using System.Buffers.Binary;

namespace NetPolicy.Loader.Lab;

/// <summary>Crafts and reads the SCTP INIT chunks the lab probes with (RFC 9260 §3.3.2), checksummed with CRC32c.</summary>
internal static class SctpPacket
{
    /// <summary>IPPROTO_SCTP.</summary>
    public const int Protocol = 132;

    private static readonly uint[] s_crcTable = BuildTable();

    /// <summary>Builds a common header and an INIT chunk whose initiate tag identifies the probe.</summary>
    public static byte[] Init(ushort sourcePort, ushort destinationPort, uint initiateTag)
    {
        var packet = new byte[12 + 20];
        var span = packet.AsSpan();
        BinaryPrimitives.WriteUInt16BigEndian(span, sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(span[2..], destinationPort);
        BinaryPrimitives.WriteUInt32BigEndian(span[4..], 0); // verification tag: 0 in INIT
        span[12] = 1; // chunk type INIT
        span[13] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(span[14..], 20);
        BinaryPrimitives.WriteUInt32BigEndian(span[16..], initiateTag);
        BinaryPrimitives.WriteUInt32BigEndian(span[20..], 65536); // a_rwnd
        BinaryPrimitives.WriteUInt16BigEndian(span[24..], 1); // outbound streams
        BinaryPrimitives.WriteUInt16BigEndian(span[26..], 1); // inbound streams
        BinaryPrimitives.WriteUInt32BigEndian(span[28..], initiateTag); // initial TSN
        BinaryPrimitives.WriteUInt32LittleEndian(span[8..], Crc32C(span));
        return packet;
    }

    /// <summary>Reads the initiate tag of an INIT packet (from the SCTP common header on).</summary>
    public static bool TryReadInitTag(ReadOnlySpan<byte> packet, out uint tag)
    {
        tag = 0;
        if (packet.Length < 20 || packet[12] != 1)
        {
            return false;
        }

        tag = BinaryPrimitives.ReadUInt32BigEndian(packet[16..]);
        return true;
    }

    /// <summary>CRC32c (Castagnoli, reflected 0x82F63B78) as SCTP uses it: stored little-endian.</summary>
    public static uint Crc32C(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc = s_crcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }

        return ~crc;
    }

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            var c = i;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0x82F63B78u ^ (c >> 1) : c >> 1;
            }

            table[i] = c;
        }

        return table;
    }
}
