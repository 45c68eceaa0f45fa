using GupConformance.Engine;
using GupConformance.Engine.Plugins;
using GupConformance.Fixtures;
using GupConformance.Oracles;
using GupConformance.Spec;

namespace GupConformance.Benchmarks;

/// <summary>
/// The command stream of one conformance run, recorded once (every command the executor sent, actions and the
/// inspections after them, sequence by sequence) so that it can be replayed against the model alone or an
/// implementation alone, with nothing of the engine in between.
/// </summary>
public sealed class RecordedStream
{
    public RecordedStream(Profile profile, IReadOnlyList<IReadOnlyList<Command>> sequences)
    {
        Profile = profile;
        Sequences = sequences;
        Commands = sequences.Sum(s => (long)s.Count);
    }

    public Profile Profile { get; }

    /// <summary>Per sequence: the commands in the order the executor sent them.</summary>
    public IReadOnlyList<IReadOnlyList<Command>> Sequences { get; }

    public long Commands { get; }

    /// <summary>Runs <paramref name="factory"/> (which must conform: no shrinking) with <paramref name="options"/> and records what it was sent.</summary>
    public static RecordedStream Record(IImplementationFactory factory, Profile profile, RunOptions options)
    {
        var recorder = new RecordingFactory(factory);
        var run = ConformanceRun.Run(recorder, profile, options);
        if (!run.Conformant)
        {
            throw new InvalidOperationException($"the recording run of {factory.Name} under {profile.Id} is not conformant; the stream would include shrinking");
        }

        return new RecordedStream(profile, recorder.Sequences);
    }

    /// <summary>The model alone: Precondition and Step over every command, a fresh state per sequence.</summary>
    public long ReplayModel()
    {
        long n = 0;
        foreach (var seq in Sequences)
        {
            var state = GupModel.Init(Profile);
            foreach (var c in seq)
            {
                if (GupModel.Precondition(state, c) is { } why)
                {
                    throw new InvalidOperationException($"the model refuses a recorded command: {why}");
                }

                state = GupModel.Step(state, c).Next;
                n++;
            }
        }

        return n;
    }

    /// <summary>For a profile of the model: per command kind, how many commands and the milliseconds their Precondition + Step took.</summary>
    public IReadOnlyList<(string Kind, long Count, double Ms)> ModelCostByKind()
    {
        var ticks = new Dictionary<string, (long N, long Ticks)>(StringComparer.Ordinal);
        foreach (var seq in Sequences)
        {
            var state = GupModel.Init(Profile);
            foreach (var c in seq)
            {
                var t0 = System.Diagnostics.Stopwatch.GetTimestamp();
                _ = GupModel.Precondition(state, c);
                state = GupModel.Step(state, c).Next;
                var dt = System.Diagnostics.Stopwatch.GetTimestamp() - t0;
                var kind = CommandText.Kind(c);
                var (n, t) = ticks.GetValueOrDefault(kind);
                ticks[kind] = (n + 1, t + dt);
            }
        }

        return [.. ticks.OrderByDescending(kv => kv.Value.Ticks)
            .Select(kv => (kv.Key, kv.Value.N, kv.Value.Ticks * 1000.0 / System.Diagnostics.Stopwatch.Frequency))];
    }

    /// <summary>
    /// The implementation alone: a fresh instance per sequence, every command executed, nothing compared. A prefetching
    /// (process) implementation is told each action's inspections first, as the executor does, so it batches alike.
    /// </summary>
    public long ReplayImplementation(IImplementationFactory factory)
    {
        long n = 0;
        foreach (var seq in Sequences)
        {
            using var impl = factory.Create(Profile);
            var prefetch = impl as IPrefetchingImplementation;
            for (var i = 0; i < seq.Count; i++)
            {
                var c = seq[i];
                if (prefetch is not null && !c.IsQuery)
                {
                    var j = i + 1;
                    while (j < seq.Count && seq[j] is InspectFolio or ReadVmstat)
                    {
                        j++;
                    }

                    prefetch.Expect(c, [.. seq.Skip(i + 1).Take(j - i - 1)]);
                }

                _ = impl.Execute(c);
                n++;
            }
        }

        return n;
    }
}
