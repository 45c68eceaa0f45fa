using GupConformance.Engine;

namespace GupConformance.Tests;

/// <summary>The guarded worker that times calls into an implementation (GuardedInvoker).</summary>
public sealed class GuardedInvokerTests
{
    [Fact]
    public async Task A_call_that_returns_after_its_time_out_does_not_disturb_the_run_after_it()
    {
        using var invoker = new GuardedInvoker();
        using var lateCallMayReturn = new ManualResetEventSlim(false);
        using var secondCallStarted = new ManualResetEventSlim(false);
        using var secondCallMayReturn = new ManualResetEventSlim(false);

        // Run 1: its only call hangs past the limit, so the run is abandoned while the call is still going on.
        var first = invoker.Run(() =>
        {
            invoker.Enter();
            lateCallMayReturn.Wait();
            invoker.Leave();
            return 1;
        }, TimeSpan.FromMilliseconds(50));
        Assert.True(invoker.TimedOut);
        Assert.Equal(0, first);

        // Run 2 on a fresh worker: while its call is open, the abandoned call of run 1 returns and leaves.
        var second = Task.Run(() => invoker.Run(() =>
        {
            invoker.Enter();
            secondCallStarted.Set();
            secondCallMayReturn.Wait();
            invoker.Leave();
            return 2;
        }, TimeSpan.FromSeconds(60)));
        Assert.True(secondCallStarted.Wait(TimeSpan.FromSeconds(30)), "the second run never started its call");
        lateCallMayReturn.Set();
        Thread.Sleep(200);
        secondCallMayReturn.Set();

        // Were the late Leave to close the second run's call, the second run's own Leave would end its worker and the
        // run would wait forever.
        var done = await Task.WhenAny(second, Task.Delay(TimeSpan.FromSeconds(30)));
        Assert.True(done == second, "the run after an abandoned call hung");
        Assert.Equal(2, await second);
        Assert.False(invoker.TimedOut);
    }

    [Fact]
    public void Work_given_to_do_meanwhile_runs_on_the_calling_thread_while_the_body_runs()
    {
        using var invoker = new GuardedInvoker();
        using var meanwhileRan = new ManualResetEventSlim(false);
        var caller = Environment.CurrentManagedThreadId;
        var meanwhileThread = -1;

        // The body waits for the work done meanwhile: were that work done before the body was started or after it
        // returned, the body would give up waiting.
        var bodySawIt = invoker.Run(() => meanwhileRan.Wait(TimeSpan.FromSeconds(30)), TimeSpan.FromSeconds(60), () =>
        {
            meanwhileThread = Environment.CurrentManagedThreadId;
            meanwhileRan.Set();
        });

        Assert.True(bodySawIt, "the body never saw the work done meanwhile");
        Assert.Equal(caller, meanwhileThread);
        Assert.False(invoker.TimedOut);
    }

    [Fact]
    public void An_exception_of_the_work_done_meanwhile_is_rethrown_once_the_body_has_finished()
    {
        using var invoker = new GuardedInvoker();
        var bodyFinished = false;

        var e = Assert.Throws<InvalidOperationException>(() => invoker.Run(() =>
        {
            Thread.Sleep(100);
            bodyFinished = true;
            return 1;
        }, TimeSpan.FromSeconds(60), () => throw new InvalidOperationException("meanwhile failed")));

        Assert.Equal("meanwhile failed", e.Message);
        Assert.True(Volatile.Read(ref bodyFinished), "the exception escaped before the body had finished");
    }

    [Fact]
    public void A_hung_call_is_abandoned_when_work_is_done_meanwhile()
    {
        using var invoker = new GuardedInvoker();
        using var release = new ManualResetEventSlim(false);
        var meanwhileRan = false;

        var value = invoker.Run(() =>
        {
            invoker.Enter();
            release.Wait();
            invoker.Leave();
            return 1;
        }, TimeSpan.FromMilliseconds(50), () => meanwhileRan = true);

        Assert.True(invoker.TimedOut);
        Assert.Equal(0, value);
        Assert.True(meanwhileRan);
        release.Set();
    }
}
