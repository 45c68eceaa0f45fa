using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using GupConformance.Spec;

namespace GupConformance.Engine.Plugins;

/// <summary>Time limits and batching of an out-of-process implementation.</summary>
public sealed record ProcessOptions
{
    /// <summary>How long one request (a batch, begin or end) may wait for its response.</summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromSeconds(4);

    /// <summary>How long one run (one command sequence, begin to end) may take.</summary>
    public TimeSpan RunTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>How long starting the process and the handshake may take.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Send an action and the inspections the executor announces after it as one batch.</summary>
    public bool Batching { get; init; } = true;

    /// <summary>
    /// Read the implementation's stdout on a thread of its own, which hands each line to the waiting thread, instead of
    /// letting the waiting thread poll and read the pipe itself. Always so where the pipe cannot be polled (no pipe
    /// handle, or Windows); elsewhere the direct read is the default, as it costs a third less CPU (see
    /// <c>ProcessConnection.ReadSome</c>).
    /// </summary>
    public bool StdoutReaderThread { get; init; }

    /// <summary>Receives every stderr line of the implementation (stderr is always captured; it is never a fault).</summary>
    public Action<string>? Stderr { get; init; }

    /// <summary>Receives progress lines of a slow start (a kernel build, a guest boot); null for none.</summary>
    public Action<string>? Progress { get; init; }

    /// <summary>The per-command limit for a runner time limit: a little below it, so the adapter names the hang first.</summary>
    public static TimeSpan CommandLimitFor(TimeSpan executorTimeout) => executorTimeout * 0.8;
}

/// <summary>
/// An implementation in another process, spoken to with the JSON-lines process protocol (Spec/PROTOCOL.md). The
/// factory starts the process once and performs the handshake (version negotiation, manifests); each run then
/// begins and ends on a live process, and a process that broke the protocol is killed and replaced by a fresh one.
/// Every protocol fault becomes a <see cref="ProcessProtocolException"/> naming the fault.
/// </summary>
public sealed class ProcessImplementationFactory : IImplementationFactory, IDisposable
{
    private readonly ProcessLaunch _launch;
    private readonly IReadOnlyDictionary<string, CapabilityManifest> _manifests;
    private readonly ConcurrentDictionary<ProcessConnection, bool> _live = new();
    private readonly object _idleGate = new();
    private ProcessConnection? _idle;
    private long _runs;
    private bool _disposed;

    private ProcessImplementationFactory(ProcessLaunch launch, ProcessOptions options, string name, IReadOnlyDictionary<string, CapabilityManifest> manifests, ProcessConnection first)
    {
        _launch = launch;
        Options = options;
        Name = name;
        _manifests = manifests;
        _idle = first;
        _live[first] = true;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAll();
    }

    public string Name { get; }

    public ProcessOptions Options { get; }

    /// <summary>Processes started so far (the first one included): more than one means some were replaced after a fault.</summary>
    public int ProcessesStarted { get; private set; } = 1;

    /// <summary>
    /// Starts the implementation and performs the handshake. Anything that makes the implementation unusable (it
    /// cannot start, speaks another protocol version, sends a bad manifest) is a <see cref="PluginSetupException"/>
    /// with one line naming the cause and the fix.
    /// </summary>
    public static ProcessImplementationFactory Start(ProcessLaunch launch, ProcessOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(launch);
        options ??= new ProcessOptions();
        ProcessConnection? conn = null;
        try
        {
            (conn, var hello) = Handshake(launch, options);
            var name = ProcessWire.RequiredString(hello, "implementation", "hello");
            var manifests = ProcessWire.DecodeManifests(hello, name);
            Validate(manifests, launch);
            return new ProcessImplementationFactory(launch, options, name, manifests, conn);
        }
        catch (ProcessProtocolException e)
        {
            conn?.Kill();
            var fix = e.Fix ?? e.Fault switch
            {
                ProtocolFault.StartFailed => "check the program name and path (it is run without a shell) and that it is executable",
                ProtocolFault.VersionMismatch => $"make the implementation speak protocol version {ProcessWire.Version} (Spec/PROTOCOL.md)",
                ProtocolFault.ProcessExited or ProtocolFault.KilledBySignal => "run the command by hand to see why it stops (its stderr is shown above)",
                ProtocolFault.Hang => "the implementation must answer the hello line at once (Spec/PROTOCOL.md §2)",
                _ => "fix the implementation's hello message (Spec/PROTOCOL.md §2, Spec/protocol.schema.json)",
            };
            throw new PluginSetupException($"implementation '{launch.Display}' cannot be used: {e.Message}; fix: {fix}", e);
        }
        catch (PluginSetupException)
        {
            conn?.Kill();
            throw;
        }
    }

    public CapabilityManifest? ManifestFor(Profile profile) => _manifests.GetValueOrDefault(profile.Id);

    public IGupImplementation Create(Profile profile)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ProcessConnection? conn;
        lock (_idleGate)
        {
            conn = _idle;
            _idle = null;
        }

        if (conn is null || conn.Dead)
        {
            if (conn is not null)
            {
                Forget(conn);
            }

            (conn, _) = Handshake(_launch, Options);
            _live[conn] = true;
            ProcessesStarted++;
        }

        var run = Interlocked.Increment(ref _runs);
        try
        {
            conn.CheckNoPendingOutput("before run " + run.ToString(CultureInfo.InvariantCulture));
            conn.Send(ProcessWire.Request(w =>
            {
                w.WriteString("type", "begin");
                w.WriteNumber("run", run);
                w.WriteString("profile", profile.Id);
            }), "begin");
            var reply = conn.Receive(Options.StartTimeout, "reply to begin of run " + run.ToString(CultureInfo.InvariantCulture));
            ProcessImplementation.Expect(conn, reply, "ready", "run", run, "begin");
        }
        catch (ProcessProtocolException)
        {
            conn.Kill();
            Forget(conn);
            throw;
        }

        return new ProcessImplementation(this, conn, profile, run);
    }

    internal void Return(ProcessConnection conn)
    {
        lock (_idleGate)
        {
            if (!_disposed && _idle is null && !conn.Dead)
            {
                _idle = conn;
                return;
            }
        }

        conn.Dispose();
        Forget(conn);
    }

    internal void Forget(ProcessConnection conn)
    {
        conn.Kill();
        _live.TryRemove(conn, out _);
    }

    public void Dispose()
    {
        lock (_idleGate)
        {
            _disposed = true;
            _idle = null;
        }

        foreach (var c in _live.Keys)
        {
            c.Dispose();
        }

        _live.Clear();
    }

    private void KillAll()
    {
        foreach (var c in _live.Keys)
        {
            c.Kill();
        }
    }

    private static (ProcessConnection Conn, JsonElement Hello) Handshake(ProcessLaunch launch, ProcessOptions options)
    {
        var conn = ProcessConnection.Start(launch, options.Stderr, options.StdoutReaderThread);
        try
        {
            conn.Send(ProcessWire.Request(w =>
            {
                w.WriteString("type", "hello");
                w.WriteNumber("protocol", ProcessWire.Version);
                w.WriteStartArray("accepts");
                foreach (var v in ProcessWire.Accepted)
                {
                    w.WriteNumberValue(v);
                }

                w.WriteEndArray();
                w.WriteString("suite", SuiteVersion.Value);
            }), "hello");
            var hello = conn.Receive(options.StartTimeout, "reply to hello");
            var type = ProcessWire.RequiredString(hello, "type", "the reply to hello");
            if (string.Equals(type, "error", StringComparison.Ordinal))
            {
                var code = hello.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.String ? Untrusted.Printable(c.GetString()) : "?";
                var message = hello.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? Untrusted.Printable(m.GetString()) : string.Empty;
                if (string.Equals(code, "version_mismatch", StringComparison.Ordinal))
                {
                    var theirs = hello.TryGetProperty("protocol", out var pv) ? pv.GetRawText() : "another version";
                    throw new ProcessProtocolException(ProtocolFault.VersionMismatch,
                        $"the engine speaks protocol version {ProcessWire.Version}, the implementation speaks {theirs} ({message})");
                }

                throw new ProcessProtocolException(ProtocolFault.ImplementationError, $"the implementation answered hello with error '{code}': {message}")
                {
                    Fix = hello.TryGetProperty("fix", out var fx) && fx.ValueKind == JsonValueKind.String ? Untrusted.Printable(fx.GetString()) : null,
                };
            }

            if (!string.Equals(type, "hello", StringComparison.Ordinal))
            {
                throw new ProcessProtocolException(ProtocolFault.UnknownMessage, $"the reply to hello has type '{type}', not 'hello'");
            }

            var version = ProcessWire.RequiredInt(hello, "protocol", "hello");
            if (!ProcessWire.Accepted.Contains((int)version))
            {
                throw new ProcessProtocolException(ProtocolFault.VersionMismatch,
                    $"the engine speaks protocol version {ProcessWire.Version}, the implementation speaks {version.ToString(CultureInfo.InvariantCulture)}");
            }

            return (conn, hello);
        }
        catch (ProcessProtocolException)
        {
            conn.Kill();
            throw;
        }
    }

    private static void Validate(Dictionary<string, CapabilityManifest> manifests, ProcessLaunch launch)
    {
        if (manifests.Count == 0)
        {
            throw new PluginSetupException($"implementation '{launch.Display}' claims no profile; its hello must list at least one manifest (Spec/PROTOCOL.md §2)");
        }

        foreach (var m in manifests.Values)
        {
            var profile = Profiles.Find(m.ProfileId)
                ?? throw new PluginSetupException($"implementation '{launch.Display}' claims unknown profile '{m.ProfileId}'; known profiles: {string.Join(", ", Profiles.All.Select(p => p.Id))} (fix its manifest)");
            var extra = m.Facets & ~profile.Facets;
            if (extra != Facet.None)
            {
                var names = ProcessWire.FacetNames.Where(f => (extra & f.Facet) != 0).Select(f => f.Name);
                var has = ProcessWire.FacetNames.Where(f => (profile.Facets & f.Facet) != 0).Select(f => f.Name);
                throw new PluginSetupException($"implementation '{launch.Display}' claims facet {string.Join(", ", names)} under profile '{profile.Id}', which that profile does not have (it has: {string.Join(", ", has)}); remove it from that manifest");
            }

            if (m.Facets == Facet.None)
            {
                throw new PluginSetupException($"implementation '{launch.Display}' claims profile '{profile.Id}' with no facet; declare at least \"core\" in that manifest");
            }
        }
    }
}

/// <summary>One run on a live implementation process.</summary>
internal sealed class ProcessImplementation : IGupImplementation, IPrefetchingImplementation
{
    private readonly ProcessImplementationFactory _factory;
    private readonly ProcessConnection _conn;
    private readonly Profile _profile;
    private readonly long _run;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Queue<(Command Command, JsonElement Entry, long Seq, int Index)> _ready = new();
    private Command? _expectedAction;
    private IReadOnlyList<Command>? _expectedInspections;
    private int _busy;
    private bool _faulted;
    private bool _disposed;

    public ProcessImplementation(ProcessImplementationFactory factory, ProcessConnection conn, Profile profile, long run)
    {
        _factory = factory;
        _conn = conn;
        _profile = profile;
        _run = run;
    }

    private ProcessOptions Options => _factory.Options;

    public void Expect(Command action, IReadOnlyList<Command> inspections)
    {
        if (Options.Batching)
        {
            _expectedAction = action;
            _expectedInspections = inspections;
        }
    }

    public Observation Execute(Command command)
    {
        if (_faulted)
        {
            throw new ProcessProtocolException(ProtocolFault.ProcessExited, "the implementation process was already lost to an earlier fault in this run");
        }

        if (_ready.Count > 0)
        {
            if (_ready.Peek().Command.Equals(command))
            {
                var r = _ready.Dequeue();
                return Resolve(r.Entry, r.Command, r.Seq, r.Index);
            }

            _ready.Clear();
        }

        var batch = new List<Command> { command };
        if (_expectedAction is not null && _expectedAction.Equals(command) && _expectedInspections is not null)
        {
            batch.AddRange(_expectedInspections);
        }

        _expectedAction = null;
        _expectedInspections = null;
        Interlocked.Exchange(ref _busy, 1);
        try
        {
            var (entries, seq) = Exchange(batch);
            for (var i = 1; i < batch.Count; i++)
            {
                _ready.Enqueue((batch[i], entries[i], seq, i));
            }

            return Resolve(entries[0], command, seq, 0);
        }
        catch (ProcessProtocolException)
        {
            _faulted = true;
            _conn.Kill();
            throw;
        }
        finally
        {
            Interlocked.Exchange(ref _busy, 0);
            if (Volatile.Read(ref _disposed))
            {
                _conn.Kill();
            }
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        Volatile.Write(ref _disposed, true);
        if (_faulted || Volatile.Read(ref _busy) != 0 || _conn.Dead)
        {
            // A faulted run, or one abandoned mid-call by the executor's time limit: the process state is unknown.
            _factory.Forget(_conn);
            return;
        }

        try
        {
            _conn.CheckNoPendingOutput("after the last batch of run " + _run.ToString(CultureInfo.InvariantCulture));
            _conn.Send(ProcessWire.Request(w =>
            {
                w.WriteString("type", "end");
                w.WriteNumber("run", _run);
            }), "end");
            var reply = _conn.Receive(Options.CommandTimeout, "reply to end of run " + _run.ToString(CultureInfo.InvariantCulture));
            Expect(_conn, reply, "ended", "run", _run, "end");
        }
        catch (ProcessProtocolException)
        {
            _factory.Forget(_conn);
            throw;
        }

        _factory.Return(_conn);
    }

    /// <summary>Checks a reply's type and its echo of the request number; an error reply becomes its fault.</summary>
    internal static void Expect(ProcessConnection conn, JsonElement reply, string type, string numberField, long number, string request)
    {
        var got = ProcessWire.RequiredString(reply, "type", $"the reply to {request}");
        if (string.Equals(got, "error", StringComparison.Ordinal))
        {
            throw ErrorReply(reply, request);
        }

        if (string.Equals(got, "observations", StringComparison.Ordinal))
        {
            throw new ProcessProtocolException(ProtocolFault.ExtraOutput,
                $"a batch response arrived where '{type}' (the reply to {request}) was due: more responses than batches{conn.StderrTail()}");
        }

        if (!string.Equals(got, type, StringComparison.Ordinal))
        {
            throw Unexpected(got, $"'{type}' (the reply to {request})");
        }

        var n = ProcessWire.RequiredInt(reply, numberField, $"the '{type}' reply");
        if (n != number)
        {
            throw new ProcessProtocolException(ProtocolFault.OutOfOrder,
                $"the '{type}' reply names {numberField} {n.ToString(CultureInfo.InvariantCulture)}, but {numberField} {number.ToString(CultureInfo.InvariantCulture)} is outstanding{conn.StderrTail()}");
        }
    }

    private (IReadOnlyList<JsonElement> Entries, long Seq) Exchange(List<Command> batch)
    {
        var seq = _conn.NextSeq++;
        var what = $"batch {seq.ToString(CultureInfo.InvariantCulture)} ({batch.Count.ToString(CultureInfo.InvariantCulture)} command{(batch.Count == 1 ? string.Empty : "s")}, first {CommandText.Kind(batch[0])})";
        _conn.CheckNoPendingOutput("before " + what);
        var limit = Options.CommandTimeout;
        var fault = ProtocolFault.Hang;
        var left = Options.RunTimeout - _clock.Elapsed;
        if (left < limit)
        {
            limit = left;
            fault = ProtocolFault.RunTimeLimit;
        }

        if (limit <= TimeSpan.Zero)
        {
            _conn.Kill();
            throw new ProcessProtocolException(ProtocolFault.RunTimeLimit,
                $"run {_run.ToString(CultureInfo.InvariantCulture)} exceeded the per-run time limit ({((long)Options.RunTimeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture)} ms); the process was killed");
        }

        _conn.Send(ProcessWire.Request(w =>
        {
            w.WriteString("type", "batch");
            w.WriteNumber("seq", seq);
            w.WriteStartArray("commands");
            foreach (var c in batch)
            {
                ProcessWire.WriteCommand(w, c, _profile);
            }

            w.WriteEndArray();
        }), what);
        var reply = _conn.Receive(limit, "response to " + what, fault);
        var type = ProcessWire.RequiredString(reply, "type", "the response to " + what);
        if (string.Equals(type, "error", StringComparison.Ordinal))
        {
            throw ErrorReply(reply, what);
        }

        if (!string.Equals(type, "observations", StringComparison.Ordinal))
        {
            throw Unexpected(type, $"'observations' (the response to {what})");
        }

        var got = ProcessWire.RequiredInt(reply, "seq", "the response to " + what);
        if (got < seq)
        {
            throw new ProcessProtocolException(ProtocolFault.ExtraOutput,
                $"a second response to batch {got.ToString(CultureInfo.InvariantCulture)} arrived while {what} was outstanding{_conn.StderrTail()}");
        }

        if (got > seq)
        {
            throw new ProcessProtocolException(ProtocolFault.OutOfOrder,
                $"a response to batch {got.ToString(CultureInfo.InvariantCulture)} arrived while {what} was outstanding{_conn.StderrTail()}");
        }

        if (!reply.TryGetProperty("observations", out var list))
        {
            throw new ProcessProtocolException(ProtocolFault.MissingField, $"the response to {what} has no 'observations'");
        }

        if (list.ValueKind != JsonValueKind.Array)
        {
            throw new ProcessProtocolException(ProtocolFault.WrongType, $"'observations' of the response to {what} is {ProcessWire.Kind(list)}, not an array");
        }

        var n = list.GetArrayLength();
        if (n < batch.Count)
        {
            throw new ProcessProtocolException(ProtocolFault.MissingResponse,
                $"the response to {what} has {n.ToString(CultureInfo.InvariantCulture)} observation(s) for {batch.Count.ToString(CultureInfo.InvariantCulture)} command(s); the first unanswered is {CommandText.Render(batch[n], _profile)}");
        }

        if (n > batch.Count)
        {
            throw new ProcessProtocolException(ProtocolFault.ExtraOutput,
                $"the response to {what} has {n.ToString(CultureInfo.InvariantCulture)} observations for {batch.Count.ToString(CultureInfo.InvariantCulture)} command(s)");
        }

        // Each observation is decoded when the executor asks for it, so a fault is charged to its own command.
        return ([.. list.EnumerateArray()], seq);
    }

    private Observation Resolve(JsonElement element, Command command, long seq, int index)
    {
        ProcessWire.Entry entry;
        try
        {
            entry = ProcessWire.DecodeEntry(element, (index, seq, command), static at =>
                $"observation {at.index.ToString(CultureInfo.InvariantCulture)} of batch {at.seq.ToString(CultureInfo.InvariantCulture)} ({CommandText.Kind(at.command)})");
        }
        catch (ProcessProtocolException)
        {
            _faulted = true;
            _conn.Kill();
            throw;
        }

        if (entry.Observation is { } o)
        {
            return o;
        }

        _faulted = true;
        var fault = string.Equals(entry.ErrorCode, "unknown_command", StringComparison.Ordinal) ? ProtocolFault.UnknownCommand : ProtocolFault.ImplementationError;
        throw new ProcessProtocolException(fault,
            $"the implementation answered {CommandText.Render(command, _profile)} (command {index.ToString(CultureInfo.InvariantCulture)} of batch {seq.ToString(CultureInfo.InvariantCulture)}) with error '{entry.ErrorCode}': {entry.ErrorMessage}");
    }

    private static ProcessProtocolException ErrorReply(JsonElement reply, string request)
    {
        var code = reply.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.String ? Untrusted.Printable(c.GetString()) : "?";
        var message = reply.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? Untrusted.Printable(m.GetString()) : string.Empty;
        var fault = string.Equals(code, "unknown_command", StringComparison.Ordinal) ? ProtocolFault.UnknownCommand : ProtocolFault.ImplementationError;
        return new ProcessProtocolException(fault, $"the implementation answered {request} with error '{code}': {message}");
    }

    private static ProcessProtocolException Unexpected(string type, string expected) =>
        type is "hello" or "ready" or "ended" or "observations"
            ? new ProcessProtocolException(ProtocolFault.OutOfOrder, $"got a '{type}' message where {expected} was due")
            : new ProcessProtocolException(ProtocolFault.UnknownMessage, $"got a message of type '{type}', which the protocol does not define, where {expected} was due");
}
