using GupConformance.Fixtures.LiveKernel;

namespace GupConformance.Tests.Live;

/// <summary>
/// The live run's restore journal on its own (no root needed): what it accepts, how a journal left by a dead run is
/// replayed, and that nothing of it stays behind once everything is put back. The replay of settings on a real
/// machine is shown by <see cref="LiveInterruptTests"/>.
/// </summary>
public sealed class LiveRestoreJournalTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("gupc-journal-").FullName;

    private string JournalPath => Path.Combine(_dir, "state", "live-restore.journal");

    private string DataFile(string name = "") => Path.Combine(_dir, name.Length > 0 ? name : LiveRestoreJournal.DataFileNameFor(4242));

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void An_entry_is_on_disk_before_the_change_and_gone_with_its_folder_after_it_is_forgotten()
    {
        var journal = LiveRestoreJournal.Start(JournalPath);
        Assert.False(File.Exists(JournalPath));

        var file = journal.RecordFile(DataFile());
        var knob = journal.RecordSetting("/proc/sys/vm/nr_hugepages", "0");
        var text = File.ReadAllText(JournalPath);
        Assert.StartsWith("gupconformance-live-journal 1\n", text, StringComparison.Ordinal);
        Assert.Contains($"file\t{file.Path}\n", text, StringComparison.Ordinal);
        Assert.Contains("set\t/proc/sys/vm/nr_hugepages\t0\n", text, StringComparison.Ordinal);

        journal.Forget(knob);
        Assert.DoesNotContain("nr_hugepages", File.ReadAllText(JournalPath), StringComparison.Ordinal);
        journal.Forget(file);
        Assert.False(File.Exists(JournalPath));
        Assert.False(Directory.Exists(Path.GetDirectoryName(JournalPath)));
    }

    [Theory]
    [InlineData("/etc/passwd", "0", "not a setting a live run changes")]
    [InlineData("/proc/sys/vm/overcommit_memory", "1", "not a setting a live run changes")]
    [InlineData("/sys/kernel/mm/transparent_hugepage/enabled", "never", "not a setting a live run changes")]
    [InlineData("/proc/sys/vm/nr_hugepages", "0; rm -rf /", "not a plain setting value")]
    [InlineData("/proc/sys/vm/nr_hugepages", "", "not a plain setting value")]
    public void Only_the_settings_a_live_run_changes_are_accepted(string path, string value, string why)
    {
        var journal = LiveRestoreJournal.Start(JournalPath);
        var e = Assert.Throws<ArgumentException>(() => journal.RecordSetting(path, value));
        Assert.Contains(why, e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(JournalPath));
        Assert.True(LiveRestoreJournal.IsRestorable(new JournalEntry(JournalEntryKind.Setting, "/sys/kernel/mm/transparent_hugepage/hugepages-64kB/enabled", "never"), out _));
    }

    [Fact]
    public void Only_data_files_of_a_live_runs_own_naming_are_accepted_and_never_a_symbolic_link()
    {
        var journal = LiveRestoreJournal.Start(JournalPath);
        Assert.Throws<ArgumentException>(() => journal.RecordFile("/etc/shadow"));
        Assert.Throws<ArgumentException>(() => journal.RecordFile("relative/" + LiveRestoreJournal.DataFileNameFor(1)));

        var victim = Path.Combine(_dir, "precious.txt");
        File.WriteAllText(victim, "keep me");
        var link = DataFile();
        File.CreateSymbolicLink(link, victim);
        Assert.False(LiveRestoreJournal.IsRestorable(new JournalEntry(JournalEntryKind.File, link, null), out var why));
        Assert.Contains("symbolic link", why, StringComparison.Ordinal);
    }

    [Fact]
    public void A_journal_left_by_a_dead_run_removes_its_files_and_then_itself()
    {
        var first = DataFile();
        var second = DataFile();
        File.WriteAllText(first, "data");
        var journal = LiveRestoreJournal.Start(JournalPath);
        journal.RecordFile(first);
        journal.RecordFile(second); // recorded, then the run died before creating it

        var lines = LiveRestoreJournal.ReplayLeftover(JournalPath);

        Assert.Contains("found the restore journal of an interrupted live run", lines[0], StringComparison.Ordinal);
        Assert.Contains(lines, l => l.Contains($"removed {first}: ok", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains($"{second}: already gone", StringComparison.Ordinal));
        Assert.False(File.Exists(first));
        Assert.False(File.Exists(JournalPath));
        Assert.Empty(LiveRestoreJournal.ReplayLeftover(JournalPath));
    }

    [Fact]
    public void After_a_reboot_a_journal_leaves_settings_alone_but_still_removes_files()
    {
        var data = DataFile();
        File.WriteAllText(data, "data");
        Directory.CreateDirectory(Path.GetDirectoryName(JournalPath)!);
        File.WriteAllText(JournalPath, $"gupconformance-live-journal 1\nboot\tsome-earlier-boot\npid\t77\nset\t/proc/sys/vm/nr_hugepages\t123\nfile\t{data}\n");

        var lines = LiveRestoreJournal.ReplayLeftover(JournalPath);

        Assert.Contains(lines, l => l.Contains("/proc/sys/vm/nr_hugepages: not touched, the machine was rebooted since", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains($"removed {data}: ok", StringComparison.Ordinal));
        Assert.Contains("pid 77, before the last reboot", lines[0], StringComparison.Ordinal);
        Assert.False(File.Exists(JournalPath));
    }

    [Fact]
    public void A_tampered_journal_entry_is_ignored_with_a_message_and_its_target_left_alone()
    {
        var victim = Path.Combine(_dir, "precious.txt");
        File.WriteAllText(victim, "keep me");
        Directory.CreateDirectory(Path.GetDirectoryName(JournalPath)!);
        File.WriteAllText(JournalPath, $"gupconformance-live-journal 1\nboot\tx\npid\t1\nfile\t{victim}\nset\t/etc/passwd\troot\ngarbage line\n");

        var lines = LiveRestoreJournal.ReplayLeftover(JournalPath);

        Assert.Contains(lines, l => l.Contains($"ignored {victim}: not a live run's data file", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("ignored /etc/passwd (was root): not a setting a live run changes", StringComparison.Ordinal));
        Assert.True(File.Exists(victim));
        Assert.False(File.Exists(JournalPath));
    }

    [Fact]
    public void A_file_that_is_not_a_journal_is_left_as_it_is()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(JournalPath)!);
        File.WriteAllText(JournalPath, "something else entirely\n");
        var lines = LiveRestoreJournal.ReplayLeftover(JournalPath);
        Assert.Contains("is not a live restore journal", Assert.Single(lines), StringComparison.Ordinal);
        Assert.True(File.Exists(JournalPath));
    }
}
