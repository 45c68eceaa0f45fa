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
}
