namespace GupConformance.Runner;

/// <summary>
/// The runner's output paths, checked before a run starts: a run whose report or trace cannot be written is bad
/// input (exit 2 at once), not a lost run. Nothing is created by a check; a probe file is removed again.
/// </summary>
public static class OutputPaths
{
    /// <summary>Why a report file cannot be written at <paramref name="path"/>, or null when it can.</summary>
    public static string? FileProblem(string option, string path)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            return $"{option} needs a file path (got an empty one)";
        }

        if (Directory.Exists(path))
        {
            var extension = option switch
            {
                "--report-json" => ".json",
                "--report-junit" => ".xml",
                _ => ".md",
            };
            return $"{option} {path} is a folder; name a file in it, e.g. {Path.Combine(path, "report" + extension)}";
        }

        var full = Path.GetFullPath(path);
        if (File.Exists(full))
        {
            try
            {
                using var _ = new FileStream(full, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
                return null;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return $"{option} {path} cannot be written: {e.Message}";
            }
        }

        return FolderProblem(option, Path.GetDirectoryName(full)!, path);
    }

    /// <summary>Why files cannot be written into the folder <paramref name="path"/> (created when missing), or null.</summary>
    public static string? DirectoryProblem(string option, string path)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            return $"{option} needs a folder path (got an empty one)";
        }

        var full = Path.GetFullPath(path);
        if (File.Exists(full))
        {
            return $"{option} {path} is a file, not a folder";
        }

        return FolderProblem(option, full, path);
    }

    /// <summary>The nearest existing folder at or above <paramref name="folder"/> must be a folder that takes a new file.</summary>
    private static string? FolderProblem(string option, string folder, string given)
    {
        var existing = folder;
        while (!Directory.Exists(existing))
        {
            if (File.Exists(existing))
            {
                return $"{option} {given} lies under {existing}, which is a file, not a folder";
            }

            var parent = Path.GetDirectoryName(existing);
            if (parent is null)
            {
                return $"{option} {given}: no folder of it exists";
            }

            existing = parent;
        }

        var probe = Path.Combine(existing, $".gupconformance-write-probe-{Guid.NewGuid():N}");
        try
        {
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose))
            {
            }

            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"{option} {given} cannot be written: nothing can be created in {existing} ({e.Message})";
        }
        finally
        {
            File.Delete(probe);
        }
    }
}
