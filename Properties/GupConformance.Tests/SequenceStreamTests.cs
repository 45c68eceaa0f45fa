using FsCheck;
using FsCheck.Fluent;
using GupConformance.Engine;
using GupConformance.Engine.Coverage;
using GupConformance.Fixtures;
using GupConformance.Spec;

namespace GupConformance.Tests;

/// <summary>
/// A run generates its sequences ahead on a thread of its own (SequenceStream). That must change nothing: the run
/// executes exactly the sequences its generator makes, one after the other, from the seeds FsCheck draws for the run.
/// </summary>
public sealed class SequenceStreamTests
{
    private const int Sequences = 60;
    private const int Length = 30;

    [Fact]
    public void A_run_executes_the_sequences_its_generator_makes_one_after_the_other_from_the_seeds_FsCheck_draws()
    {
        var profile = Profiles.Linux618;
        var options = new RunOptions { Sequences = Sequences, Length = Length, Seed = 11 };
        var recorder = new RecordingFactory(new KernelStyleFactory());
        var run = ConformanceRun.Run(recorder, profile, options);
        Assert.True(run.Conformant, "the reference must conform, or shrinking would add sequences");

        // The same stream made on this thread, as a run made it before generation had a thread of its own: FsCheck's
        // seeds for the run seed, each sequence generated after the one before with one steering tally.
        var manifest = new KernelStyleFactory().ManifestFor(profile)!;
        var facets = manifest.Facets & profile.Facets;
        var weights = GeneratorWeights.Default with { MaxOrder = Math.Min(GeneratorWeights.Default.MaxOrder, manifest.MaxFolioOrder) };
        var generator = new SequenceGenerator(profile, facets, weights, new EdgeTally(EdgeCases.Targets(profile, facets)));
        var expected = SeedsOfRun(options).Select(seed => Actions(generator.Generate(seed, Length))).ToList();

        var executed = recorder.Sequences.Select(Actions).ToList();
        Assert.Equal(Sequences, executed.Count);
        for (var i = 0; i < Sequences; i++)
        {
            Assert.True(expected[i].SequenceEqual(executed[i]), $"sequence {i} differs (seed {options.Seed}):\nexpected {string.Join("; ", expected[i])}\nexecuted {string.Join("; ", executed[i])}");
        }
    }

    [Fact]
    public void The_stream_refuses_to_hand_over_a_sequence_for_a_seed_other_than_the_one_it_drew()
    {
        var profile = Profiles.Linux618;
        var options = new RunOptions { Sequences = 5, Length = 10, Seed = 3 };
        var seeds = SeedsOfRun(options);
        using var stream = new SequenceStream(new SequenceGenerator(profile, profile.Facets), Config(options), 10);

        Assert.Equal(seeds[0], stream.Take(0, seeds[0]).Seed);
        var e = Assert.Throws<InvalidOperationException>(() => stream.Take(1, seeds[1] ^ 1));
        Assert.Contains("engine error", e.Message, StringComparison.Ordinal);
        Assert.Contains($"from seed {seeds[1]}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Disposing_a_stream_with_sequences_left_ends_its_thread()
    {
        var profile = Profiles.Linux618;
        var options = new RunOptions { Sequences = 100_000, Length = 40, Seed = 5 };
        var stream = new SequenceStream(new SequenceGenerator(profile, profile.Facets), Config(options), 40);
        _ = stream.Take(0, SeedsOfRun(options with { Sequences = 1 })[0]);

        // The producer is blocked handing over sequences nobody takes; disposing must free it, not wait for 100,000.
        var disposed = Task.Run(stream.Dispose);
        var first = await Task.WhenAny(disposed, Task.Delay(TimeSpan.FromSeconds(30)));
        Assert.True(ReferenceEquals(first, disposed), "Dispose did not return within 30 s: the generation thread kept running");
    }

    private static FsCheck.Config Config(RunOptions options) => ConformanceRun.SeedConfig(options).WithQuietOnSuccess(true);

    /// <summary>The seeds FsCheck draws, test by test, for a run with these options.</summary>
    private static List<ulong> SeedsOfRun(RunOptions options)
    {
        var seeds = new List<ulong>();
        Check.One(Config(options), Prop.ForAll(Arb.From(GupArb.SeedGen), (Func<ulong, bool>)(seed =>
        {
            seeds.Add(seed);
            return true;
        })));
        return seeds;
    }

    private static List<string> Actions(IEnumerable<Command> sequence) => [.. sequence.Where(c => !c.IsQuery).Select(c => CommandText.Render(c))];
}
