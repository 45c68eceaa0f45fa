using System.Globalization;

namespace GupConformance.Tests;

/// <summary>
/// Reads other processes' /proc entries for the tests that check no process was left behind. Any process may end
/// between the listing of /proc and the read of one of its files (the read then fails with ESRCH, "No such process",
/// or finds the file gone): such a process counts as ended, never as an error of the test.
/// </summary>
internal static class ProcFs
{
    /// <summary>The pids listed in /proc now.</summary>
    public static IEnumerable<int> Pids() => Directory.GetDirectories("/proc")
        .Select(d => int.TryParse(Path.GetFileName(d), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : -1)
        .Where(pid => pid > 0);

    /// <summary>The text of /proc/<paramref name="pid"/>/<paramref name="file"/>, or null when the process has ended.</summary>
    public static string? Read(int pid, string file)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/{file}");
        }
        catch (IOException)
        {
            return null;
        }
    }
}
