using System.Text.RegularExpressions;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using GupConformance.Engine;
using GupConformance.Fixtures;
using GupConformance.Fixtures.Broken;
using GupConformance.Spec;
using GupConformance.Specification.Tests;
using Microsoft.FSharp.Core;
using Xunit.Sdk;

namespace GupConformance.Tests.FsCheckSurface;

/// <summary>
/// The FsCheck surface for implementers: <see cref="GupProperty.ConformsTo"/> run the way FsCheck.Xunit runs a
/// [Property] (its own runner and failure text), <see cref="GupArb"/> under FsCheck's settings, and the xunit base class.
/// </summary>
public sealed partial class GupPropertyTests
{
    private const string Bug = "broken-pin-bias-adds-refs";

    private static IImplementationFactory Broken => BrokenImplementations.Find(Bug)!.Factory;

    private static Profile Latest => Profiles.Get("linux-6.18");

    /// <summary>
    /// What FsCheck.Xunit's [Property] does with a property: check it with its XunitRunner and, on failure, throw a
    /// PropertyFailedException built from the result. Returns that exception's message (null when the property held).
    /// </summary>
    private static string? RunLikeXunit(Property property, int maxTest, string? replay = null, int? endSize = null)
    {
        var runner = new XunitRunner();
        var config = Config.Default.WithMaxTest(maxTest).WithRunner(runner);
        if (replay is not null)
        {
            var parts = replay.Trim('(', ')').Split(',');
            var rnd = new Rnd(ulong.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture), ulong.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture));
            var size = parts.Length == 3 ? FSharpOption<int>.Some(int.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture)) : FSharpOption<int>.None;
            config = config.WithReplay(FSharpOption<FsCheck.Replay>.Some(new FsCheck.Replay(rnd, size)));
        }

        if (endSize is { } e)
        {
            config = config.WithEndSize(e);
        }

        Check.One(config, property);
        return runner.Result.IsPassed ? null : new PropertyFailedException(runner.Result).Message;
    }

    [GeneratedRegex(@"Falsifiable, after (\d+) tests? \((\d+) shrinks?\) \((\d+),(\d+)\)")]
    private static partial Regex Falsifiable();

    [GeneratedRegex(@"Replay directly at failing step with \((\d+),(\d+),(\d+)\)")]
    private static partial Regex FailingStep();

    private static string Label(string message) =>
        message[message.IndexOf("Label of failing property:", StringComparison.Ordinal)..message.IndexOf("Original:", StringComparison.Ordinal)];

    [Fact]
    public void A_broken_port_fails_with_FsCheck_text_the_replay_seed_and_the_suite_report_and_its_seed_replays_the_same_failure()
    {
        // No Replay: FsCheck picks a fresh seed, as it does for any [Property].
        var message = RunLikeXunit(GupProperty.ConformsTo(Broken, Latest), maxTest: 100);
        Assert.NotNull(message);
        var m = Falsifiable().Match(message);
        Assert.True(m.Success, message);
        var seed = $"({m.Groups[3].Value},{m.Groups[4].Value})";

        // The suite's counterexample report follows, for the shrunk sequence: steps with the model's change, the
        // divergence, the rule broken first with its hint, and how to replay.
        Assert.Contains("Label of failing property: GupConformance Counterexample #1 (divergence): profile linux-6.18, implementation " + Bug, message, StringComparison.Ordinal);
        Assert.Contains("  Sequence: generator seed 0x", message, StringComparison.Ordinal);
        Assert.Contains("  Steps:", message, StringComparison.Ordinal);
        Assert.Contains("         model: ", message, StringComparison.Ordinal);
        Assert.Contains("  Divergence at step [", message, StringComparison.Ordinal);
        Assert.Contains("  Broken first: ", message, StringComparison.Ordinal);
        Assert.Contains("      If this fails, ", message, StringComparison.Ordinal);
        Assert.Contains("  Replay: rerun the property with the seed FsCheck prints above", message, StringComparison.Ordinal);
        Assert.Contains("Shrunk:\nGupSequence linux-6.18, seed 0x", message.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains(BrokenImplementations.Find(Bug)!.Declaration.Violates[0], Label(message), StringComparison.Ordinal);

        // Replaying the printed seed runs the same tests and fails the same way, to the byte.
        var again = RunLikeXunit(GupProperty.ConformsTo(Broken, Latest), maxTest: 100, replay: seed);
        Assert.Equal(message, again);

        // FsCheck's single-step replay generates the failing sequence alone and shrinks it to the same counterexample.
        var step = FailingStep().Match(message);
        if (int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) > 1)
        {
            Assert.True(step.Success, message);
            var single = RunLikeXunit(GupProperty.ConformsTo(Broken, Latest), maxTest: 100, replay: $"({step.Groups[1].Value},{step.Groups[2].Value},{step.Groups[3].Value})");
            Assert.NotNull(single);
            Assert.Equal(Label(message), Label(single));
        }
    }

    [Fact]
    public void The_reference_implementation_passes_and_MaxTest_is_the_number_of_sequences_run()
    {
        var counting = new CountingFactory(new KernelStyleFactory());
        Assert.Null(RunLikeXunit(GupProperty.ConformsTo(counting, Latest), maxTest: 25));
        Assert.Equal(25, counting.Created);
    }

    [Fact]
    public void EndSize_bounds_the_length_of_a_sequence_like_the_length_of_a_list()
    {
        var lengths = new List<int>();
        var arb = GupArb.Sequences(Latest, Latest.Facets);
        Assert.Null(RunLikeXunit(Prop.ForAll(arb, seq =>
        {
            lengths.Add(seq.Count);
            return seq.Count is >= 1 and <= 6;
        }), maxTest: 50, endSize: 6));
        Assert.Equal(6, lengths.Max());

        // MaxLength caps what the size asks for.
        var capped = GupArb.Sequences(Latest, Latest.Facets, new GupArbOptions { MaxLength = 3 });
        Assert.Null(RunLikeXunit(Prop.ForAll(capped, seq => seq.Count <= 3), maxTest: 30));
    }

    [Fact]
    public void A_sequence_prints_as_one_numbered_command_per_line_for_Verbose_and_the_shrunk_value()
    {
        var printed = new List<string>();
        var arb = GupArb.Sequences(Latest, Latest.Facets, new GupArbOptions { MaxLength = 4 });
        var config = Config.Verbose.WithMaxTest(3).WithStartSize(4).WithEndSize(4)
            .WithRunner(new XunitRunner())
            .WithEvery(FuncConvert.FromFunc<int, Microsoft.FSharp.Collections.FSharpList<object>, string>((n, args) =>
            {
                printed.Add(Config.Verbose.Every.Invoke(n).Invoke(args));
                return string.Empty;
            }));
        Check.One(config, Prop.ForAll(arb, _ => true));
        Assert.Equal(3, printed.Count);
        Assert.All(printed, p => Assert.Matches(@"GupSequence linux-6\.18, seed 0x[0-9a-f]{16}, 4 actions:\s+\[0\] ", p));
    }

    [Fact]
    public void The_base_class_fails_a_broken_port_with_FsCheck_text_and_the_report_and_skips_an_unclaimed_profile()
    {
        var tests = new BaseClassOverBrokenPort();
        var failure = Assert.ThrowsAny<XunitException>(() => tests.Implementation_conforms_under(Latest.Id));
        Assert.Contains("does not conform to profile linux-6.18 (run seed 1;", failure.Message, StringComparison.Ordinal);
        Assert.Matches(Falsifiable(), failure.Message);
        Assert.Contains("Label of failing property: GupConformance Counterexample #1", failure.Message, StringComparison.Ordinal);

        // Not claimed: skipped with the reason, never passed.
        var skip = Assert.ThrowsAny<Exception>(() => new BaseClassOverBrokenPort().Implementation_conforms_under("proposal-2015-get-vaddr-pfns"));
        Assert.Equal("SkipException", skip.GetType().Name);
        Assert.Contains("does not claim profile 'proposal-2015-get-vaddr-pfns'", skip.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_whole_run_check_fails_a_declared_divergence_that_never_shows()
    {
        var factory = new DeclaringFactory(new KernelStyleFactory());
        var check = GupProperty.Check(factory, Latest, new RunOptions { Sequences = 20 });
        Assert.False(check.Conformant);
        Assert.Contains("every one of 20 sequences agreed with the model, but the run is not conformant", check.Message, StringComparison.Ordinal);
        Assert.Contains("PIN-BIAS-SMALL [MUST]: ", check.Message, StringComparison.Ordinal);
    }

    /// <summary>Not public: xunit must not discover it (it fails on purpose).</summary>
    private sealed class BaseClassOverBrokenPort : GupConformanceSpecificationTests
    {
        protected override IImplementationFactory CreateFactory() => new OnlyLatest(Broken);

        protected override RunOptions Options => new() { Sequences = 100 };
    }

    private sealed class OnlyLatest(IImplementationFactory inner) : IImplementationFactory
    {
        public string Name => inner.Name;

        public CapabilityManifest? ManifestFor(Profile profile) => profile.Id == Latest.Id ? inner.ManifestFor(profile) : null;

        public IGupImplementation Create(Profile profile) => inner.Create(profile);
    }

    private sealed class CountingFactory(IImplementationFactory inner) : IImplementationFactory
    {
        private int _created;

        public int Created => _created;

        public string Name => inner.Name;

        public CapabilityManifest? ManifestFor(Profile profile) => inner.ManifestFor(profile);

        public IGupImplementation Create(Profile profile)
        {
            Interlocked.Increment(ref _created);
            return inner.Create(profile);
        }
    }

    /// <summary>The reference implementation declaring a divergence it does not have.</summary>
    private sealed class DeclaringFactory(IImplementationFactory inner) : IImplementationFactory
    {
        public string Name => "reference-declaring-pin-bias-small";

        public CapabilityManifest? ManifestFor(Profile profile) => inner.ManifestFor(profile) is { } m
            ? m with { ExpectedDivergences = [new ExpectedDivergence("PIN-BIAS-SMALL", "claimed for the test")] }
            : null;

        public IGupImplementation Create(Profile profile) => inner.Create(profile);
    }
}
