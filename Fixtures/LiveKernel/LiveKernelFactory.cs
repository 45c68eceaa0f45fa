using System.Diagnostics;
using System.Globalization;
using GupConformance.Spec.Live;

namespace GupConformance.Fixtures.LiveKernel;

/// <summary>
/// The LiveKernel fixture: executes consumer-level commands on the running Linux kernel through the native
/// <c>livehelper</c> (one helper process per session) and reports what the kernel shows. Probes the machine once;
/// the settings it changes (the 64 KiB mTHP knob, nr_hugepages) and the data file it creates are put back and
/// removed on <see cref="Dispose"/>.
/// </summary>
public sealed class LiveKernelFactory : ILiveKernelFactory
{
    private const string Mthp64Knob = "/sys/kernel/mm/transparent_hugepage/hugepages-64kB/enabled";
    private const string NrHugepages = "/proc/sys/vm/nr_hugepages";
    private readonly List<(string Path, string Value)> _restore = [];
    private readonly List<string> _cleanup = [];
    private readonly string? _helper;
    private string? _dataFile;
    private System.Net.Sockets.Socket? _lock;
    private bool _disposed;

    /// <summary>The machine-wide lock that serialises live runs (the pin counters are global): an abstract Unix socket
    /// name, so no file is left behind and a crashed run releases it.</summary>
    public const string LockName = "gupconformance-live-kernel";

    public LiveEnvironment Environment { get; }

    public IReadOnlyList<string> CleanupReport => _cleanup;

    /// <summary>The helper's path, the data file, and what was found.</summary>
    public string? HelperPath => _helper;

    public string? DataFile => _dataFile;

    /// <param name="useHugetlb">Reserve a small hugetlb pool (nr_hugepages += <paramref name="hugetlbPages"/>) for the run.</param>
    /// <param name="useMthp">Set hugepages-64kB/enabled to madvise for the run.</param>
    /// <param name="assumeNotRoot">Probe as if the process were not root (to show the Not applicable path).</param>
    public LiveKernelFactory(bool useHugetlb = true, bool useMthp = true, int hugetlbPages = 4, string? helperPath = null, bool assumeNotRoot = false)
    {
        var release = ReadTrim("/proc/sys/kernel/osrelease") ?? "unknown";
        _helper = helperPath ?? Path.Combine(AppContext.BaseDirectory, "livehelper");
        var why = Unavailable(assumeNotRoot);
        if (why is null && !TakeLock())
        {
            why = $"another live run held the lock (@{LockName}) for 5 minutes";
        }

        if (why is not null)
        {
            Environment = LiveEnvironment.NotApplicable(release, why);
            return;
        }

        var missing = new Dictionary<string, string>(StringComparer.Ordinal);
        _dataFile = CreateDataFile(out var dioWhy);
        if (_dataFile is null)
        {
            Environment = LiveEnvironment.NotApplicable(release, dioWhy);
            return;
        }

        var thp = ReadTrim("/sys/kernel/mm/transparent_hugepage/enabled") ?? string.Empty;
        var thp2m = ReadTrim("/sys/kernel/mm/transparent_hugepage/hugepages-2048kB/enabled") ?? "inherit";
        var hasThp = (thp.Contains("[always]", StringComparison.Ordinal) || thp.Contains("[madvise]", StringComparison.Ordinal))
            && !thp2m.Contains("[never]", StringComparison.Ordinal);
        if (!hasThp)
        {
            missing["thp"] = $"THP is off (enabled: {thp}; 2048kB: {thp2m})";
        }

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
        else if (TryWrite(Mthp64Knob, "madvise"))
        {
            _restore.Add((Mthp64Knob, Selected(mthp)));
            hasMthp = (ReadTrim(Mthp64Knob) ?? string.Empty).Contains("[madvise]", StringComparison.Ordinal);
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
            if (TryWrite(NrHugepages, (nr + hugetlbPages).ToString(CultureInfo.InvariantCulture)))
            {
                _restore.Add((NrHugepages, nr.ToString(CultureInfo.InvariantCulture)));
                var free = MeminfoValue("HugePages_Free") - MeminfoValue("HugePages_Rsvd");
                pool = (int)Math.Clamp(free, 0, hugetlbPages);
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

        Environment = new LiveEnvironment(release, true, null, hasThp, hasMthp, pool, missing);
    }

    /// <summary>Live runs on one machine take turns: the counters they read are global.</summary>
    private bool TakeLock()
    {
        var endPoint = new System.Net.Sockets.UnixDomainSocketEndPoint("\0" + LockName);
        for (var waited = 0; waited < 300_000; waited += 200)
        {
            var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
            try
            {
                socket.Bind(endPoint);
                _lock = socket;
                return true;
            }
            catch (System.Net.Sockets.SocketException)
            {
                socket.Dispose();
                Thread.Sleep(200);
            }
        }

        return false;
    }

    private string? Unavailable(bool assumeNotRoot)
    {
        if (!OperatingSystem.IsLinux())
        {
            return "not Linux";
        }

        if (assumeNotRoot || !IsRoot())
        {
            return "not root: exact pin counter deltas need /proc/sys/vm/stat_refresh (root only), frame numbers in pagemap need CAP_SYS_ADMIN";
        }

        if (!File.Exists("/proc/sys/vm/stat_refresh"))
        {
            return "no /proc/sys/vm/stat_refresh";
        }

        if (!File.Exists("/proc/kpageflags"))
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

        if (_helper is null || !File.Exists(_helper))
        {
            return $"livehelper was not built (no gcc at build time?): {_helper}";
        }

        return null;
    }

    private static bool IsRoot()
    {
        var status = ReadTrim("/proc/self/status") ?? string.Empty;
        var line = status.Split('\n').FirstOrDefault(l => l.StartsWith("Uid:", StringComparison.Ordinal));
        return line is not null && line.Split('\t', StringSplitOptions.RemoveEmptyEntries).ElementAtOrDefault(2) == "0";
    }

    /// <summary>A 2 MiB file in the first directory whose file system takes O_DIRECT (tmpfs does not).</summary>
    private string? CreateDataFile(out string why)
    {
        why = "no directory with O_DIRECT support found";
        string[] dirs = ["/var/tmp", "/tmp", AppContext.BaseDirectory];
        foreach (var dir in dirs)
        {
            if (!Directory.Exists(dir))
            {
                continue;
            }

            var path = Path.Combine(dir, $"gupconformance-live-{System.Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}-{Guid.NewGuid():N}.dat");
            try
            {
                var data = new byte[2 << 20];
                new Random(1).NextBytes(data);
                File.WriteAllBytes(path, data);
                using var probe = Start(path);
                if (probe.Ready.Contains("dio=1", StringComparison.Ordinal))
                {
                    _cleanup.Add($"created {path}");
                    return path;
                }

                why = $"{dir}: O_DIRECT open failed";
            }
            catch (IOException e)
            {
                why = $"{dir}: {e.Message}";
            }
            catch (UnauthorizedAccessException e)
            {
                why = $"{dir}: {e.Message}";
            }

            TryDelete(path);
        }

        return null;
    }

    private LiveSession Start(string dataFile)
    {
        var psi = new ProcessStartInfo(_helper!, [dataFile])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        return new LiveSession(Process.Start(psi) ?? throw new InvalidOperationException("livehelper did not start"));
    }

    public ILiveKernel Create()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!Environment.Available || _dataFile is null)
        {
            throw new InvalidOperationException($"live kernel not available: {Environment.NotApplicableReason}");
        }

        return Start(_dataFile);
    }

    public long OutstandingPins()
    {
        TryWrite("/proc/sys/vm/stat_refresh", "1");
        var text = File.ReadAllText("/proc/vmstat");
        return VmstatValue(text, "nr_foll_pin_acquired") - VmstatValue(text, "nr_foll_pin_released");
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (var (path, value) in Enumerable.Reverse(_restore))
        {
            var ok = TryWrite(path, value);
            var now = ReadTrim(path) ?? "?";
            _cleanup.Add($"{path} restored to {value}: {(ok ? "ok" : "FAILED")} (now {now})");
        }

        if (_dataFile is not null)
        {
            TryDelete(_dataFile);
            _cleanup.Add($"removed {_dataFile}: {(File.Exists(_dataFile) ? "FAILED" : "ok")}");
        }

        _lock?.Dispose();
        _lock = null;
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

    private static long MeminfoValue(string key)
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

    internal static string? ReadTrim(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllText(path).Trim() : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
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
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
