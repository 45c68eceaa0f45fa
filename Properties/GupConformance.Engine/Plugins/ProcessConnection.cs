using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace GupConformance.Engine.Plugins;

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
/// One running implementation process: JSON lines to its stdin, JSON lines from its stdout (pumped by a reader
/// thread, so every wait has a time limit), stderr captured (never fatal; the last lines are kept for messages).
/// </summary>
internal sealed class ProcessConnection : IDisposable
{
    private const int StderrLinesKept = 20;
    private readonly Process _process;
    private readonly Stream _stdin;
    private readonly BlockingCollection<string?> _lines = new();
    private readonly Queue<string> _stderr = new();
    private readonly Action<string>? _stderrSink;
    private readonly ManualResetEventSlim _stderrDone = new();
    private readonly object _gate = new();
    private long _stderrCount;
    private bool _dead;

    private ProcessConnection(Process process, Action<string>? stderrSink)
    {
        _process = process;
        _stderrSink = stderrSink;
        _stdin = process.StandardInput.BaseStream;
        var stdout = process.StandardOutput;
        var stderr = process.StandardError;
        new Thread(() => Pump(stdout)) { IsBackground = true, Name = "gupconformance-stdout" }.Start();
        new Thread(() => PumpErr(stderr)) { IsBackground = true, Name = "gupconformance-stderr" }.Start();
    }

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

    public static ProcessConnection Start(ProcessLaunch launch, Action<string>? stderrSink)
    {
        var psi = new ProcessStartInfo(launch.FileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = new UTF8Encoding(false),
            StandardErrorEncoding = new UTF8Encoding(false),
            WorkingDirectory = launch.WorkingDirectory ?? string.Empty,
        };
        foreach (var a in launch.Arguments)
        {
            psi.ArgumentList.Add(a);
        }

        try
        {
            var p = Process.Start(psi) ?? throw new ProcessProtocolException(ProtocolFault.StartFailed, $"could not start '{launch.Display}'");
            return new ProcessConnection(p, stderrSink) { Launch = launch };
        }
        catch (Win32Exception e)
        {
            throw new ProcessProtocolException(ProtocolFault.StartFailed, $"could not start '{launch.Display}': {e.Message}", e);
        }
    }

    /// <summary>Fails with <see cref="ProtocolFault.ExtraOutput"/> if stdout holds a line nobody asked for.</summary>
    public void CheckNoPendingOutput(string before)
    {
        if (_lines.TryTake(out var line))
        {
            if (line is null)
            {
                _lines.Add(null);
                return;
            }

            Kill();
            throw new ProcessProtocolException(ProtocolFault.ExtraOutput, $"unsolicited output on stdout {before}: {ProcessWire.Excerpt(line)}{StderrTail()}");
        }
    }

    public void Send(byte[] line, string what)
    {
        try
        {
            _stdin.Write(line);
            _stdin.WriteByte((byte)'\n');
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
            if (!_lines.TryTake(out line, timeout <= TimeSpan.Zero ? TimeSpan.Zero : timeout))
            {
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
            _lines.Add(null);
            throw Exited($"while the engine awaited {awaiting}", null);
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

    /// <summary>Describes how the process ended (waiting briefly for it), as a fault.</summary>
    public ProcessProtocolException Exited(string when, Exception? inner)
    {
        int? code = null;
        try
        {
            if (_process.WaitForExit(2000))
            {
                code = _process.ExitCode;

                // Its last words on stderr say why it stopped: let the reader thread take them in before quoting.
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

    /// <summary>A crash report line ({"type":"crash",...}) the native host writes from its signal handler, if one came.</summary>
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

    private void Pump(StreamReader stdout)
    {
        try
        {
            while (stdout.ReadLine() is { } line)
            {
                if (line.Length == 0)
                {
                    continue;
                }

                if (line.StartsWith("{\"type\":\"crash\"", StringComparison.Ordinal))
                {
                    NoteCrash(DescribeCrash(line));
                    continue;
                }

                _lines.Add(line);
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
        }

        try
        {
            _lines.Add(null);
        }
        catch (InvalidOperationException)
        {
        }
    }

    private static string DescribeCrash(string line)
    {
        try
        {
            using var doc = JsonDocument.Parse(line);
            var r = doc.RootElement;
            var sig = r.TryGetProperty("signal", out var s) && s.TryGetInt32(out var n) ? n : 0;
            var name = r.TryGetProperty("name", out var nm) && nm.ValueKind == JsonValueKind.String ? nm.GetString() : SignalName(sig);
            return $"signal {sig.ToString(CultureInfo.InvariantCulture)} ({name})";
        }
        catch (JsonException)
        {
            return "a signal";
        }
    }

    private void PumpErr(StreamReader stderr)
    {
        try
        {
            while (stderr.ReadLine() is { } line)
            {
                Interlocked.Increment(ref _stderrCount);
                _stderrSink?.Invoke(line);
                lock (_stderr)
                {
                    _stderr.Enqueue(line);
                    while (_stderr.Count > StderrLinesKept)
                    {
                        _stderr.Dequeue();
                    }
                }
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
}
