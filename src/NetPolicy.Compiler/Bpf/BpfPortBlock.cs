using System.Collections.Immutable;
using System.Globalization;
using System.Numerics;

namespace NetPolicy.Compiler.Bpf;

/// <summary>An aligned block of destination ports, as a policy key stores it: the first port and a prefix length.</summary>
/// <remarks>A block of prefix length <c>p</c> holds the 2^(16 − p) ports sharing the first <c>p</c> bits of
/// <see cref="Port"/>: length 16 is one port, length 0 every port. <see cref="Decompose"/> splits an inclusive range
/// into the fewest such blocks.</remarks>
/// <param name="Port">The first port of the block (its low 16 − <paramref name="PrefixLength"/> bits are zero).</param>
/// <param name="PrefixLength">The prefix length, 0–16.</param>
public readonly record struct BpfPortBlock(ushort Port, byte PrefixLength)
{
    /// <summary>Gets the first port.</summary>
    public int First => Port;

    /// <summary>Gets the last port, inclusive.</summary>
    public int Last => Port + (1 << (16 - PrefixLength)) - 1;

    /// <summary>Returns whether a port is in the block, as the datapath tests it (<c>port &amp; mask == Port</c>).</summary>
    /// <param name="port">The port.</param>
    /// <returns><see langword="true"/> when contained.</returns>
    public bool Contains(int port) => port >= First && port <= Last;

    /// <summary>Splits an inclusive port range into the fewest aligned blocks, in ascending order.</summary>
    /// <param name="first">The first port, 0–65535.</param>
    /// <param name="last">The last port, <paramref name="first"/>–65535.</param>
    /// <returns>Between 1 and <see cref="BpfConstants.MaxPortBlocks"/> disjoint blocks covering exactly the range;
    /// <c>[0, 65535]</c> is one block of length 0.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The range is empty or outside 0–65535.</exception>
    public static ImmutableArray<BpfPortBlock> Decompose(int first, int last)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(first);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(last, 65535);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(first, last);
        var blocks = ImmutableArray.CreateBuilder<BpfPortBlock>();
        var port = first;
        while (port <= last)
        {
            // The largest block starting at port: aligned to its size, and not past last.
            var size = 1 << 16;
            while ((port & (size - 1)) != 0 || port + size - 1 > last)
            {
                size >>= 1;
            }

            blocks.Add(new BpfPortBlock((ushort)port, (byte)(16 - BitOperations.Log2((uint)size))));
            port += size;
        }

        return blocks.DrainToImmutable();
    }

    /// <summary>Formats the block as <c>8080</c>, <c>8080-8095</c> or <c>*</c> (every port).</summary>
    /// <returns>The text.</returns>
    public override string ToString() =>
        PrefixLength == 0 ? "*" : PrefixLength == 16 ? First.ToString(CultureInfo.InvariantCulture) : string.Create(CultureInfo.InvariantCulture, $"{First}-{Last}");
}
