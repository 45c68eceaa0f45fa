using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace GupConformance.Fixtures.LiveKernel;

/// <summary>One thing a live run changed: a setting with the value it had before, or a file it created.</summary>
public sealed record JournalEntry(JournalEntryKind Kind, string Path, string? Original)
{
    public override string ToString() => Kind == JournalEntryKind.Setting ? $"{Path} (was {Original})" : Path;
}

public enum JournalEntryKind
{
    Setting,
    File,
}

/// <summary>
/// The live run's write-ahead restore journal: before a live run changes a setting or creates a file it writes the
/// original value (or the file's path) here, and it removes the entry once it has put that thing back. A run that
/// dies without cleaning up (SIGKILL, a crash, a power cut) leaves the journal behind; the next live run, or
/// <c>gupconformance --live-restore</c>, replays it before anything else. One journal per machine, only ever touched
/// while holding the live runs' machine-wide lock.
/// </summary>
public sealed partial class LiveRestoreJournal
{
    /// <summary>Where the journal lives: a root-only folder that survives a reboot, because the data file it may name
    /// (under /var/tmp) does too.</summary>
    public const string DefaultPath = "/var/lib/gupconformance/live-restore.journal";

    private const string Header = "gupconformance-live-journal 1";
    private readonly List<JournalEntry> _entries = [];
    private readonly string _path;
    private readonly string _bootId;

    private LiveRestoreJournal(string path, string bootId)
    {
        _path = path;
        _bootId = bootId;
    }

    public string Path => _path;

    public IReadOnlyList<JournalEntry> Entries => _entries;

    /// <summary>A new, empty journal for this run (nothing is written until the first entry).</summary>
    public static LiveRestoreJournal Start(string path) => new(path, BootId());

    /// <summary>Records a setting before it is changed. Throws when the journal cannot be written: then the setting
    /// must not be changed either.</summary>
    public JournalEntry RecordSetting(string path, string original) => Add(new JournalEntry(JournalEntryKind.Setting, path, original));

    /// <summary>Records a file before it is created.</summary>
    public JournalEntry RecordFile(string path) => Add(new JournalEntry(JournalEntryKind.File, path, null));

    /// <summary>The entry's change was put back (or never happened): it leaves the journal; an empty journal is
    /// removed, with its folder when that is empty.</summary>
    public void Forget(JournalEntry entry)
    {
        if (_entries.Remove(entry))
        {
            Save();
        }
    }

    private JournalEntry Add(JournalEntry entry)
    {
        if (!IsRestorable(entry, out var why))
        {
            throw new ArgumentException($"the live restore journal does not take {entry}: {why}", nameof(entry));
        }

        _entries.Add(entry);
        Save();
        return entry;
    }

    /// <summary>Writes the journal whole, through a temporary file and a rename, so it is never seen half-written.</summary>
    private void Save()
    {
        if (_entries.Count == 0)
        {
            Remove(_path);
            return;
        }

        var dir = System.IO.Path.GetDirectoryName(_path)!;
        Directory.CreateDirectory(dir);
        var sb = new StringBuilder();
        sb.Append(Header).Append('\n');
        sb.Append("boot\t").Append(_bootId).Append('\n');
        sb.Append("pid\t").Append(Environment.ProcessId.ToString(CultureInfo.InvariantCulture)).Append('\n');
        foreach (var e in _entries)
        {
            sb.Append(e.Kind == JournalEntryKind.Setting ? $"set\t{e.Path}\t{e.Original}" : $"file\t{e.Path}").Append('\n');
        }

        var tmp = _path + ".tmp";
        using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            var bytes = Encoding.UTF8.GetBytes(sb.ToString());
            fs.Write(bytes);
            fs.Flush(flushToDisk: true);
        }

        File.Move(tmp, _path, overwrite: true);
    }

    /// <summary>
    /// Puts back everything a journal left by a dead run names, and removes the journal (only what could not be put
    /// back stays in it). Returns one line per entry saying what was done; empty when there was no journal. Call it
    /// only while holding the live lock.
    /// </summary>
    public static IReadOnlyList<string> ReplayLeftover(string path)
    {
        if (!File.Exists(path))
        {
            return [];
        }

        var lines = new List<string>();
        string[] text;
        try
        {
            text = File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [$"journal {path} could not be read ({e.Message}); remove it by hand after checking what it names"];
        }

        if (text.Length == 0 || text[0] != Header)
        {
            return [$"journal {path} is not a live restore journal (first line '{(text.Length == 0 ? string.Empty : text[0])}'); left as it is"];
        }

        var boot = text.FirstOrDefault(l => l.StartsWith("boot\t", StringComparison.Ordinal))?[5..] ?? string.Empty;
        var pid = text.FirstOrDefault(l => l.StartsWith("pid\t", StringComparison.Ordinal))?[4..] ?? "?";
        var rebooted = boot != BootId();
        var replay = new LiveRestoreJournal(path, BootId());
        lines.Add($"found the restore journal of an interrupted live run (pid {pid}{(rebooted ? ", before the last reboot" : string.Empty)}): {path}");
        // Newest first, as the run itself would have put things back.
        foreach (var entry in Parse(text.Skip(1)).Reverse())
        {
            if (entry is null)
            {
                continue;
            }

            if (!IsRestorable(entry, out var why))
            {
                lines.Add($"  ignored {entry}: {why}");
                continue;
            }

            if (entry.Kind == JournalEntryKind.Setting)
            {
                if (rebooted)
                {
                    // The kernel came up with its boot-time value; writing the old one now could undo an admin's change.
                    lines.Add($"  {entry.Path}: not touched, the machine was rebooted since (now {Read(entry.Path) ?? "absent"})");
                    continue;
                }

                var ok = TryWrite(entry.Path, entry.Original!);
                lines.Add($"  {entry.Path} restored to {entry.Original}: {(ok ? "ok" : "FAILED")} (now {Read(entry.Path) ?? "absent"})");
                if (!ok)
                {
                    replay._entries.Add(entry);
                }

                continue;
            }

            if (!File.Exists(entry.Path))
            {
                lines.Add($"  {entry.Path}: already gone");
                continue;
            }

            var removed = TryDelete(entry.Path);
            lines.Add($"  removed {entry.Path}: {(removed ? "ok" : "FAILED")}");
            if (!removed)
            {
                replay._entries.Add(entry);
            }
        }

        replay.Save();
        if (replay._entries.Count > 0)
        {
            lines.Add($"  {replay._entries.Count.ToString(CultureInfo.InvariantCulture)} entries could not be put back and stay in {path}");
        }

        return lines;
    }

    private static IEnumerable<JournalEntry?> Parse(IEnumerable<string> lines)
    {
        foreach (var line in lines)
        {
            var f = line.Split('\t');
            yield return f switch
            {
                ["set", var p, var v] => new JournalEntry(JournalEntryKind.Setting, p, v),
                ["file", var p] => new JournalEntry(JournalEntryKind.File, p, null),
                _ => null,
            };
        }
    }

    /// <summary>
    /// Only what a live run itself changes may be put back from a journal: the two kinds of knob it sets, to a plain
    /// value, and data files of its own naming that are regular files. A journal is a root-owned file, but replaying
    /// it writes kernel settings and deletes files, so it is checked like input.
    /// </summary>
    public static bool IsRestorable(JournalEntry entry, out string why)
    {
        if (entry.Kind == JournalEntryKind.Setting)
        {
            if (!KnobPath().IsMatch(entry.Path))
            {
                why = "not a setting a live run changes";
                return false;
            }

            if (entry.Original is null || !PlainValue().IsMatch(entry.Original))
            {
                why = "not a plain setting value";
                return false;
            }

            why = string.Empty;
            return true;
        }

        if (!DataFileName().IsMatch(System.IO.Path.GetFileName(entry.Path)) || !System.IO.Path.IsPathFullyQualified(entry.Path))
        {
            why = "not a live run's data file";
            return false;
        }

        var info = new FileInfo(entry.Path);
        if (info.Exists && info.LinkTarget is not null)
        {
            why = "a symbolic link, not the data file a live run creates";
            return false;
        }

        why = string.Empty;
        return true;
    }

    /// <summary>The data file a live run creates: gupconformance-live-PID-GUID.dat.</summary>
    public static string DataFileNameFor(int pid) => $"gupconformance-live-{pid.ToString(CultureInfo.InvariantCulture)}-{Guid.NewGuid():N}.dat";

    [GeneratedRegex(@"^(/proc/sys/vm/nr_hugepages|/sys/kernel/mm/transparent_hugepage/hugepages-[0-9]+kB/enabled)$")]
    private static partial Regex KnobPath();

    [GeneratedRegex(@"^[a-z0-9]{1,20}$")]
    private static partial Regex PlainValue();

    [GeneratedRegex(@"^gupconformance-live-[0-9]+-[0-9a-f]{32}\.dat$")]
    private static partial Regex DataFileName();

    private static string BootId() => Read("/proc/sys/kernel/random/boot_id") ?? "unknown";

    private static string? Read(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllText(path).Trim() : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static bool TryWrite(string path, string value)
    {
        try
        {
            File.WriteAllText(path, value);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static bool TryDelete(string path)
    {
        try
        {
            File.Delete(path);
            return !File.Exists(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Removes the journal, and its folder when nothing else is in it (the folder is the journal's own).</summary>
    private static void Remove(string path)
    {
        TryDelete(path);
        var dir = System.IO.Path.GetDirectoryName(path);
        try
        {
            if (dir is not null && Directory.Exists(dir) && !Directory.EnumerateFileSystemEntries(dir).Any())
            {
                Directory.Delete(dir);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A folder someone else put files into is theirs to keep.
        }
    }
}
