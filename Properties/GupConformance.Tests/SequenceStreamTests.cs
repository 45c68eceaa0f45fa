using FsCheck;
using FsCheck.Fluent;
using GupConformance.Engine;
using GupConformance.Engine.Coverage;
using GupConformance.Fixtures;
using GupConformance.Spec;

namespace GupConformance.Tests;

/// <summary>
/// A run generates each sequence while the one before it is checked (SequenceStream). That must change nothing: the run
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

        // The same stream made here, as a run made it before generation overlapped checking: FsCheck's seeds for the run
        // seed, each sequence generated after the one before with one steering tally.
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
        var (seeds, stream) = Unsteered(new RunOptions { Sequences = 5, Length = 10, Seed = 3 });

        Assert.Equal(seeds[0], stream.Take(0, seeds[0]).Seed);
        var e = Assert.Throws<InvalidOperationException>(() => stream.Take(1, seeds[1] ^ 1));
        Assert.Contains("engine error", e.Message, StringComparison.Ordinal);
        Assert.Contains($"from seed {seeds[1]}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Each_sequence_is_generated_once_however_often_the_run_asks_for_the_next_one_ahead()
    {
        var profile = Profiles.Linux618;
        var options = new RunOptions { Sequences = 3, Length = 40, Seed = 7 };
        var seeds = SeedsOfRun(options);

        // Steering counts every generated sequence's labels, so a sequence generated twice would be counted twice.
        var askedAhead = Steered(profile);
        var stream = new SequenceStream(askedAhead.Generator, Config(options), options.Length);
        stream.Prefetch();
        stream.Prefetch();
        var first = stream.Take(0, seeds[0]);
        stream.Prefetch();
        stream.Prefetch();
        var second = stream.Take(1, seeds[1]);

        var once = Steered(profile);
        var expected = new[] { once.Generator.Generate(seeds[0], options.Length), once.Generator.Generate(seeds[1], options.Length) };
        Assert.NotEmpty(once.Tally.Sequences);
        Assert.Equal(once.Tally.Sequences.OrderBy(kv => kv.Key, StringComparer.Ordinal), askedAhead.Tally.Sequences.OrderBy(kv => kv.Key, StringComparer.Ordinal));
        Assert.Equal(Actions(expected[0]), Actions(first.Commands));
        Assert.Equal(Actions(expected[1]), Actions(second.Commands));
    }

    [Fact]
    public void Taking_a_sequence_past_the_seeds_FsCheck_drew_for_the_run_is_an_engine_error()
    {
        var (seeds, stream) = Unsteered(new RunOptions { Sequences = 2, Length = 10, Seed = 3 });
        _ = stream.Take(0, seeds[0]);
        _ = stream.Take(1, seeds[1]);

        var e = Assert.Throws<InvalidOperationException>(() => stream.Take(2, seeds[1]));
        Assert.Contains("engine error", e.Message, StringComparison.Ordinal);
        Assert.Contains("FsCheck drew 2 seeds", e.Message, StringComparison.Ordinal);
    }

    /// <summary>The seeds of a run with <paramref name="options"/>, and a stream of its sequences from a generator without steering.</summary>
    private static (List<ulong> Seeds, SequenceStream Stream) Unsteered(RunOptions options)
    {
        var profile = Profiles.Linux618;
        return (SeedsOfRun(options), new SequenceStream(new SequenceGenerator(profile, profile.Facets), Config(options), options.Length));
    }

    private static (SequenceGenerator Generator, EdgeTally Tally) Steered(Profile profile)
    {
        var tally = new EdgeTally(EdgeCases.Targets(profile, profile.Facets));
        return (new SequenceGenerator(profile, profile.Facets, GeneratorWeights.Default, tally), tally);
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
