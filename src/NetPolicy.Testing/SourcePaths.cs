namespace NetPolicy.Testing;

/// <summary>Resolves paths relative to the source file of the calling test.</summary>
internal static class SourcePaths
{
    /// <summary>Resolves <paramref name="path"/>: absolute as is; relative to the caller's source directory when it exists
    /// (also when a deterministic build mapped it to <c>/_/...</c>: then the longest tail of it found above the current or
    /// base directory); else relative to the current directory.</summary>
    public static string Resolve(string path, string callerFilePath)
    {
        if (Path.IsPathRooted(path))
        {
            return path;
        }

        var callerDirectory = string.IsNullOrEmpty(callerFilePath) ? null : Path.GetDirectoryName(callerFilePath);
        if (callerDirectory is not null)
        {
            if (Directory.Exists(callerDirectory))
            {
                return Path.GetFullPath(Path.Combine(callerDirectory, path));
            }

            // ContinuousIntegrationBuild maps source paths to /_/relative/dir: find the repository root above us.
            var relative = callerDirectory.Replace('\\', '/').TrimStart('/');
            if (relative.StartsWith("_/", StringComparison.Ordinal))
            {
                relative = relative[2..];
            }

            foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            {
                for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                {
                    var candidate = Path.Combine(dir.FullName, relative);
                    if (Directory.Exists(candidate))
                    {
                        return Path.GetFullPath(Path.Combine(candidate, path));
                    }
                }
            }
        }

        return Path.GetFullPath(path);
    }
}
