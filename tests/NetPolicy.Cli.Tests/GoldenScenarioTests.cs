using System.Globalization;
using System.Text;
using NetPolicy.Compiler.Bpf;

namespace NetPolicy.Cli.Tests;

/// <summary>
/// Golden-file scenarios: each folder under <c>Scenarios/</c> holds an <c>input.yaml</c>, an optional <c>trace.args</c>
/// (one line of extra <c>netpol trace</c> arguments) and <c>expected/</c>, which must match, byte for byte, what
/// <c>netpol compile input.yaml -o DIR</c> writes (identities.json, ir.json, diagnostics.json, ruleset.nft, ipsets.restore, iptables.rules, ip6tables.rules and bpf/maps.json as bpf-maps.json,
/// or diagnostics.json alone when the compile fails; bpf/maps.bin must decode to the same images as bpf/maps.json), the standard output of <c>netpol matrix input.yaml --port 80 --protocol TCP --format json</c>
/// (matrix-tcp-80.json) and of <c>netpol trace input.yaml ARGS</c> (trace.txt).
/// </summary>
/// <remarks>
/// Run with <c>NETPOLICY_UPDATE_GOLDEN=1</c> to rewrite the expected files in the source tree, then review the diff.
/// The tool runs with the scenario folder as the current directory and the relative path <c>input.yaml</c>, so the
/// file names in diagnostics are the same on every machine; that is why these tests run in a non-parallel collection.
/// </remarks>
[Collection(GoldenScenarioGroup.Name)]
public sealed class GoldenScenarioTests
{
    private const string UpdateVariable = "NETPOLICY_UPDATE_GOLDEN";
    private const string InputFile = "input.yaml";
    private const string TraceArgsFile = "trace.args";
    private const string ExpectedFolder = "expected";
    private const string SolutionFile = "NetPolicy.Compiler.sln";
    private const int DiffContext = 3;
    private const int DiffMaxLines = 40;

    private static readonly string[] s_compileSuccessFiles = ["diagnostics.json", "identities.json", "ip6tables.rules", "ipsets.restore", "iptables.rules", "ir.json", "ruleset.nft"];
    private static readonly string[] s_compileFailureFiles = ["diagnostics.json"];
    private static readonly string[] s_bpfFiles = ["maps.bin", "maps.json"];

    // Environment.CurrentDirectory is process-wide: one scenario at a time.
    private static readonly Lock s_currentDirectoryLock = new();

    /// <summary>Gets the scenario folders copied next to the test assembly.</summary>
    public static string ScenariosRoot { get; } = Path.Combine(AppContext.BaseDirectory, "Scenarios");

    /// <summary>Gets the scenario names (folder names), in ordinal order.</summary>
    public static TheoryData<string> Scenarios
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (var name in ScenarioNames())
            {
                data.Add(name);
            }

            return data;
        }
    }

    [Fact]
    public void Scenarios_Folder_IsNotEmpty()
    {
        var names = ScenarioNames();

        Assert.True(names.Count > 0, $"no scenario folders under {ScenariosRoot}; is Scenarios/**/* copied to the output?");
        Assert.All(names, name => Assert.True(File.Exists(Path.Combine(ScenariosRoot, name, InputFile)), $"scenario {name} has no {InputFile}"));
    }

    [Theory]
    [MemberData(nameof(Scenarios))]
    public void Scenario_Outputs_MatchGoldenFiles(string scenario)
    {
        var actual = Produce(scenario);

        if (string.Equals(Environment.GetEnvironmentVariable(UpdateVariable), "1", StringComparison.Ordinal))
        {
            UpdateGolden(scenario, actual);
            return;
        }

        var expectedDirectory = Path.Combine(ScenariosRoot, scenario, ExpectedFolder);
        var expected = Directory.Exists(expectedDirectory)
            ? Directory.GetFiles(expectedDirectory).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes, StringComparer.Ordinal)
            : new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var problems = new StringBuilder();
        foreach (var name in actual.Keys.Union(expected.Keys, StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            if (!expected.TryGetValue(name, out var expectedBytes))
            {
                problems.Append(CultureInfo.InvariantCulture, $"expected/{name} is missing (the run produced it).\n");
            }
            else if (!actual.TryGetValue(name, out var actualBytes))
            {
                problems.Append(CultureInfo.InvariantCulture, $"expected/{name} exists but the run did not produce it.\n");
            }
            else if (!expectedBytes.AsSpan().SequenceEqual(actualBytes))
            {
                problems.Append(Diff($"Scenarios/{scenario}/expected/{name}", expectedBytes, actualBytes));
            }
        }

        if (problems.Length > 0)
        {
            Assert.Fail($"Scenario '{scenario}' differs from its golden files.\n{problems}" +
                $"If the change is intended, rerun with {UpdateVariable}=1 and review the diff of tests/NetPolicy.Cli.Tests/Scenarios/{scenario}/expected.");
        }
    }

    [Theory]
    [MemberData(nameof(Scenarios))]
    public void Scenario_CompiledTwice_IsByteIdentical(string scenario)
    {
        var first = Produce(scenario);
        var second = Produce(scenario);

        Assert.Equal(first.Keys, second.Keys);
        foreach (var (name, bytes) in first)
        {
            Assert.True(bytes.AsSpan().SequenceEqual(second[name]), Diff($"{scenario}: {name} (first run vs second run)", bytes, second[name]));
        }
    }

    private static List<string> ScenarioNames() =>
        Directory.Exists(ScenariosRoot)
            ? [.. Directory.GetDirectories(ScenariosRoot).Select(d => Path.GetFileName(d)).Order(StringComparer.Ordinal)]
            : [];

    /// <summary>Runs compile, matrix and (with trace.args) trace for a scenario and returns the outputs by golden file name.</summary>
    private static SortedDictionary<string, byte[]> Produce(string scenario)
    {
        var directory = Path.Combine(ScenariosRoot, scenario);
        using var temp = new TempDirectory();
        var outDirectory = Path.Combine(temp.Path, "out");
        var outputs = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        lock (s_currentDirectoryLock)
        {
            var previous = Environment.CurrentDirectory;
            Environment.CurrentDirectory = directory;
            try
            {
                var compile = Netpol.Run("compile", InputFile, "-o", outDirectory);
                var written = Directory.Exists(outDirectory)
                    ? Directory.GetFiles(outDirectory).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal).ToArray()
                    : [];
                foreach (var name in written)
                {
                    outputs[name] = File.ReadAllBytes(Path.Combine(outDirectory, name));
                }

                var traceArgs = ReadTraceArgs(directory);
                switch (compile.ExitCode)
                {
                    case 0:
                        Assert.True(written.SequenceEqual(s_compileSuccessFiles), $"compile exited 0 but wrote [{string.Join(", ", written)}]\n{compile}");
                        outputs["bpf-maps.json"] = ReadBpfImages(Path.Combine(outDirectory, "bpf"));
                        break;
                    case 1:
                        Assert.True(written.SequenceEqual(s_compileFailureFiles), $"compile exited 1 but wrote [{string.Join(", ", written)}]\n{compile}");
                        Assert.True(traceArgs is null, $"scenario {scenario} has {TraceArgsFile}, but its input does not compile\n{compile}");

                        // Matrix and trace refuse input with errors; there is nothing more to record.
                        return outputs;
                    default:
                        Assert.Fail($"compile exited {compile.ExitCode}\n{compile}");
                        break;
                }

                var matrix = Netpol.Run("matrix", InputFile, "--port", "80", "--protocol", "TCP", "--format", "json");
                Assert.True(matrix.ExitCode == 0, $"matrix failed\n{matrix}");
                outputs["matrix-tcp-80.json"] = Encoding.UTF8.GetBytes(matrix.Stdout);

                if (traceArgs is not null)
                {
                    var trace = Netpol.Run(["trace", InputFile, .. traceArgs]);
                    Assert.True(trace.ExitCode == 0, $"trace {string.Join(' ', traceArgs)} failed\n{trace}");
                    outputs["trace.txt"] = Encoding.UTF8.GetBytes(trace.Stdout);
                }
            }
            finally
            {
                Environment.CurrentDirectory = previous;
            }
        }

        return outputs;
    }

    /// <summary>Reads bpf/maps.json, after checking that bpf/maps.bin holds the same images.</summary>
    private static byte[] ReadBpfImages(string directory)
    {
        Assert.Equal(s_bpfFiles, Directory.GetFiles(directory).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal));
        var json = File.ReadAllBytes(Path.Combine(directory, "maps.json"));
        var binary = File.ReadAllBytes(Path.Combine(directory, "maps.bin"));
        var images = BpfMapImages.ReadBinary(new MemoryStream(binary));
        var decoded = JsonOutput.ToBytes(indented: true, images.WriteJson);
        Assert.True(json.AsSpan().SequenceEqual(decoded), Diff("bpf/maps.json vs. the JSON of bpf/maps.bin", json, decoded));
        return json;
    }

    private static string[]? ReadTraceArgs(string directory)
    {
        var path = Path.Combine(directory, TraceArgsFile);
        if (!File.Exists(path))
        {
            return null;
        }

        var lines = File.ReadAllLines(path).Where(l => !string.IsNullOrWhiteSpace(l)).ToList();
        Assert.True(lines.Count == 1, $"{path} must hold exactly one line of arguments; it has {lines.Count}.");
        return lines[0].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
    }

    private static void UpdateGolden(string scenario, SortedDictionary<string, byte[]> outputs)
    {
        var expectedDirectory = Path.Combine(FindSourceRoot(), "tests", "NetPolicy.Cli.Tests", "Scenarios", scenario, ExpectedFolder);
        Directory.CreateDirectory(expectedDirectory);
        foreach (var stale in Directory.GetFiles(expectedDirectory).Where(f => !outputs.ContainsKey(Path.GetFileName(f))))
        {
            File.Delete(stale);
        }

        foreach (var (name, bytes) in outputs)
        {
            var path = Path.Combine(expectedDirectory, name);
            if (!File.Exists(path) || !File.ReadAllBytes(path).AsSpan().SequenceEqual(bytes))
            {
                File.WriteAllBytes(path, bytes);
            }
        }
    }

    private static string FindSourceRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, SolutionFile)))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"{UpdateVariable}=1: no directory above {AppContext.BaseDirectory} contains {SolutionFile}, so the source tree's golden files cannot be found.");
    }

    /// <summary>Formats a unified-style diff of the first differing region, with line numbers.</summary>
    private static string Diff(string name, byte[] expected, byte[] actual)
    {
        var expectedLines = Encoding.UTF8.GetString(expected).Split('\n');
        var actualLines = Encoding.UTF8.GetString(actual).Split('\n');
        var first = 0;
        while (first < expectedLines.Length && first < actualLines.Length && expectedLines[first] == actualLines[first])
        {
            first++;
        }

        var expectedEnd = expectedLines.Length;
        var actualEnd = actualLines.Length;
        while (expectedEnd > first && actualEnd > first && expectedLines[expectedEnd - 1] == actualLines[actualEnd - 1])
        {
            expectedEnd--;
            actualEnd--;
        }

        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"--- {name} (expected)\n+++ {name} (actual)\n");
        if (first == expectedLines.Length && first == actualLines.Length)
        {
            sb.Append("(the texts are equal line by line; the bytes differ, for example in encoding or a byte-order mark)\n");
            return sb.ToString();
        }

        sb.Append(CultureInfo.InvariantCulture, $"@@ -{first + 1},{expectedEnd - first} +{first + 1},{actualEnd - first} @@ first difference at line {first + 1}\n");
        for (var i = Math.Max(0, first - DiffContext); i < first; i++)
        {
            AppendLine(sb, ' ', i, expectedLines[i]);
        }

        AppendRange(sb, '-', expectedLines, first, expectedEnd);
        AppendRange(sb, '+', actualLines, first, actualEnd);
        for (var i = expectedEnd; i < Math.Min(expectedLines.Length, expectedEnd + DiffContext); i++)
        {
            AppendLine(sb, ' ', i, expectedLines[i]);
        }

        return sb.ToString();
    }

    private static void AppendRange(StringBuilder sb, char marker, string[] lines, int start, int end)
    {
        var shown = Math.Min(end, start + DiffMaxLines);
        for (var i = start; i < shown; i++)
        {
            AppendLine(sb, marker, i, lines[i]);
        }

        if (end > shown)
        {
            sb.Append(CultureInfo.InvariantCulture, $"{marker} ... {end - shown} more line(s)\n");
        }
    }

    private static void AppendLine(StringBuilder sb, char marker, int index, string line) =>
        sb.Append(CultureInfo.InvariantCulture, $"{marker}{index + 1,5}: {line.Replace("\r", "\\r", StringComparison.Ordinal)}\n");
}

/// <summary>The golden scenarios change the process's current directory, so they run alone, after the parallel tests.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GoldenScenarioGroup
{
    /// <summary>The collection name.</summary>
    public const string Name = "Golden scenarios (current directory)";
}
