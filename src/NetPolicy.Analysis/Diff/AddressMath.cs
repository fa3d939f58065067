using System.Net;
using System.Net.Sockets;
using NetPolicy.Compiler.Model;

namespace NetPolicy.Analysis.Diff;

/// <summary>Addresses as integers, and address ranges as CIDRs.</summary>
internal static class AddressMath
{
    public static int Bits(AddressFamily family) => family == AddressFamily.InterNetwork ? 32 : 128;

    public static UInt128 ToNumber(IPAddress address) => IPAddressBits.ToUInt128(address);

    public static IPAddress FromNumber(UInt128 value, AddressFamily family) => IPAddressBits.FromUInt128(value, family);

    /// <summary>The highest address of a family.</summary>
    public static UInt128 Max(AddressFamily family) => family == AddressFamily.InterNetwork ? uint.MaxValue : UInt128.MaxValue;

    /// <summary>The first and the last address of a network.</summary>
    public static (UInt128 Start, UInt128 Last) Range(IPNetwork network)
    {
        var family = network.BaseAddress.AddressFamily;
        var hostBits = Bits(family) - network.PrefixLength;
        var start = ToNumber(network.BaseAddress);
        return (start, hostBits >= 128 ? UInt128.MaxValue : start + ((UInt128.One << hostBits) - 1));
    }

    /// <summary>Splits <c>[start, last]</c> into the fewest CIDRs, in order.</summary>
    public static IEnumerable<IPNetwork> ToCidrs(UInt128 start, UInt128 last, AddressFamily family)
    {
        var bits = Bits(family);
        while (true)
        {
            // The largest block aligned at start that ends at or before last.
            var length = bits;
            while (length > 0)
            {
                var hostBits = bits - length + 1;
                if (hostBits >= 128)
                {
                    if (start == 0 && last == UInt128.MaxValue)
                    {
                        length--;
                    }

                    break;
                }

                var size = UInt128.One << hostBits;
                if ((start & (size - 1)) != 0 || last - start < size - 1)
                {
                    break;
                }

                length--;
            }

            yield return new IPNetwork(FromNumber(start, family), length);
            if (length == 0)
            {
                yield break;
            }

            var blockLast = start + ((UInt128.One << (bits - length)) - 1);
            if (blockLast >= last)
            {
                yield break;
            }

            start = blockLast + 1;
        }
    }
}
