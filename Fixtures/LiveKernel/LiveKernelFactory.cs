using System.Globalization;
using GupConformance.Spec.Live;

namespace GupConformance.Fixtures.LiveKernel;

/// <summary>
/// The LiveKernel fixture: executes consumer-level commands on a running Linux kernel through the native
/// <c>livehelper</c> (one helper process per session) and reports what the kernel shows. The kernel is this
/// machine's, or a kernel under test booted in a VM (<see cref="InGuest"/>): the same probes, settings and sessions
/// through the guest's live agent. Probes the machine once; the settings it changes (the 64 KiB mTHP knob,
/// nr_hugepages) and the data file it creates are put back and removed on <see cref="Dispose"/>. On this machine they
/// are first written to the restore journal (<see cref="LiveRestoreJournal"/>), and a journal left by a run that died
/// is replayed before anything else; a VM ends with the run, so it needs neither journal nor lock.
/// </summary>
public sealed class LiveKernelFactory : ILiveKernelFactory
{
    private const string Mthp64Knob = "/sys/kernel/mm/transparent_hugepage/hugepages-64kB/enabled";
    private const string NrHugepages = "/proc/sys/vm/nr_hugepages";
    private const string ThpDir = "/sys/kernel/mm/transparent_hugepage";
    private readonly List<(string Path, string Value, JournalEntry? Entry)> _restore = [];
    private readonly List<string> _cleanup = [];
    private readonly List<LiveSession> _sessions = [];
    private readonly Lock _sync = new();
    private readonly ILiveMachine _machine;
    private readonly CancellationToken _cancel;
    private readonly LiveRestoreJournal? _journal;
    private string? _dataFile;
    private JournalEntry? _dataFileEntry;
    private bool _dataFileCreated;
    private IDisposable? _lock;
    private bool _disposed;
    private bool _aborted;

    /// <summary>The machine-wide lock that serialises live runs (<see cref="LiveLock"/>).</summary>
    public const string LockName = LiveLock.Name;

    public LiveEnvironment Environment { get; }

    public IReadOnlyList<string> CleanupReport
    {
        get
        {
            lock (_sync)
            {
                return [.. _cleanup];
            }
        }
    }

    /// <summary>What was put back from a journal left by an earlier live run that died (empty when there was none).</summary>
    public IReadOnlyList<string> RestoredAtStart { get; } = [];

    /// <summary>The data file the sessions read and write with O_DIRECT (on the machine under test).</summary>
    public string? DataFile => _dataFile;

    /// <param name="useHugetlb">Reserve a small hugetlb pool (nr_hugepages += <paramref name="hugetlbPages"/>) for the run.</param>
    /// <param name="useMthp">Set hugepages-64kB/enabled to madvise for the run.</param>
    /// <param name="assumeNotRoot">Probe as if the process were not root (to show the Not applicable path).</param>
    /// <param name="journalPath">The restore journal (<see cref="LiveRestoreJournal.DefaultPath"/> unless given).</param>
    /// <param name="cancel">Stops waiting for the lock and refuses new sessions (an interrupted run).</param>
    public LiveKernelFactory(bool useHugetlb = true, bool useMthp = true, int hugetlbPages = 4, string? helperPath = null, bool assumeNotRoot = false,
        string? journalPath = null, CancellationToken cancel = default)
        : this(new HostMachine(helperPath ?? Path.Combine(AppContext.BaseDirectory, "livehelper")), useHugetlb, useMthp, hugetlbPages, assumeNotRoot, journalPath, cancel)
    {
    }

    /// <summary>
    /// The live fixture on a kernel under test: <paramref name="guest"/> is a VM booted with the live agent
    /// (<see cref="LiveGuest.Boot"/>). The factory owns it from here: <see cref="Dispose"/> puts the guest's settings
    /// back and shuts the VM down, <see cref="Abort"/> kills it.
    /// </summary>
    public static LiveKernelFactory InGuest(LiveGuest guest, bool useHugetlb = true, bool useMthp = true, int hugetlbPages = 4, CancellationToken cancel = default) =>
        new(guest, useHugetlb, useMthp, hugetlbPages, assumeNotRoot: false, journalPath: null, cancel);

    private LiveKernelFactory(ILiveMachine machine, bool useHugetlb, bool useMthp, int hugetlbPages, bool assumeNotRoot, string? journalPath, CancellationToken cancel)
    {
        _cancel = cancel;
        _machine = machine;
        var release = ReadTrim("/proc/sys/kernel/osrelease") ?? "unknown";
        var why = Unavailable(assumeNotRoot);
        if (why is null && !machine.Throwaway && !TakeLock())
        {
            why = cancel.IsCancellationRequested ? "interrupted while waiting for another live run to finish" : $"another live run held the lock (@{LockName}) for 5 minutes";
        }

        if (why is not null)
        {
            Environment = LiveEnvironment.NotApplicable(release, why);
            return;
        }

        if (!machine.Throwaway)
        {
            journalPath ??= LiveRestoreJournal.DefaultPath;
            RestoredAtStart = LiveRestoreJournal.ReplayLeftover(journalPath);
            _journal = LiveRestoreJournal.Start(journalPath);
        }

        var missing = new Dictionary<string, string>(StringComparer.Ordinal);
        var probes = new List<KeyValuePair<string, string>> { new("kernel", release) };
        _dataFile = CreateDataFile(out var dioWhy, probes);
        if (_dataFile is null)
        {
            Environment = LiveEnvironment.NotApplicable(release, dioWhy);
            return;
        }

        var pageSize = int.Parse(probes.First(p => p.Key == "page size").Value.Split(' ')[0], CultureInfo.InvariantCulture);
        if (pageSize != 4096)
        {
            Environment = LiveEnvironment.NotApplicable(release, $"the page size is {pageSize.ToString(CultureInfo.InvariantCulture)} bytes; the live model and its helper count 4 KiB pages");
            return;
        }

        var zeroPage = probes.First(p => p.Key == "zero page on read fault").Value.StartsWith("yes", StringComparison.Ordinal);

        var thp = ReadTrim($"{ThpDir}/enabled") ?? string.Empty;
        var thp2m = ReadTrim($"{ThpDir}/hugepages-2048kB/enabled") ?? "inherit";
        probes.Add(new("THP enabled", thp.Length == 0 ? "no THP (no transparent_hugepage in sysfs)" : Selected(thp)));
        probes.Add(new("THP defrag", ReadTrim($"{ThpDir}/defrag") is { } defrag ? Selected(defrag) : "absent"));
        var hasThp = (thp.Contains("[always]", StringComparison.Ordinal) || thp.Contains("[madvise]", StringComparison.Ordinal))
            && !thp2m.Contains("[never]", StringComparison.Ordinal);
        if (!hasThp)
        {
            missing["thp"] = $"THP is off (enabled: {thp}; 2048kB: {thp2m})";
        }

        probes.Add(new("mTHP sizes", MthpSizes()));
        var hasMthp = false;
        var mthp = ReadTrim(Mthp64Knob);
        if (!useMthp)
        {
            missing["mthp"] = "64 KiB mTHP not requested";
        }
        else if (mthp is null)
        {
            missing["mthp"] = "no hugepages-64kB knob (kernel without mTHP)";
        }
        else if (!hasThp && !thp.Contains("[madvise]", StringComparison.Ordinal) && !thp.Contains("[always]", StringComparison.Ordinal))
        {
            missing["mthp"] = "THP disabled globally";
        }
        else if (mthp.Contains("[madvise]", StringComparison.Ordinal) || mthp.Contains("[always]", StringComparison.Ordinal))
        {
            hasMthp = true;
        }
        else if (Change(Mthp64Knob, Selected(mthp), "madvise"))
        {
            hasMthp = (ReadTrim(Mthp64Knob) ?? string.Empty).Contains("[madvise]", StringComparison.Ordinal);
            probes.Add(new("64kB mTHP", $"{Selected(mthp)}, set to madvise for the run"));
        }

        if (useMthp && !hasMthp && !missing.ContainsKey("mthp"))
        {
            missing["mthp"] = "could not set hugepages-64kB/enabled to madvise";
        }

        var pool = 0;
        if (!useHugetlb)
        {
            missing["hugetlb"] = "hugetlb not requested";
        }
        else if (ReadTrim(NrHugepages) is { } nrText && long.TryParse(nrText, CultureInfo.InvariantCulture, out var nr))
        {
            var original = nr.ToString(CultureInfo.InvariantCulture);
            if (Change(NrHugepages, original, (nr + hugetlbPages).ToString(CultureInfo.InvariantCulture)))
            {
                var free = MeminfoValue("HugePages_Free") - MeminfoValue("HugePages_Rsvd");
                pool = (int)Math.Clamp(free, 0, hugetlbPages);
                probes.Add(new("hugetlb pool", $"nr_hugepages {original}, raised by {hugetlbPages.ToString(CultureInfo.InvariantCulture)} for the run; {pool.ToString(CultureInfo.InvariantCulture)} free for it"));
                if (pool < hugetlbPages)
                {
                    missing["hugetlb"] = $"only {pool.ToString(CultureInfo.InvariantCulture)} of {hugetlbPages.ToString(CultureInfo.InvariantCulture)} huge pages could be reserved";
                    if (pool < 2)
                    {
                        pool = 0;
                    }
                }
            }
            else
            {
                missing["hugetlb"] = "nr_hugepages is not writable";
            }
        }
        else
        {
            missing["hugetlb"] = "no /proc/sys/vm/nr_hugepages (kernel without hugetlb)";
        }

        probes.Add(new("KSM", ReadTrim("/sys/kernel/mm/ksm/run") switch
        {
            null => "not built in",
            "0" => "stopped",
            var run => $"run={run} (the helper never marks its regions MADV_MERGEABLE, so KSM does not merge them)",
        }));
        probes.Add(new("io_uring", $"kernel.io_uring_disabled = {ReadTrim("/proc/sys/kernel/io_uring_disabled") ?? "absent (always enabled)"}"));
        Environment = new LiveEnvironment(release, true, null, hasThp, hasMthp, pool, missing)
        {
            ZeroPageOnRead = zeroPage,
            PageSize = pageSize,
            Probes = probes,
        };
    }

    /// <summary>Journals a setting's original value, then changes it; false (and nothing journalled) when the write fails.</summary>
    private bool Change(string path, string original, string value)
    {
        var entry = _journal?.RecordSetting(path, original);
        if (!_machine.Write(path, value))
        {
            if (entry is not null)
            {
                _journal!.Forget(entry);
            }

            return false;
        }

        lock (_sync)
        {
            _restore.Add((path, original, entry));
        }

        return true;
    }

    /// <summary>"16kB never, 32kB never, 64kB madvise, …": every mTHP size the kernel offers with its setting.</summary>
    private string MthpSizes()
    {
        if (_machine.List(ThpDir) is not { } names)
        {
            return "none";
        }

        var sizes = names.Where(n => n.StartsWith("hugepages-", StringComparison.Ordinal) && n.EndsWith("kB", StringComparison.Ordinal))
            .Select(n => (Kb: int.TryParse(n["hugepages-".Length..^2], CultureInfo.InvariantCulture, out var kb) ? kb : 0, Dir: $"{ThpDir}/{n}"))
            .OrderBy(x => x.Kb)
            .Select(x => $"{x.Kb.ToString(CultureInfo.InvariantCulture)}kB {(ReadTrim(Path.Combine(x.Dir, "enabled")) is { } knob ? Selected(knob) : "(shmem only)")}")
            .ToList();
        return sizes.Count == 0 ? "none (a kernel before mTHP)" : string.Join(", ", sizes);
    }

    /// <summary>Live runs on one machine take turns: the counters they read are global.</summary>
    private bool TakeLock()
    {
        _lock = LiveLock.Take(TimeSpan.FromMinutes(5), _cancel);
        return _lock is not null;
    }

    private string? Unavailable(bool assumeNotRoot)
    {
        if (_machine.Unavailable(assumeNotRoot) is { } why)
        {
            return why;
        }

        if (!_machine.Exists("/proc/sys/vm/stat_refresh"))
        {
            return "no /proc/sys/vm/stat_refresh";
        }

        if (!_machine.Exists("/proc/kpageflags"))
        {
            return "no /proc/kpageflags (CONFIG_PROC_PAGE_MONITOR off)";
        }

        if (!(ReadTrim("/proc/vmstat") ?? string.Empty).Contains("nr_foll_pin_acquired", StringComparison.Ordinal))
        {
            return "the kernel has no nr_foll_pin_acquired counter (older than 5.7)";
        }

        if (ReadTrim("/proc/sys/kernel/io_uring_disabled") is { } d && d != "0")
        {
            return $"io_uring is disabled (kernel.io_uring_disabled = {d})";
        }

        return null;
    }

    /// <summary>The process runs with user id 0 (the live run needs root for stat_refresh and the knobs it sets).</summary>
    public static bool IsRoot()
    {
        var status = File.Exists("/proc/self/status") ? File.ReadAllText("/proc/self/status") : string.Empty;
        var line = status.Split('\n').FirstOrDefault(l => l.StartsWith("Uid:", StringComparison.Ordinal));
        return line is not null && line.Split('\t', StringSplitOptions.RemoveEmptyEntries).ElementAtOrDefault(2) == "0";
    }

    /// <summary>A 2 MiB file in the first directory whose file system takes O_DIRECT (tmpfs does not); the helper
    /// started on it also probes the page size and what a read fault maps.</summary>
    private string? CreateDataFile(out string why, List<KeyValuePair<string, string>> probes)
    {
        why = "no directory with O_DIRECT support found";
        foreach (var place in _machine.DataPlaces)
        {
            var path = place.Path;
            var dir = Path.GetDirectoryName(path) ?? "/";
            if (!_machine.Exists(place.Create ? dir : path))
            {
                continue;
            }

            JournalEntry? entry = null;
            try
            {
                entry = place.Create ? _journal?.RecordFile(path) : null;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                why = $"the restore journal {_journal!.Path} cannot be written ({e.Message}); a live run changes nothing it could not put back";
                return null;
            }

            try
            {
                if (place.Create)
                {
                    _machine.CreateFile(path, 2 << 20);
                }

                using var probe = Start(path);
                if (probe.Ready.Contains("dio=1", StringComparison.Ordinal))
                {
                    var found = probe.Probe();
                    probes.Add(new("page size", $"{found.GetValueOrDefault("pagesize", "?")} bytes"));
                    probes.Add(new("zero page on read fault", found.GetValueOrDefault("zero") == "1"
                        ? "yes (a read of a fresh private page maps the zero page: kpageflags ZERO_PAGE)"
                        : $"no (a read of a fresh private page maps page state '{found.GetValueOrDefault("st", "?")}', not the zero page)"));
                    probes.Add(new("O_DIRECT file", place.Create ? path : $"{path} (a block device, used as it is)"));
                    _dataFileEntry = entry;
                    _dataFileCreated = place.Create;
                    lock (_sync)
                    {
                        _cleanup.Add($"{(place.Create ? "created" : "used")} {path}{(_machine.Throwaway ? $" in {_machine.Name}" : string.Empty)}");
                    }

                    return path;
                }

                why = $"{dir}: O_DIRECT open failed";
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                why = $"{dir}: {e.Message}";
            }

            if (place.Create)
            {
                _machine.Delete(path);
            }

            if (entry is not null)
            {
                _journal!.Forget(entry);
            }
        }

        return null;
    }

    private LiveSession Start(string dataFile) => new(_machine.StartHelper(dataFile));

    public ILiveKernel Create()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!Environment.Available || _dataFile is null)
        {
            throw new InvalidOperationException($"live kernel not available: {Environment.NotApplicableReason}");
        }

        lock (_sync)
        {
            if (_aborted || _cancel.IsCancellationRequested)
            {
                throw new OperationCanceledException("the live run was interrupted");
            }

            _sessions.RemoveAll(s => s.Exited);
            var session = Start(_dataFile);
            _sessions.Add(session);
            return session;
        }
    }

    /// <summary>
    /// Ends every helper process at once and refuses new sessions: what an interrupted run does first, so that no
    /// command is left running while the settings are put back (a command waiting on a helper fails at once).
    /// </summary>
    public void Abort()
    {
        lock (_sync)
        {
            _aborted = true;
            foreach (var s in _sessions)
            {
                s.Abort();
            }

            if (_machine is LiveGuest guest)
            {
                guest.Abort();
            }
        }
    }

    public long OutstandingPins()
    {
        _machine.Write("/proc/sys/vm/stat_refresh", "1");
        var text = _machine.Read("/proc/vmstat") ?? throw new InvalidOperationException($"/proc/vmstat of {_machine.Name} cannot be read");
        return VmstatValue(text, "nr_foll_pin_acquired") - VmstatValue(text, "nr_foll_pin_released");
    }

    /// <summary>Puts back every setting (newest first) and removes the data file, each one leaving the journal as it
    /// is done; safe to call from a signal handler's thread while the run's thread is still unwinding.</summary>
    public void Dispose()
    {
        lock (_sync)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            foreach (var s in _sessions)
            {
                if (_aborted)
                {
                    s.Abort();
                }
            }

            if (_machine.Throwaway && !_machine.Alive)
            {
                // A VM that died or was stopped took its settings and files with it.
                _cleanup.Add($"{_machine.Name} had already ended: nothing of the run is left");
            }
            else
            {
                PutBack();
            }

            if (_journal is { Entries.Count: > 0 })
            {
                _cleanup.Add($"FAILED to put back {string.Join(", ", _journal.Entries)}: left in {_journal.Path} for `gupconformance --live-restore`");
            }

            _lock?.Dispose();
            _lock = null;
            if (_machine.Throwaway)
            {
                _machine.Dispose();
                _cleanup.Add($"{_machine.Name} shut down");
            }
        }
    }

    /// <summary>Every setting back to its value (newest first), the data file removed; each leaves the journal as it
    /// is done.</summary>
    private void PutBack()
    {
        foreach (var (path, value, entry) in Enumerable.Reverse(_restore))
        {
            var ok = _machine.Write(path, value);
            var now = ReadTrim(path) ?? "?";
            _cleanup.Add($"{path} restored to {value}: {(ok ? "ok" : "FAILED")} (now {now})");
            if (ok && entry is not null)
            {
                _journal!.Forget(entry);
            }
        }

        if (_dataFile is not null && _dataFileCreated)
        {
            _machine.Delete(_dataFile);
            var gone = !_machine.Exists(_dataFile);
            _cleanup.Add($"removed {_dataFile}: {(gone ? "ok" : "FAILED")}");
            if (gone && _dataFileEntry is not null)
            {
                _journal!.Forget(_dataFileEntry);
            }
        }
    }

    private static long VmstatValue(string text, string key)
    {
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith(key + " ", StringComparison.Ordinal))
            {
                return long.Parse(line[(key.Length + 1)..], CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    private long MeminfoValue(string key)
    {
        foreach (var line in (ReadTrim("/proc/meminfo") ?? string.Empty).Split('\n'))
        {
            if (line.StartsWith(key + ":", StringComparison.Ordinal))
            {
                return long.Parse(line[(key.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    /// <summary>"always inherit madvise [never]" → "never".</summary>
    private static string Selected(string knob)
    {
        var start = knob.IndexOf('[', StringComparison.Ordinal);
        var end = knob.IndexOf(']', StringComparison.Ordinal);
        return start >= 0 && end > start ? knob[(start + 1)..end] : knob;
    }

    private string? ReadTrim(string path) => _machine.Read(path)?.Trim();
}
