namespace GupConformance.Engine;

/// <summary>How a guarded call ended.</summary>
public enum InvokeStatus
{
    Completed,
    Threw,
    TimedOut,
}

/// <summary>The outcome of a guarded call.</summary>
public readonly record struct InvokeResult<T>(InvokeStatus Status, T? Value, Exception? Exception);

/// <summary>
/// Runs calls into an implementation on a dedicated background worker thread with a time limit, so that a hung
/// implementation can be abandoned instead of hanging the run. After a time-out the worker is abandoned (it may
/// still be running the hung call; it is a background thread and never blocks process exit) and a fresh worker
/// serves later calls. All calls of one instance happen on one thread at a time, in order.
/// </summary>
public sealed class GuardedInvoker : IDisposable
{
    private Worker? _worker;

    public InvokeResult<T> Invoke<T>(Func<T> call, TimeSpan timeout)
    {
        _worker ??= new Worker();
        var w = _worker;
        T? value = default;
        Exception? error = null;
        var finished = w.Run(() =>
        {
            try
            {
                value = call();
            }
            catch (Exception e)
            {
                error = e;
            }
        }, timeout);
        if (!finished)
        {
            _worker = null;
            w.Abandon();
            return new InvokeResult<T>(InvokeStatus.TimedOut, default, null);
        }

        return error is null
            ? new InvokeResult<T>(InvokeStatus.Completed, value, null)
            : new InvokeResult<T>(InvokeStatus.Threw, default, error);
    }

    public void Dispose()
    {
        _worker?.Stop();
        _worker = null;
    }

    private sealed class Worker
    {
        private readonly SemaphoreSlim _go = new(0);
        private readonly SemaphoreSlim _done = new(0);
        private Action? _work;
        private volatile bool _stop;

        public Worker()
        {
            var t = new Thread(Loop) { IsBackground = true, Name = "gupconformance-impl" };
            t.Start();
        }

        public bool Run(Action work, TimeSpan timeout)
        {
            _work = work;
            _go.Release();
            return _done.Wait(timeout);
        }

        public void Abandon() => _stop = true;

        public void Stop()
        {
            _stop = true;
            _go.Release();
        }

        private void Loop()
        {
            while (true)
            {
                _go.Wait();
                if (_stop)
                {
                    return;
                }

                _work?.Invoke();
                _work = null;
                if (_stop)
                {
                    return;
                }

                _done.Release();
            }
        }
    }
}
