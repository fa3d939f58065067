using System.Globalization;

namespace NetPolicy.Benchmarks;

/// <summary>Options of the <c>generate</c>, <c>measure</c> and <c>verify</c> commands; the shape defaults to the 100k-pod one.</summary>
internal sealed record Options(SyntheticClusterShape Shape, int Seed, string? Out, int Incremental)
{
    public static Options Parse(ReadOnlySpan<string> args)
    {
        var shape = SyntheticClusterShape.Large;
        var seed = 1;
        string? output = null;
        var incremental = 20;
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            if (i + 1 >= args.Length)
            {
                throw new ArgumentException($"Option '{name}' needs a value.");
            }

            var value = args[++i];
            int Number() => int.Parse(value, NumberStyles.None, CultureInfo.InvariantCulture);
            switch (name)
            {
                case "--namespaces": shape = shape with { Namespaces = Number() }; break;
                case "--pods": shape = shape with { Pods = Number() }; break;
                case "--policies": shape = shape with { Policies = Number() }; break;
                case "--seed": seed = Number(); break;
                case "--out": output = value; break;
                case "--incremental": incremental = Number(); break;
                case "--shape":
                    shape = value switch
                    {
                        "small" or "1k" => SyntheticClusterShape.Small,
                        "medium" or "10k" => SyntheticClusterShape.Medium,
                        "large" or "100k" => SyntheticClusterShape.Large,
                        _ => throw new ArgumentException($"Unknown shape '{value}'; use small, medium or large."),
                    };
                    break;
                default:
                    throw new ArgumentException($"Unknown option '{name}'.");
            }
        }

        return new Options(shape, seed, output, incremental);
    }
}
