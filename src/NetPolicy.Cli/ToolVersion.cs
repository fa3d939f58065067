using System.Reflection;

namespace NetPolicy.Cli;

/// <summary>The tool's version, for SARIF's <c>tool.driver.version</c>.</summary>
internal static class ToolVersion
{
    /// <summary>Gets the informational version without build metadata, or the assembly version.</summary>
    public static string Value { get; } = Read();

    private static string Read()
    {
        var assembly = typeof(ToolVersion).Assembly;
        var informational = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        if (informational is not null)
        {
            var plus = informational.IndexOf('+', StringComparison.Ordinal);
            return plus < 0 ? informational : informational[..plus];
        }

        return assembly.GetName().Version?.ToString() ?? "0.0.0";
    }
}
