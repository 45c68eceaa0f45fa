using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace GupConformance.Engine;

/// <summary>Thrown on an abandoned worker when its hung call finally returns: the run it belonged to is over.</summary>
internal sealed class SequenceAbandonedException : Exception
{
    public SequenceAbandonedException()
        : base("the sequence was abandoned after a call into the implementation timed out")
    {
    }
}

/// <summary>
/// Runs a whole sequence on a dedicated background worker thread and watches the calls into the implementation it
/// makes, so that a hung implementation is abandoned instead of hanging the run, at the price of two thread switches
/// per sequence instead of two per call. The worker brackets each call with <see cref="Enter"/> / <see cref="Leave"/>
/// (a count and a volatile write in, one interlocked operation out); the waiting caller looks at the open call at
/// least four times per time limit and gives up on the sequence when it has seen the same call open for longer than
/// the limit, so a hung call is abandoned between one limit and a quarter more after it started. From then on the
/// worker never touches the sequence's state again: when the hung call returns, <see cref="Leave"/> throws
/// <see cref="SequenceAbandonedException"/> and the worker thread ends (it is a background thread and never blocks
/// process exit); a fresh worker serves the next sequence. Only the implementation's calls are timed: the model and the
/// comparison are the engine's own code.
/// </summary>
public sealed class GuardedInvoker : IDisposable
{
    private const int Idle = 0;
    private const int InCall = 1;
    private const int Abandoned = 2;

    private Worker? _worker;

    /// <summary>Whether the last <see cref="Run{T}"/> was abandoned because a call timed out.</summary>
    public bool TimedOut { get; private set; }

    /// <summary>
    /// Runs <paramref name="body"/> on the worker and waits for it. Returns its value, or default with
    /// <see cref="TimedOut"/> set when one of its calls (bracketed by <see cref="Enter"/> / <see cref="Leave"/>) took
    /// longer than <paramref name="callTimeout"/>; the caller may then read the state the body left before that call.
    /// An exception the body lets escape is rethrown here.
    /// <paramref name="meanwhile"/>, if given, runs on the calling thread while the worker runs the body, and must not
    /// touch what the body touches. If it throws, the body is still waited for (an exception of the body comes first). The
    /// body's calls are watched only once meanwhile has returned, so a hang is noticed that much later: it is meant for work of
    /// milliseconds (the next sequence's generation), not seconds.
    /// </summary>
    public T? Run<T>(Func<T> body, TimeSpan callTimeout, Action? meanwhile = null)
    {
        ArgumentNullException.ThrowIfNull(body);
        TimedOut = false;
        _worker ??= new Worker();
        var w = _worker;
        T? value = default;
        w.Post(() => value = body());
        ExceptionDispatchInfo? meanwhileError = null;
        try
        {
            meanwhile?.Invoke();
        }
        catch (Exception e)
        {
            // Still wait for the body: it must not outlive the call that started it.
            meanwhileError = ExceptionDispatchInfo.Capture(e);
        }

        var finished = w.WaitWatching(callTimeout);
        if (!finished)
        {
            _worker = null;
            TimedOut = true;
            meanwhileError?.Throw();
            return default;
        }

        w.Error?.Throw();
        meanwhileError?.Throw();
        return value;
    }

    /// <summary>Worker side: a call into the implementation starts now.</summary>
    public void Enter() => Current().Enter();

    /// <summary>Worker side: the call returned. Throws <see cref="SequenceAbandonedException"/> if the caller gave up on it meanwhile.</summary>
    public void Leave() => Current().Leave();

    /// <summary>
    /// Worker side: the brackets of this worker's calls, looked up once. A sequence brackets every command it sends, and
    /// finding the worker through its thread-static for each Enter and Leave was about 1 % of the checking thread's time.
    /// </summary>
    internal static CallBrackets BracketsOfThisThread() => new(Current());

    /// <summary>What <see cref="Enter"/> and <see cref="Leave"/> do, for the worker the bracketing thread runs.</summary>
    internal readonly struct CallBrackets
    {
        private readonly Worker _worker;

        internal CallBrackets(Worker worker) => _worker = worker;

        public void Enter() => _worker.Enter();

        public void Leave() => _worker.Leave();
    }

    public void Dispose()
    {
        _worker?.Stop();
        _worker = null;
    }

    // The worker of the calling thread, not the invoker's current one: a worker abandoned after a time-out keeps
    // running its hung call, and when that call returns its Leave must reach its own (abandoned) worker. Were it to
    // reach the fresh worker serving the next sequence, it would steal that worker's call bracket, and the fresh
    // worker's own Leave would then find no call open, end its thread and leave the waiting run hanging.
    [ThreadStatic]
    private static Worker? t_current;

    private static Worker Current() => t_current ?? throw new InvalidOperationException("Enter/Leave outside Run");

    internal sealed class Worker
    {
        // One piece of work is posted at a time (Run waits for it), so _go is reset by the worker as it takes the work.
        // Both waits spin first while the waits have been short (Handoff).
        private readonly Handoff _go = new();
        private readonly Handoff _done = new();
        private Action? _work;
        private volatile bool _stop;
        private int _phase = Idle;

        // Calls started, written by the worker only. Reading the clock on every call cost more than many
        // implementations' calls themselves, so a call is timed by the watcher, from when it first saw it open.
        private long _calls;

        public Worker()
        {
            var t = new Thread(Loop) { IsBackground = true, Name = "gupconformance-impl" };
            t.Start();
        }

        public ExceptionDispatchInfo? Error { get; private set; }

        public void Post(Action work)
        {
            Error = null;
            _done.Reset();
            _work = work;
            _go.Set();
        }

        /// <summary>Waits for the posted work; false (and the worker abandoned) when a call outlived the limit.</summary>
        public bool WaitWatching(TimeSpan limit)
        {
            var limitTicks = (long)(limit.TotalSeconds * Stopwatch.Frequency);
            var look = TimeSpan.FromTicks(Math.Max(limit.Ticks / 4, TimeSpan.TicksPerMillisecond));
            long seen = -1;
            long seenAt = 0;
            var first = true;
            while (true)
            {
                var wait = look;
                if (Volatile.Read(ref _phase) == InCall)
                {
                    var call = Volatile.Read(ref _calls);
                    var now = Stopwatch.GetTimestamp();
                    if (call != seen)
                    {
                        (seen, seenAt) = (call, now);
                    }
                    else if (now - seenAt >= limitTicks && Interlocked.CompareExchange(ref _phase, Abandoned, InCall) == InCall)
                    {
                        _stop = true;
                        return false;
                    }

                    var left = TimeSpan.FromSeconds((double)Math.Max(seenAt + limitTicks - now, 0) / Stopwatch.Frequency) + TimeSpan.FromMilliseconds(1);
                    wait = left < look ? left : look;
                }

                // Only the first wait may spin: the later ones come after a quarter of the time limit or more.
                if (_done.Wait(wait, spin: first))
                {
                    return true;
                }

                first = false;
            }
        }

        public void Enter()
        {
            // Only the worker moves the phase from Idle to InCall (the watcher only from InCall to Abandoned), so
            // ordered writes do; the count is written first, so a watcher that sees the call open sees its number.
            Volatile.Write(ref _calls, _calls + 1);
            Volatile.Write(ref _phase, InCall);
        }

        public void Leave()
        {
            if (Interlocked.CompareExchange(ref _phase, Idle, InCall) != InCall)
            {
                throw new SequenceAbandonedException();
            }
        }

        public void Stop()
        {
            _stop = true;
            _go.Set();
        }

        private void Loop()
        {
            t_current = this;
            while (true)
            {
                _go.Wait(Timeout.InfiniteTimeSpan, spin: true);
                _go.Reset();
                if (_stop)
                {
                    return;
                }

                try
                {
                    _work?.Invoke();
                }
                catch (SequenceAbandonedException)
                {
                    return;
                }
                catch (Exception e)
                {
                    Error = ExceptionDispatchInfo.Capture(e);
                }

                _work = null;
                if (_stop)
                {
                    return;
                }

                _done.Set();
            }
        }
    }

    /// <summary>
    /// An event one thread waits on and the other sets, once per sequence each way. A blocked waiter costs the setter a
    /// futex wake (perf of a settled checked run on 2026-12-07: 4.5 % of the generating thread's samples, in the
    /// hypervisor's wake-up path) and itself the time to be scheduled again, so a waiter first spins, for at most
    /// <see cref="SpinTicks"/>, while its last wait was shorter than that: the two threads of an in-process run hand each
    /// other a sequence every few hundred microseconds. After a long wait (an implementation in another process, a hung
    /// call) it blocks at once, leaving the core to whoever does the work. Measured alternately against blocking at once
    /// (<c>--checked-only 12</c>, six processes each): best 76.6 against 80.8 ms, mean 89.2 against 97.1 ms, at 10 % more
    /// CPU; the process and native rows of the benchmark's table did not get worse.
    /// </summary>
    private sealed class Handoff
    {
        private static readonly long SpinTicks = Stopwatch.Frequency / 1000;

        private readonly ManualResetEventSlim _event = new(false, spinCount: 0);

        // How long the last completed wait took, in Stopwatch ticks (0: none yet, so the first wait spins).
        private long _lastWait;

        public void Set() => _event.Set();

        public void Reset() => _event.Reset();

        /// <summary>Waits until set or <paramref name="timeout"/>; spins first when <paramref name="spin"/> and the last wait was short.</summary>
        public bool Wait(TimeSpan timeout, bool spin)
        {
            if (_event.IsSet)
            {
                _lastWait = 0;
                return true;
            }

            var start = Stopwatch.GetTimestamp();
            if (spin && _lastWait < SpinTicks)
            {
                var spinner = default(SpinWait);
                while (Stopwatch.GetTimestamp() - start < SpinTicks)
                {
                    // Never Sleep(1): a millisecond asleep is longer than the whole wait is expected to be.
                    spinner.SpinOnce(sleep1Threshold: -1);
                    if (_event.IsSet)
                    {
                        _lastWait = Stopwatch.GetTimestamp() - start;
                        return true;
                    }
                }
            }

            var set = _event.Wait(timeout);
            if (set)
            {
                _lastWait = Stopwatch.GetTimestamp() - start;
            }

            return set;
        }
    }
}
