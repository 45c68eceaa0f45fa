using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace GupConformance.Engine.Plugins;

/// <summary>What an implementation process can make the engine hold (documented in Spec/PROTOCOL.md and the README).</summary>
public static class ProcessLimits
{
    /// <summary>The longest stdout line (one message) accepted: 32 MiB; a longer one is the LineTooLong fault.</summary>
    public const int MaxStdoutLineBytes = 32 << 20;

    /// <summary>A stderr line is kept up to this many characters; the rest of it is counted, not stored.</summary>
    public const int MaxStderrLineChars = 4096;

    /// <summary>How many of the last stderr lines are kept for fault messages.</summary>
    public const int StderrLinesKept = 20;
}

/// <summary>How to start an implementation process: a program and its arguments, never through a shell.</summary>
public sealed record ProcessLaunch(string FileName, IReadOnlyList<string> Arguments, string? WorkingDirectory = null)
{
    /// <summary>The command line as a user would type it (for messages and replay commands).</summary>
    public string Display => string.Join(' ', new[] { FileName }.Concat(Arguments).Select(Quote));

    /// <summary>Splits a command line into words: whitespace separates, '…' and "…" group, \ escapes. No shell is involved.</summary>
    public static ProcessLaunch Parse(string commandLine, string? workingDirectory = null)
    {
        var words = new List<string>();
        var cur = new StringBuilder();
        var inWord = false;
        char quote = '\0';
        for (var i = 0; i < commandLine.Length; i++)
        {
            var c = commandLine[i];
            if (quote != '\0')
            {
                if (c == quote)
                {
                    quote = '\0';
                }
                else if (c == '\\' && quote == '"' && i + 1 < commandLine.Length)
                {
                    cur.Append(commandLine[++i]);
                }
                else
                {
                    cur.Append(c);
                }
            }
            else if (char.IsWhiteSpace(c))
            {
                if (inWord)
                {
                    words.Add(cur.ToString());
                    cur.Clear();
                    inWord = false;
                }
            }
            else if (c is '"' or '\'')
            {
                quote = c;
                inWord = true;
            }
            else if (c == '\\' && i + 1 < commandLine.Length)
            {
                cur.Append(commandLine[++i]);
                inWord = true;
            }
            else
            {
                cur.Append(c);
                inWord = true;
            }
        }

        if (quote != '\0')
        {
            throw new PluginSetupException($"unbalanced {quote} quote in the implementation command line '{commandLine}'; close the quote");
        }

        if (inWord)
        {
            words.Add(cur.ToString());
        }

        if (words.Count == 0)
        {
            throw new PluginSetupException("the implementation command line is empty; use --impl process:\"PROGRAM ARGS\", e.g. --impl process:\"python3 Fixtures/python/gup_impl.py\"");
        }

        return new ProcessLaunch(words[0], words.Skip(1).ToList(), workingDirectory);
    }

    private static string Quote(string s) => s.Length > 0 && s.All(c => char.IsLetterOrDigit(c) || "-_./:=+,@%".Contains(c, StringComparison.Ordinal))
        ? s
        : "'" + s.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}

/// <summary>
/// One running implementation process: JSON lines to its stdin, JSON lines from its stdout (read by the thread that
/// waits for them, with poll(2), or where the pipe cannot be polled by a reader thread, so every wait has a time limit),
/// stderr captured (never fatal; the last lines are kept for messages).
/// Everything the process can make the engine hold is bounded: a stdout line longer than
/// <see cref="MaxStdoutLineBytes"/> is the <see cref="ProtocolFault.LineTooLong"/> fault (the process is killed),
/// a stderr line is cut at <see cref="MaxStderrLineChars"/> and only the last lines are kept. The process runs in a
/// session and process group of its own, so ending it ends every process it started, however they were detached.
/// </summary>
internal sealed class ProcessConnection : IDisposable
{
    private const int MaxStdoutLineBytes = ProcessLimits.MaxStdoutLineBytes;
    private const int MaxStderrLineChars = ProcessLimits.MaxStderrLineChars;
    private const int StderrLinesKept = ProcessLimits.StderrLinesKept;
    private static readonly ConcurrentDictionary<ProcessConnection, bool> Running = new();
    private static int _signalHandlersInstalled;
    private static readonly List<System.Runtime.InteropServices.PosixSignalRegistration> SignalHandlers = [];
    private readonly Process _process;
    private readonly Stream _stdin;
    private readonly Stream _stdout;

    // stdout's pipe, polled by the waiting thread itself; null when a reader thread reads it instead (asked for, or the
    // stream has no pipe handle to poll; see ReadSome).
    private readonly Microsoft.Win32.SafeHandles.SafePipeHandle? _stdoutPipe;

    // Complete stdout lines read and not yet taken, in order; null stands for the end of stdout (once there it stays at
    // the head, for every later taker). Everything about reading stdout is guarded by _readGate; one thread reads at a
    // time (the waiting one, or Pump), into _readBuffer.
    private readonly Queue<string?> _lines = new();
    private readonly object _readGate = new();
    private readonly byte[] _readBuffer = new byte[64 * 1024];
    private readonly List<byte[]> _pieces = [];
    private long _pending;
    private bool _stdoutEnded;
    private readonly Queue<string> _stderr = new();
    private readonly Action<string>? _stderrSink;
    private readonly ManualResetEventSlim _stderrDone = new();
    private readonly object _gate = new();
    private long _stderrCount;
    private bool _dead;

    private ProcessConnection(Process process, Action<string>? stderrSink, bool ownGroup, bool readerThread)
    {
        _process = process;
        _stderrSink = stderrSink;
        _ownGroup = ownGroup;
        _stdin = process.StandardInput.BaseStream;
        _stdout = process.StandardOutput.BaseStream;
        _stdoutPipe = !readerThread && !OperatingSystem.IsWindows() && _stdout is System.IO.Pipes.PipeStream pipe ? pipe.SafePipeHandle : null;
        if (_stdoutPipe is null)
        {
            new Thread(Pump) { IsBackground = true, Name = "gupconformance-stdout" }.Start();
        }

        var stderr = process.StandardError;
        new Thread(() => PumpErr(stderr)) { IsBackground = true, Name = "gupconformance-stderr" }.Start();
    }

    private readonly bool _ownGroup;

    public ProcessLaunch Launch { get; private init; } = null!;

    public int ProcessId => _process.Id;

    /// <summary>Responses received so far (the next request's sequence number is derived from it by the caller).</summary>
    public long NextSeq { get; set; } = 1;

    public long StderrLines => Interlocked.Read(ref _stderrCount);

    public bool Dead
    {
        get
        {
            lock (_gate)
            {
                return _dead || HasExited();
            }
        }
    }

    /// <summary>setsid(1) starts the program in a new session (and process group) whose id is its own pid: a child
    /// of the engine is never a group leader, so setsid execs the program in place instead of forking.</summary>
    private static readonly string? Setsid = OperatingSystem.IsLinux()
        ? new[] { "/usr/bin/setsid", "/bin/setsid" }.FirstOrDefault(File.Exists)
        : null;

    /// <param name="readerThread">Read stdout on a thread of its own (<see cref="ProcessOptions.StdoutReaderThread"/>).</param>
    public static ProcessConnection Start(ProcessLaunch launch, Action<string>? stderrSink, bool readerThread)
    {
        InstallSignalHandlers();
        var psi = new ProcessStartInfo(Setsid ?? launch.FileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = new UTF8Encoding(false),
            StandardErrorEncoding = new UTF8Encoding(false),
            WorkingDirectory = launch.WorkingDirectory ?? string.Empty,
        };
        if (Setsid is not null)
        {
            // setsid cannot tell us that the program itself is missing before it has replaced itself, so look first.
            if (Resolve(launch.FileName, launch.WorkingDirectory) is null)
            {
                throw new ProcessProtocolException(ProtocolFault.StartFailed, $"could not start '{launch.Display}': no such executable file (not found on PATH, or not executable)");
            }

            psi.ArgumentList.Add("--");
            psi.ArgumentList.Add(launch.FileName);
        }

        foreach (var a in launch.Arguments)
        {
            psi.ArgumentList.Add(a);
        }

        try
        {
            var p = Process.Start(psi) ?? throw new ProcessProtocolException(ProtocolFault.StartFailed, $"could not start '{launch.Display}'");
            var conn = new ProcessConnection(p, stderrSink, Setsid is not null, readerThread) { Launch = launch };
            Running[conn] = true;
            return conn;
        }
        catch (Win32Exception e)
        {
            throw new ProcessProtocolException(ProtocolFault.StartFailed, $"could not start '{launch.Display}': {e.Message}", e);
        }
    }

    /// <summary>The executable a program name stands for: a path (relative to the working directory) or a name on PATH.</summary>
    private static string? Resolve(string program, string? workingDirectory)
    {
        static bool Executable(string path) => File.Exists(path)
            && (OperatingSystem.IsWindows() || (File.GetUnixFileMode(path) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0);

        if (program.Contains('/', StringComparison.Ordinal))
        {
            var full = Path.IsPathRooted(program) ? program : Path.Combine(workingDirectory ?? Environment.CurrentDirectory, program);
            return Executable(full) ? full : null;
        }

        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, program);
            if (Executable(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>
    /// The plug-ins run in process groups of their own, so Ctrl+C at the terminal no longer reaches them: when the
    /// engine's process is stopped by SIGINT, SIGTERM or SIGHUP, it first ends every plug-in group it started (and
    /// then lets the signal take its usual course).
    /// </summary>
    private static void InstallSignalHandlers()
    {
        if (!OperatingSystem.IsLinux() || Interlocked.Exchange(ref _signalHandlersInstalled, 1) != 0)
        {
            return;
        }

        AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAllRunning();
        foreach (var sig in new[] { System.Runtime.InteropServices.PosixSignal.SIGINT, System.Runtime.InteropServices.PosixSignal.SIGTERM, System.Runtime.InteropServices.PosixSignal.SIGHUP })
        {
            SignalHandlers.Add(System.Runtime.InteropServices.PosixSignalRegistration.Create(sig, _ => KillAllRunning()));
        }
    }

    private static void KillAllRunning()
    {
        foreach (var c in Running.Keys)
        {
            c.Kill();
        }
    }

    /// <summary>Fails with <see cref="ProtocolFault.ExtraOutput"/> if stdout holds a line nobody asked for.</summary>
    public void CheckNoPendingOutput(string before)
    {
        string? line;
        lock (_readGate)
        {
            if (_lines.Count == 0)
            {
                ReadSome(TimeSpan.Zero);
            }

            if (!_lines.TryPeek(out line) || line is null)
            {
                return;
            }

            _lines.Dequeue();
        }

        Kill();
        throw new ProcessProtocolException(ProtocolFault.ExtraOutput, $"unsolicited output on stdout {before}: {ProcessWire.Excerpt(line)}{StderrTail()}");
    }

    /// <summary>Writes one request line (<see cref="ProcessWire.Request"/>: its newline included).</summary>
    public void Send(byte[] line, string what)
    {
        try
        {
            // One write, newline included: stdin is an unbuffered pipe, and a line written in two pieces can wake the
            // process twice (its reader sees the line, then blocks again for the newline that ends it).
            _stdin.Write(line);
            _stdin.Flush();
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            throw Exited($"while the engine sent {what}", e);
        }
    }

    /// <summary>The next stdout line as a JSON object, within <paramref name="timeout"/>.</summary>
    public JsonElement Receive(TimeSpan timeout, string awaiting, ProtocolFault onTimeout = ProtocolFault.Hang)
    {
        string? line;
        try
        {
            if (!TakeLine(out line, timeout))
            {
                if (HasExited() && !_dead)
                {
                    // The process is gone but something it started still holds its stdout open.
                    throw Exited($"while the engine awaited {awaiting} (its stdout was still held open by a process it started)", null);
                }

                Kill();
                var limit = onTimeout == ProtocolFault.Hang ? "the per-command time limit" : "the per-run time limit";
                throw new ProcessProtocolException(onTimeout,
                    $"no {awaiting} within {limit} ({((long)timeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture)} ms); the process was killed{StderrTail()}");
            }
        }
        catch (InvalidOperationException e)
        {
            throw Exited($"while the engine awaited {awaiting}", e);
        }

        if (line is null)
        {
            if (Overlong is { } overlong)
            {
                throw new ProcessProtocolException(ProtocolFault.LineTooLong, $"{awaiting}: {overlong}{StderrTail()}");
            }

            throw Exited($"while the engine awaited {awaiting}", null);
        }

        if (string.IsNullOrWhiteSpace(line))
        {
            // The protocol allows exactly one response line per request and nothing else, a blank line included. A
            // dying native host ends any half-written line with a newline before its crash report, so a blank line
            // from a process that is about to exit is its exit, not extra output.
            if (WaitForExit(TimeSpan.FromMilliseconds(300)))
            {
                throw Exited($"while the engine awaited {awaiting}", null);
            }

            Kill();
            throw new ProcessProtocolException(ProtocolFault.ExtraOutput, $"a blank line on stdout, which answers no request, where the {awaiting} was due{StderrTail()}");
        }

        try
        {
            using var doc = JsonDocument.Parse(line);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                Kill();
                throw new ProcessProtocolException(ProtocolFault.MalformedJson, $"{awaiting}: stdout line is JSON but not an object: {ProcessWire.Excerpt(line)}{StderrTail()}");
            }

            return doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            Kill();
            throw new ProcessProtocolException(ProtocolFault.MalformedJson, $"{awaiting}: stdout line is not JSON ({e.Message}): {ProcessWire.Excerpt(line)}{StderrTail()}", e);
        }
    }

    /// <summary>
    /// The next stdout line within the timeout. A process that has exited answers nothing more even when a child it
    /// started keeps the pipe open (so no end of file comes): once it has exited, only a short grace for lines
    /// already on their way is waited, not the whole limit.
    /// </summary>
    private bool TakeLine(out string? line, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        var slice = TimeSpan.FromMilliseconds(100);
        TimeSpan? exitedAt = null;
        lock (_readGate)
        {
            while (true)
            {
                if (_lines.TryPeek(out line))
                {
                    // The end of stdout stays at the head for whoever asks next.
                    if (line is not null)
                    {
                        _lines.Dequeue();
                    }

                    return true;
                }

                var left = timeout - clock.Elapsed;
                if (left <= TimeSpan.Zero)
                {
                    return false;
                }

                if (ReadSome(left < slice ? left : slice))
                {
                    continue;
                }

                if (exitedAt is null && HasExited())
                {
                    // Nothing it left running may answer for it: ending its group closes the pipe, so the end of file
                    // comes as soon as the lines already on their way are read.
                    exitedAt = clock.Elapsed;
                    Kill();
                }

                if (exitedAt is { } at && clock.Elapsed - at > TimeSpan.FromMilliseconds(300))
                {
                    return false;
                }
            }
        }
    }

    /// <summary>
    /// Waits at most <paramref name="wait"/> for stdout and takes in what came (complete lines go to the queue, the end
    /// of stdout as null). False when nothing came. Called under _readGate. The waiting thread reads the pipe itself:
    /// a reader thread handing lines over added a thread switch to every exchange, and its hand-over spun on the
    /// waiting side, taking a core from the implementation process on a two-core machine.
    /// </summary>
    private bool ReadSome(TimeSpan wait)
    {
        if (_stdoutEnded)
        {
            return false;
        }

        if (_stdoutPipe is null)
        {
            // Another thread reads (Pump) and pulses when it has added to the queue.
            return Monitor.Wait(_readGate, wait) && _lines.Count > 0;
        }

        // The reference keeps the descriptor from being closed, and its number reused, between the poll and the read.
        var referenced = false;
        var n = 0;
        try
        {
            _stdoutPipe.DangerousAddRef(ref referenced);
            if (!Readable((int)_stdoutPipe.DangerousGetHandle(), wait))
            {
                return false;
            }

            n = _stdout.Read(_readBuffer, 0, _readBuffer.Length);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // Closed (the connection was disposed) or broken: the end of stdout.
        }
        finally
        {
            if (referenced)
            {
                _stdoutPipe.DangerousRelease();
            }
        }

        TakeIn(_readBuffer.AsSpan(0, n));
        return true;
    }

    private const short PollIn = 0x1;

    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "poll", SetLastError = true)]
    private static extern int SysPoll(ref PollFd fds, nuint count, int timeoutMs);

    /// <summary>Whether stdout has something to read (data, its end, or an error that the read will report) within the
    /// wait. An interrupted poll counts as nothing yet: the caller's loop waits again for what is left.</summary>
    private static bool Readable(int descriptor, TimeSpan wait)
    {
        var fd = new PollFd { Fd = descriptor, Events = PollIn };
        var ms = wait <= TimeSpan.Zero ? 0 : (int)Math.Min(Math.Ceiling(wait.TotalMilliseconds), int.MaxValue);
        var r = SysPoll(ref fd, 1, ms);
        return r > 0 || (r < 0 && System.Runtime.InteropServices.Marshal.GetLastPInvokeError() != 4 /* EINTR */);
    }

    /// <summary>Describes how the process ended (waiting briefly for it), as a fault.</summary>
    public ProcessProtocolException Exited(string when, Exception? inner)
    {
        int? code = null;
        try
        {
            if (_process.WaitForExit(2000))
            {
                code = _process.ExitCode;

                // Its last words on stderr say why it stopped: let the reader thread take them in before quoting. What
                // it left running in its group goes first, or a child holding stderr open keeps the end from coming
                // and every exit costs the whole wait.
                Kill();
                _stderrDone.Wait(1000);
            }
        }
        catch (Exception e) when (e is InvalidOperationException or SystemException)
        {
        }

        Kill();
        var crash = CrashMessage();
        if (crash is not null)
        {
            return new ProcessProtocolException(ProtocolFault.KilledBySignal, $"the implementation process was killed by {crash} {when}{StderrTail()}", inner);
        }

        if (code is > 128 and < 128 + 65)
        {
            var sig = code.Value - 128;
            return new ProcessProtocolException(ProtocolFault.KilledBySignal,
                $"the implementation process was killed by signal {sig.ToString(CultureInfo.InvariantCulture)} ({SignalName(sig)}) {when}{StderrTail()}", inner);
        }

        var status = code is { } c ? $"exited with code {c.ToString(CultureInfo.InvariantCulture)}" : "closed its stdout";
        return new ProcessProtocolException(ProtocolFault.ProcessExited, $"the implementation process {status} {when}{StderrTail()}", inner);
    }

    /// <summary>
    /// A crash report line ({"type":"crash",...}) the native host writes from its signal handler, if one was read: stdout
    /// is read while a reply is awaited, so a crash during a batch is reported by its line. When the engine's write
    /// fails first, the exit status names the signal instead (the host raises it again after writing the line).
    /// </summary>
    private string? CrashMessage() => Volatile.Read(ref _crash);

    private string? _crash;

    internal void NoteCrash(string text) => Volatile.Write(ref _crash, text);

    public string StderrTail()
    {
        lock (_stderr)
        {
            if (_stderr.Count == 0)
            {
                return string.Empty;
            }

            return " [stderr: " + string.Join(" | ", _stderr.TakeLast(3).Select(ProcessWire.Excerpt)) + "]";
        }
    }

    public void Kill()
    {
        lock (_gate)
        {
            if (_dead)
            {
                return;
            }

            _dead = true;
        }

        KillGroup();
        Running.TryRemove(this, out _);
    }

    /// <summary>Ends the process and everything in its process group (children that detached from it included).</summary>
    private void KillGroup()
    {
        int pid;
        try
        {
            pid = _process.Id;
        }
        catch (InvalidOperationException)
        {
            return;
        }

        if (_ownGroup)
        {
            // The group outlives its leader while any member lives: signal it even when the leader has exited.
            _ = SysKill(-pid, 9);
        }

        try
        {
            if (!HasExited())
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (Exception e) when (e is InvalidOperationException or SystemException)
        {
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SysKill(int pid, int signal);

    /// <summary>Asks the process to exit (shutdown message, stdin closed), then kills it if it does not.</summary>
    public void Shutdown()
    {
        lock (_gate)
        {
            if (_dead)
            {
                return;
            }
        }

        try
        {
            Send(ProcessWire.Request(w => w.WriteString("type", "shutdown")), "shutdown");
            _stdin.Close();
        }
        catch (Exception e) when (e is ProcessProtocolException or IOException or ObjectDisposedException)
        {
        }

        try
        {
            if (!_process.WaitForExit(1000))
            {
                Kill();
            }
        }
        catch (Exception e) when (e is InvalidOperationException or SystemException)
        {
        }

        lock (_gate)
        {
            _dead = true;
        }

        // A well-behaved implementation has exited by now; whatever it left running in its group goes with it.
        KillGroup();
        Running.TryRemove(this, out _);
    }

    public void Dispose()
    {
        Shutdown();
        _process.Dispose();
    }

    public static string SignalName(int sig) => sig switch
    {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        4 => "SIGILL",
        5 => "SIGTRAP",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        14 => "SIGALRM",
        15 => "SIGTERM",
        _ => "signal " + sig.ToString(CultureInfo.InvariantCulture),
    };

    private bool WaitForExit(TimeSpan wait)
    {
        try
        {
            return _process.WaitForExit(wait);
        }
        catch (Exception e) when (e is InvalidOperationException or SystemException)
        {
            return true;
        }
    }

    private bool HasExited()
    {
        try
        {
            return _process.HasExited;
        }
        catch (Exception e) when (e is InvalidOperationException or SystemException)
        {
            return true;
        }
    }

    /// <summary>Where stdout cannot be polled: reads it on a thread of its own and hands the lines over (ReadSome).</summary>
    private void Pump()
    {
        while (true)
        {
            int n;
            try
            {
                n = _stdout.Read(_readBuffer, 0, _readBuffer.Length);
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
            {
                n = 0;
            }

            lock (_readGate)
            {
                TakeIn(_readBuffer.AsSpan(0, n));
                Monitor.PulseAll(_readGate);
                if (_stdoutEnded)
                {
                    return;
                }
            }
        }
    }

    /// <summary>
    /// Takes in one read of stdout (empty: its end) and queues the complete lines; a line that grows past the limit is a
    /// fault, and nothing more is read (the process is killed). The unfinished part of a line is kept as a list of
    /// read-sized pieces (small objects, never a doubling buffer), so even an endless line costs at most the limit.
    /// Called under _readGate.
    /// </summary>
    private void TakeIn(ReadOnlySpan<byte> read)
    {
        if (read.IsEmpty)
        {
            if (_pending > 0 && _overlong is null)
            {
                Deliver(_pieces, _pending, []);
            }

            EndOfStdout();
            return;
        }

        var start = 0;
        for (var i = 0; i < read.Length; i++)
        {
            if (read[i] != (byte)'\n')
            {
                continue;
            }

            Deliver(_pieces, _pending, read[start..i]);
            _pieces.Clear();
            _pending = 0;
            start = i + 1;
            if (_overlong is not null)
            {
                EndOfStdout();
                return;
            }
        }

        if (start < read.Length)
        {
            _pieces.Add(read[start..].ToArray());
            _pending += read.Length - start;
        }

        if (_pending > MaxStdoutLineBytes)
        {
            NoteOverlong(_pending);
            Kill();
            EndOfStdout();
        }
    }

    private void EndOfStdout()
    {
        _pieces.Clear();
        _pending = 0;
        _stdoutEnded = true;
        _lines.Enqueue(null);
    }

    private string? _overlong;

    private void NoteOverlong(long bytes) => Volatile.Write(ref _overlong,
        $"a stdout line reached {bytes.ToString(CultureInfo.InvariantCulture)} bytes without a newline, over the limit of {MaxStdoutLineBytes.ToString(CultureInfo.InvariantCulture)} bytes for one message; the process was killed");

    /// <summary>The line-too-long fault, if the stdout pump stopped on one.</summary>
    public string? Overlong => Volatile.Read(ref _overlong);

    private void Deliver(List<byte[]> pieces, long pending, ReadOnlySpan<byte> tail)
    {
        if (pending + tail.Length > MaxStdoutLineBytes)
        {
            NoteOverlong(pending + tail.Length);
            Kill();
            return;
        }

        string text;
        if (pieces.Count == 0)
        {
            text = Encoding.UTF8.GetString(tail);
        }
        else
        {
            var whole = new byte[pending + tail.Length];
            var at = 0;
            foreach (var piece in pieces)
            {
                piece.CopyTo(whole, at);
                at += piece.Length;
            }

            tail.CopyTo(whole.AsSpan(at));
            text = Encoding.UTF8.GetString(whole);
        }

        if (text.EndsWith('\r'))
        {
            text = text[..^1];
        }

        if (text.StartsWith("{\"type\":\"crash\"", StringComparison.Ordinal))
        {
            NoteCrash(DescribeCrash(text));
            return;
        }

        _lines.Enqueue(text);
    }

    private static string DescribeCrash(string line)
    {
        try
        {
            using var doc = JsonDocument.Parse(line);
            var r = doc.RootElement;
            var sig = r.TryGetProperty("signal", out var s) && s.TryGetInt32(out var n) ? n : 0;
            var name = r.TryGetProperty("name", out var nm) && nm.ValueKind == JsonValueKind.String ? Untrusted.Printable(nm.GetString()) : SignalName(sig);
            return $"signal {sig.ToString(CultureInfo.InvariantCulture)} ({name})";
        }
        catch (JsonException)
        {
            return "a signal";
        }
    }

    /// <summary>Reads stderr in chunks: each line is cut at <see cref="MaxStderrLineChars"/> (the rest is counted),
    /// made printable, and only the last <see cref="StderrLinesKept"/> are kept, so a flood costs no memory.</summary>
    private void PumpErr(StreamReader stderr)
    {
        var chunk = new char[16 * 1024];
        var line = new StringBuilder();
        long dropped = 0;
        try
        {
            int n;
            while ((n = stderr.Read(chunk, 0, chunk.Length)) > 0)
            {
                for (var i = 0; i < n; i++)
                {
                    var ch = chunk[i];
                    if (ch == '\n')
                    {
                        EmitErr(line, dropped);
                        line.Clear();
                        dropped = 0;
                    }
                    else if (line.Length < MaxStderrLineChars)
                    {
                        line.Append(ch);
                    }
                    else
                    {
                        dropped++;
                    }
                }
            }

            if (line.Length > 0 || dropped > 0)
            {
                EmitErr(line, dropped);
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
        }
        finally
        {
            _stderrDone.Set();
        }
    }

    private void EmitErr(StringBuilder raw, long dropped)
    {
        var text = raw.Length > 0 && raw[^1] == '\r' ? raw.ToString(0, raw.Length - 1) : raw.ToString();
        text = Untrusted.Printable(text);
        if (dropped > 0)
        {
            text += $" … [{dropped.ToString(CultureInfo.InvariantCulture)} more characters of this line not kept]";
        }

        Interlocked.Increment(ref _stderrCount);
        _stderrSink?.Invoke(text);
        lock (_stderr)
        {
            _stderr.Enqueue(text);
            while (_stderr.Count > StderrLinesKept)
            {
                _stderr.Dequeue();
            }
        }
    }
}
