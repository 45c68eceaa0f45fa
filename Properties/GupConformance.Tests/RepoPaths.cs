namespace GupConformance.Tests;

/// <summary>
/// Finds files of the repository from a test run. It walks up from the test assembly's directory to the folder
/// holding GupConformance.sln, so it works however the build maps [CallerFilePath] (e.g. /_/ in CI builds).
/// </summary>
internal static class RepoPaths
{
    private static readonly Lazy<string> RootLazy = new(() => FindRoot());

    public static string Root => RootLazy.Value;

    public static string Of(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string FindRoot([System.Runtime.CompilerServices.CallerFilePath] string thisFile = "")
    {
        // The test assembly normally sits under the repository; with --artifacts-path it does not, and in CI builds
        // [CallerFilePath] is mapped to /_/, so each of the three is only a candidate.
        string?[] starts = [AppContext.BaseDirectory, Environment.CurrentDirectory, Path.GetDirectoryName(thisFile)];
        foreach (var start in starts.Where(s => !string.IsNullOrEmpty(s)))
        {
            for (var dir = new DirectoryInfo(start!); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "GupConformance.sln")))
                {
                    return dir.FullName;
                }
            }
        }

        throw new InvalidOperationException($"GupConformance.sln not found above {AppContext.BaseDirectory} or {Environment.CurrentDirectory}");
    }
}
