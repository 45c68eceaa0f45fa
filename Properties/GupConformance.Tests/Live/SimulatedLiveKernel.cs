using GupConformance.Oracles;
using GupConformance.Oracles.Live;
using GupConformance.Spec.Live;

namespace GupConformance.Tests.Live;

/// <summary>
/// A kernel simulated from an environment: it answers every command with what the live model allows for that
/// environment and era (<paramref name="truth"/>, linux-6.18 by default; its first allowed value). It stands in for a
/// machine whose probe gave these facts.
/// </summary>
internal sealed class SimulatedLiveKernel(LiveEnvironment env, LiveProfile? truth = null) : ILiveKernelFactory
{
    public LiveEnvironment Environment => env;

    public IReadOnlyList<string> CleanupReport => [];

    public ILiveKernel Create() => new Session(env, truth ?? LiveProfile.Linux618);

    public long OutstandingPins() => 0;

    public void Dispose()
    {
    }

    private sealed class Session(LiveEnvironment env, LiveProfile truth) : ILiveKernel
    {
        private LiveState _state = LiveModel.Init(truth, env);

        public IReadOnlyDictionary<string, string> Execute(LiveCommand command)
        {
            var outcome = LiveModel.Step(_state, command);
            _state = outcome.Next;
            return outcome.Checks.Where(c => c.Allowed.Count > 0 && c.Allowed[0] != FieldCheck.Absent)
                .ToDictionary(c => c.Field, c => c.Allowed[0], StringComparer.Ordinal);
        }

        public void Dispose()
        {
        }
    }
}

/// <summary>A kernel whose factory reports different environment facts to the run than the kernel really has.</summary>
internal sealed class ToldLiveEnvironment(ILiveKernelFactory kernel, LiveEnvironment told) : ILiveKernelFactory
{
    public LiveEnvironment Environment => told;

    public IReadOnlyList<string> CleanupReport => kernel.CleanupReport;

    public ILiveKernel Create() => kernel.Create();

    public long OutstandingPins() => kernel.OutstandingPins();

    public void Dispose() => kernel.Dispose();
}
