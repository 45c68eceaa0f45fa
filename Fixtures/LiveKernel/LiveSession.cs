using System.Globalization;
using GupConformance.Spec.Live;

namespace GupConformance.Fixtures.LiveKernel;

/// <summary>
/// One helper process: it holds the mappings, rings, pipes and children of one command sequence. Each command is
/// one request line; the reply's key=value pairs are the observation. After a command the page states of the
/// regions it names (every region after a fork) are read from pagemap and kpageflags. The helper runs on this
/// machine or in a test VM (<see cref="ILiveChannel"/>); the session is the same.
/// </summary>
public sealed class LiveSession : ILiveKernel
{
    private readonly ILiveChannel _channel;
    private readonly SortedSet<int> _regions = [];
    private bool _disposed;

    internal LiveSession(ILiveChannel channel)
    {
        _channel = channel;
        Ready = channel.Ready;
        if (!Ready.StartsWith("ready", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("livehelper: " + Ready);
        }
    }

    /// <summary>The helper's first line: what it could open.</summary>
    public string Ready { get; }

    private static string N(long v) => v.ToString(CultureInfo.InvariantCulture);

    private static string Iovs(IReadOnlyList<LiveIov> iovs) => N(iovs.Count) + " " + string.Join(" ", iovs.Select(i => i.Wire()));

    public IReadOnlyDictionary<string, string> Execute(LiveCommand command)
    {
        var line = command switch
        {
            LiveMap m => $"map {N(m.Region)} {N((int)m.Kind)} {N(m.Pages)}",
            LiveTouch t => $"touch {N(t.Region)} {N(t.Page)} {N(t.Count)} {(t.Write ? 1 : 0)}",
            LiveUnmap u => $"unmap {N(u.Region)}",
            LiveRingSetup r => $"ring {N(r.Ring)}",
            LiveRingClose r => $"rclose {N(r.Ring)}",
            LiveRegister r => $"reg {N(r.Ring)} {Iovs(r.Iovs)}",
            LiveUnregister r => $"unreg {N(r.Ring)}",
            LiveDirectIo d => $"dio {(d.Write ? "w" : "r")} {Iovs(d.Iovs)}",
            LiveBufferedIo b => $"buf {(b.Write ? "w" : "r")} {Iovs(b.Iovs)}",
            LiveProcessVm p => $"pvm {(p.Write ? "w" : "r")} {Iovs(p.Iovs)}",
            LivePipeOpen p => $"pipe {N(p.Pipe)} {N(p.Slots)}",
            LiveVmsplice v => $"vms {N(v.Pipe)} {Iovs(v.Iovs)}",
            LivePipeClose p => $"pclose {N(p.Pipe)}",
            LiveFork => "fork",
            LiveThreshold t => $"threshold {N(t.MaxRefs)} {(t.InChild ? 1 : 0)}",
            LiveInspect => null,
            _ => throw new NotSupportedException(command.GetType().Name),
        };

        var fields = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (line is not null)
        {
            foreach (var kv in Request(line))
            {
                fields[kv.Key] = kv.Value;
            }
        }

        if (command is LiveMap map && fields.GetValueOrDefault("result") == "0")
        {
            _regions.Add(map.Region);
        }

        if (command is LiveUnmap um)
        {
            _regions.Remove(um.Region);
        }

        var named = command is LiveFork or LiveThreshold ? [.. _regions] : command.RegionsNamed.Where(_regions.Contains).ToList();
        foreach (var r in named)
        {
            var st = Request($"state {N(r)}");
            fields[$"state.r{N(r)}"] = st.GetValueOrDefault("st", "?");
            fields[$"layout.r{N(r)}"] = st.GetValueOrDefault("lay", "?");
        }

        return fields;
    }

    /// <summary>The environment probe: what a read fault of a fresh small page maps, and the page size.</summary>
    public IReadOnlyDictionary<string, string> Probe() => Request("probe");

    /// <summary>Global counters as the helper sees them (after stat_refresh).</summary>
    public IReadOnlyDictionary<string, string> Counters() => Request("counters");

    private Dictionary<string, string> Request(string line)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var reply = _channel.Exchange(line);
        if (!reply.StartsWith("ok", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"livehelper refused '{line}': {reply}");
        }

        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var tok in reply.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1))
        {
            var eq = tok.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
            {
                fields[tok[..eq] == "res" ? "result" : tok[..eq]] = tok[(eq + 1)..];
            }
        }

        return fields;
    }

    /// <summary>Ends the helper at once (an interrupted run): a command waiting for its reply fails straight away.</summary>
    internal void Abort() => _channel.Kill();

    /// <summary>The helper has exited (it was killed, or it died).</summary>
    internal bool Exited => _channel.Exited;

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        try
        {
            if (!_channel.Exited)
            {
                _ = _channel.Exchange("cleanup");
            }
        }
        catch (Exception e) when (e is IOException or TimeoutException or InvalidOperationException)
        {
            _channel.Kill();
        }
        finally
        {
            _disposed = true;
            _channel.Quit();
        }
    }
}
