using NetPolicy.Compiler.Bpf;

namespace NetPolicy.Compiler.Tests.Bpf;

public sealed class BpfPortBlockTests
{
    public static TheoryData<int, int, string> Examples() => new()
    {
        { 80, 80, "80/16" },
        { 8080, 8095, "8080/12" },
        { 0, 65535, "0/0" },
        { 1024, 65535, "1024/6 2048/5 4096/4 8192/3 16384/2 32768/1" },
        { 1, 65535, "1/16 2/15 4/14 8/13 16/12 32/11 64/10 128/9 256/8 512/7 1024/6 2048/5 4096/4 8192/3 16384/2 32768/1" },
        { 80, 81, "80/15" },
        { 80, 481, "80/12 96/11 128/9 256/9 384/10 448/11 480/15" },
        { 65535, 65535, "65535/16" },
    };

    [Theory]
    [MemberData(nameof(Examples))]
    public void Decompose_KnownRange_GivesMinimalBlocks(int first, int last, string expected)
    {
        var blocks = BpfPortBlock.Decompose(first, last);

        Assert.Equal(expected, string.Join(' ', blocks.Select(b => $"{b.Port}/{b.PrefixLength}")));
        AssertExactCover(first, last, blocks);
    }

    [Fact]
    public void Decompose_WorstCase_NeedsThirtyBlocks()
    {
        Assert.Equal(BpfConstants.MaxPortBlocks, BpfPortBlock.Decompose(1, 65534).Length);
    }

    [Fact]
    public void Decompose_RandomRanges_AreDisjointAlignedExactAndFew()
    {
        var random = new Random(20240611);
        for (var i = 0; i < 20000; i++)
        {
            var a = random.Next(65536);
            var b = i % 4 == 0 ? Math.Min(65535, a + random.Next(64)) : random.Next(65536);
            var (first, last) = (Math.Min(a, b), Math.Max(a, b));

            AssertExactCover(first, last, BpfPortBlock.Decompose(first, last));
        }
    }

    [Fact]
    public void Decompose_EveryRangeOfSmallPorts_IsExactCover()
    {
        for (var first = 0; first < 300; first++)
        {
            for (var last = first; last < 300; last++)
            {
                AssertExactCover(first, last, BpfPortBlock.Decompose(first, last));
            }
        }
    }

    [Theory]
    [InlineData(-1, 5)]
    [InlineData(10, 9)]
    [InlineData(0, 65536)]
    public void Decompose_InvalidRange_Throws(int first, int last)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => BpfPortBlock.Decompose(first, last));
    }

    [Theory]
    [InlineData(8080, 16, "8080", 8080, 8080)]
    [InlineData(8080, 12, "8080-8095", 8080, 8095)]
    [InlineData(0, 0, "*", 0, 65535)]
    public void Block_FirstLastAndText(int port, int prefixLength, string text, int first, int last)
    {
        var block = new BpfPortBlock((ushort)port, (byte)prefixLength);

        Assert.Equal(text, block.ToString());
        Assert.Equal(first, block.First);
        Assert.Equal(last, block.Last);
    }

    /// <summary>The blocks are ascending, disjoint, aligned (as the datapath masks ports), cover exactly [first, last],
    /// and are no more than 30; and no two neighbours could merge into one aligned block (minimality).</summary>
    private static void AssertExactCover(int first, int last, IReadOnlyList<BpfPortBlock> blocks)
    {
        Assert.InRange(blocks.Count, 1, BpfConstants.MaxPortBlocks);
        var next = first;
        foreach (var block in blocks)
        {
            Assert.InRange(block.PrefixLength, 0, 16);
            Assert.Equal(next, block.First);
            var mask = block.PrefixLength == 0 ? 0 : (ushort)(0xffff << (16 - block.PrefixLength));
            Assert.Equal(block.Port, block.Port & mask);
            Assert.True(block.Contains(block.First) && block.Contains(block.Last) && !block.Contains(block.Last + 1));
            next = block.Last + 1;
        }

        Assert.Equal(last + 1, next);
        for (var i = 1; i < blocks.Count; i++)
        {
            var (a, b) = (blocks[i - 1], blocks[i]);
            var mergeable = a.PrefixLength == b.PrefixLength && a.PrefixLength > 0 && (a.Port & (1 << (16 - a.PrefixLength))) == 0;
            Assert.False(mergeable, $"[{first}, {last}]: {a} and {b} could be one block");
        }
    }
}
