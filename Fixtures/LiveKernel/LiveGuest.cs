using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace GupConformance.Fixtures.LiveKernel;

/// <summary>
/// A test VM booted from a kernel under test with the live agent in it (Fixtures/Kernel/guest/live_agent.c, started
/// by the guest's init under <c>gupc.mode=live</c>): the live fixture's machine when the run checks that kernel
/// rather than the one this process runs on. The VM host (Fixtures/Kernel/vmhost.py <c>--live</c>) bridges this
/// process's lines to the agent and turns a panic, an oops, a WARN (panic_on_warn) or a hung guest into its exit with
/// the guest log's telling lines on stderr, which every error here quotes. The VM is shut down on
/// <see cref="Dispose"/> and killed on <see cref="Abort"/>; QEMU never outlives the host process.
/// </summary>
public sealed class LiveGuest : ILiveMachine
{
    /// <summary>A request the guest has not answered in this long (TCG, a fork of a large region) ends the VM.</summary>
    public static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(120);

    private const int StderrLinesKept = 12;
    private readonly Process _process;
    private readonly BlockingCollection<string?> _lines = new();
    private readonly ConcurrentQueue<string> _stderr = new();
    private readonly Lock _io = new();
    private readonly Action<string>? _progress;
    private int _nextSession;
    private volatile bool _dead;

    private LiveGuest(string label, Process process, Action<string>? progress)
    {
        Label = label;
        _process = process;
        _progress = progress;
    }

    /// <summary>The kernel's label ("6.12", "6.1", a tree's name).</summary>
    public string Label { get; }

    /// <summary>The guest kernel's release, from its ready line.</summary>
    public string KernelRelease { get; private set; } = "unknown";

    /// <summary>How long the guest took from start to its ready line.</summary>
    public TimeSpan BootTime { get; private set; }

    public string Name => $"the {Label} guest";

    public bool Throwaway => true;

    public bool Alive => !_dead && !HasExited();

    /// <summary>
    /// The guest's second ram disk, a block device used as it is. Not a file on the guest's ext2: a file system maps a
    /// file in extents (ext2 puts an indirect block after the twelfth data block), and an O_DIRECT request that crosses
    /// an extent boundary becomes two bios, each pinning the page the boundary falls in. The live model counts one pin
    /// per page and request, which holds only on storage the request maps contiguously; on a block device it does.
    /// </summary>
    IReadOnlyList<DataPlace> ILiveMachine.DataPlaces => [new("/dev/ram1", Create: false)];

    /// <summary>
    /// Starts the VM host (<paramref name="fileName"/> with <paramref name="arguments"/>, e.g. python3 vmhost.py --live
    /// ...) and waits for the agent's ready line; the host's stderr lines (boot progress) go to
    /// <paramref name="progress"/>. Throws <see cref="InvalidOperationException"/> naming the cause when the guest
    /// does not come up.
    /// </summary>
    public static LiveGuest Boot(string label, string fileName, IReadOnlyList<string> arguments, Action<string>? progress, TimeSpan bootTimeout)
    {
        var psi = new ProcessStartInfo(fileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = new UTF8Encoding(false),
            StandardErrorEncoding = new UTF8Encoding(false),
        };
        foreach (var a in arguments)
        {
            psi.ArgumentList.Add(a);
        }

        Process process;
        try
        {
            process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {fileName}");
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException($"could not start the VM host {fileName}: {e.Message}", e);
        }

        var guest = new LiveGuest(label, process, progress);
        guest.StartPumps();

        // The VM host keeps requests until the guest's ready line (which it consumes), so the first request's reply
        // is also the sign that the guest booted; the guest server, not the agent, would answer it with a JSON error.
        var started = Stopwatch.StartNew();
        string? release;
        try
        {
            release = guest.Request("read /proc/sys/kernel/osrelease", bootTimeout);
        }
        catch (TimeoutException)
        {
            throw new InvalidOperationException($"{guest.Name} did not boot within {bootTimeout.TotalSeconds.ToString("0", CultureInfo.InvariantCulture)} s{guest.StderrTail()}");
        }

        if (!release.StartsWith("ok ", StringComparison.Ordinal))
        {
            guest.Abort();
            throw new InvalidOperationException($"{guest.Name} did not start the live agent (it answered: {Excerpt(release)}); was its initramfs built by this version of build-kernel.sh?");
        }

        guest.BootTime = started.Elapsed;
        guest.KernelRelease = Encoding.UTF8.GetString(Convert.FromHexString(release[3..])).Trim();
        return guest;
    }

    private void StartPumps()
    {
        new Thread(() =>
        {
            try
            {
                while (_process.StandardOutput.ReadLine() is { } line)
                {
                    _lines.Add(line);
                }
            }
            catch (IOException)
            {
            }
            finally
            {
                _lines.Add(null);
            }
        }) { IsBackground = true, Name = "gupconformance-live-guest-out" }.Start();
        new Thread(() =>
        {
            try
            {
                while (_process.StandardError.ReadLine() is { } line)
                {
                    _stderr.Enqueue(line);
                    while (_stderr.Count > StderrLinesKept && _stderr.TryDequeue(out _))
                    {
                    }

                    _progress?.Invoke(line);
                }
            }
            catch (IOException)
            {
            }
        }) { IsBackground = true, Name = "gupconformance-live-guest-err" }.Start();
    }

    /// <summary>One request line to the agent and its reply line.</summary>
    internal string Request(string line) => Request(line, ReplyTimeout);

    private string Request(string line, TimeSpan timeout)
    {
        lock (_io)
        {
            if (_dead || HasExited())
            {
                throw new InvalidOperationException($"{Name} is no longer running{StderrTail()}");
            }

            try
            {
                _process.StandardInput.WriteLine(line);
                _process.StandardInput.Flush();
            }
            catch (IOException e)
            {
                _dead = true;
                throw new InvalidOperationException($"{Name} stopped taking requests ({e.Message}){StderrTail()}", e);
            }

            if (!_lines.TryTake(out var reply, timeout))
            {
                Abort();
                throw new TimeoutException($"{Name} did not answer '{Excerpt(line)}' within {timeout.TotalSeconds.ToString("0", CultureInfo.InvariantCulture)} s; the VM was stopped");
            }

            if (reply is null)
            {
                _dead = true;
                _process.WaitForExit(5_000);
                throw new InvalidOperationException($"{Name} ended while running '{Excerpt(line)}'{StderrTail()}");
            }

            return reply;
        }
    }

    /// <summary>The VM host's last stderr lines (what happened to the guest, the log excerpt), as a suffix.</summary>
    internal string StderrTail()
    {
        Thread.Sleep(50);
        var lines = _stderr.ToArray().Where(l => l.Length > 0).TakeLast(4).ToList();
        return lines.Count == 0 ? string.Empty : ": " + string.Join(" / ", lines.Select(l => l.Trim()));
    }

    private static string Excerpt(string s) => s.Length <= 120 ? s : s[..117] + "...";

    private bool HasExited()
    {
        try
        {
            return _process.HasExited;
        }
        catch (InvalidOperationException)
        {
            return true;
        }
    }

    public string? Unavailable(bool assumeNotRoot) =>
        Exists("/livehelper") ? null : $"{Name}'s initramfs has no /livehelper (built by an older build-kernel.sh?)";

    public bool Exists(string path) => Request($"exists {path}") == "ok 1";

    public string? Read(string path)
    {
        var reply = Request($"read {path}");
        return reply.StartsWith("ok ", StringComparison.Ordinal) ? Encoding.UTF8.GetString(Convert.FromHexString(reply[3..]))
            : reply == "ok" ? string.Empty
            : null;
    }

    public bool Write(string path, string value) => Request($"write {path} {Convert.ToHexString(Encoding.UTF8.GetBytes(value))}") == "ok";

    public IReadOnlyList<string>? List(string directory)
    {
        var reply = Request($"list {directory}");
        return reply == "ok" || reply.StartsWith("ok ", StringComparison.Ordinal) ? reply.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..] : null;
    }

    public void CreateFile(string path, int bytes)
    {
        var reply = Request($"mkfile {path} {bytes.ToString(CultureInfo.InvariantCulture)}");
        if (reply != "ok")
        {
            throw new IOException($"{Name} could not create {path}: {reply}");
        }
    }

    public void Delete(string path) => Request($"rm {path}");

    ILiveChannel ILiveMachine.StartHelper(string dataFile)
    {
        var id = _nextSession++ % 64;
        var reply = Request($"spawn {id.ToString(CultureInfo.InvariantCulture)} {dataFile}");
        return reply.StartsWith("ok ", StringComparison.Ordinal)
            ? new GuestChannel(this, id, reply[3..])
            : throw new InvalidOperationException($"{Name} could not start livehelper: {reply}");
    }

    /// <summary>Kills the VM host at once (QEMU dies with it): an interrupted run or a guest that stopped answering.</summary>
    public void Abort()
    {
        _dead = true;
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (Exception e) when (e is InvalidOperationException or Win32Exception)
        {
        }
    }

    /// <summary>Asks the guest to power off and waits for the VM host to end; kills it when it does not.</summary>
    public void Dispose()
    {
        if (!_dead && !HasExited())
        {
            try
            {
                lock (_io)
                {
                    _process.StandardInput.WriteLine("{\"type\":\"shutdown\"}");
                    _process.StandardInput.Close();
                }
            }
            catch (IOException)
            {
            }
        }

        _dead = true;
        if (!_process.WaitForExit(15_000))
        {
            Abort();
            _process.WaitForExit(5_000);
        }

        _process.Dispose();
    }

    /// <summary>One livehelper in the guest, addressed through the agent by its session number.</summary>
    private sealed class GuestChannel(LiveGuest guest, int id, string ready) : ILiveChannel
    {
        private readonly string _prefix = $"@{id.ToString(CultureInfo.InvariantCulture)} ";
        private bool _exited;

        public string Ready { get; } = ready;

        public bool Exited => _exited || !guest.Alive;

        public string Exchange(string line)
        {
            var reply = guest.Request(_prefix + line);
            if (reply.StartsWith("exited ", StringComparison.Ordinal) || reply.StartsWith("fail no session", StringComparison.Ordinal))
            {
                _exited = true;
                throw new InvalidOperationException($"livehelper in {guest.Name} died on '{line}' ({reply})");
            }

            return reply;
        }

        public void Quit()
        {
            if (Exited)
            {
                return;
            }

            _exited = true;
            try
            {
                _ = guest.Request(_prefix + "quit");
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException)
            {
            }
        }

        /// <summary>An abandoned session ends the whole VM: it is what an interrupted or broken run does.</summary>
        public void Kill()
        {
            _exited = true;
            guest.Abort();
        }
    }
}
