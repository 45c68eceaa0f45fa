using GupConformance.Engine;
using GupConformance.Fixtures;
using GupConformance.Fixtures.Broken;
using GupConformance.Spec;

namespace GupConformance.Tests;

/// <summary>The engine's own promises: determinism, the four honest outcomes, and bad implementations never hanging it.</summary>
public sealed class EngineTests
{
    private static readonly RunOptions Small = new() { Sequences = 40, Length = 30 };

    [Fact]
    public void A_fixed_seed_gives_byte_identical_reports()
    {
        var a = ReportWriter.Render(ConformanceRun.Run(new KernelStyleFactory(), Profiles.Linux65, Small with { Seed = 7 }));
        var b = ReportWriter.Render(ConformanceRun.Run(new KernelStyleFactory(), Profiles.Linux65, Small with { Seed = 7 }));
        Assert.Equal(a, b);
        Assert.Contains("Seed:", a, StringComparison.Ordinal);
    }

    /// <summary>
    /// Seed 8 of broken-ovf-no-sign-check under proposal-2023-iov-extract-v8 once shrank to four actions: the second
    /// grab of a wrapped folio went through a frame vector, and deleting frame_vector_create() made the get invalid. The
    /// shrinker now tries the direct pin the frame vector makes in its place, after which the create goes.
    /// </summary>
    [Fact]
    public void A_failure_reached_through_a_frame_vector_shrinks_to_the_direct_pin()
    {
        var profile = Profiles.Get("proposal-2023-iov-extract-v8");
        var bug = BrokenImplementations.Find("broken-ovf-no-sign-check")!;
        Command[] seq =
        [
            new MapRegion(2, RegionKind.Anon, 0x10005000, 1, 0, int.MaxValue),
            new Gup(5, EntryPoint.PinUserPagesFastOnly, 0x10005000, 1, Foll.None),
            new FvCreate(4, 24),
            new FvGet(4, 0x10005000, 1, true),
        ];
        using var executor = new SequenceExecutor(bug.Factory, profile, profile.Facets, TimeSpan.FromSeconds(5));
        Assert.False(executor.Execute(seq).Passed);

        // Greedy descent, as FsCheck takes the candidates: the first that still fails wins.
        var shrinker = new Shrinker(profile, profile.Facets);
        var current = seq;
        for (var steps = 0; steps < 100; steps++)
        {
            var next = shrinker.Candidates(current).FirstOrDefault(c => !executor.Execute(c).Passed);
            if (next is null)
            {
                break;
            }

            current = next;
        }

        Assert.True(current.Length <= bug.Declaration.MinimalActions + 1, string.Join("; ", current.Select(c => CommandText.Render(c, profile))));
        Assert.DoesNotContain(current, c => c is FvGet or FvCreate);
    }

    [Fact]
    public void A_fixed_seed_generates_the_same_sequence_and_another_seed_a_different_one()
    {
        var one = SequenceGenerator.Generate(Profiles.Linux618, Facet.All, 42, 40);
        var again = SequenceGenerator.Generate(Profiles.Linux618, Facet.All, 42, 40);
        var other = SequenceGenerator.Generate(Profiles.Linux618, Facet.All, 43, 40);
        Assert.Equal(one, again);
        Assert.NotEqual(one, other);
        Assert.Equal(40, one.Length);
    }

    [Fact]
    public void Rules_of_a_facet_the_manifest_does_not_declare_are_Not_applicable_naming_the_facet_never_passed()
    {
        var coreOnly = new ManifestOverride(new KernelStyleFactory(), m => m with { Facets = Facet.Core });
        var result = ConformanceRun.Run(coreOnly, Profiles.Linux618, Small);
        Assert.True(result.Conformant, ReportWriter.Render(result));
        foreach (var v in result.Verdicts.Where(v => v.Rule.Facet != Facet.Core && v.Rule.AppliesTo(Profiles.Linux618)))
        {
            Assert.Equal(Outcome.NotApplicable, v.Outcome);
            Assert.Equal($"needs facet {v.Rule.Facet}", v.Note);
            Assert.True(v.Exercised == 0, $"{v.Rule.Id} ({v.Rule.Facet}) was exercised {v.Exercised} times by Core-only commands");
        }
    }

    [Fact]
    public void A_declared_divergence_that_happens_is_reported_as_Expected_divergence()
    {
        var bug = BrokenImplementations.Find("broken-mdp-strictly-greater")!;
        // Comparing with > loses the false positive at exactly 1024 references, and, after a misuse that leaves a
        // pinned page at exactly 1024, reports it unpinned: both rules are declared.
        var declared = new ManifestOverride(bug.Factory, m => m with
        {
            ExpectedDivergences =
            [
                new ExpectedDivergence("MDP-BIAS-THRESHOLD", "our port compares with >"),
                new ExpectedDivergence("MDP-NO-FALSE-NEGATIVE", "our port compares with >"),
            ],
        });
        var result = ConformanceRun.Run(declared, Profiles.Linux618, new RunOptions());
        var verdict = result.Verdicts.Single(v => v.Rule.Id == "MDP-BIAS-THRESHOLD");
        Assert.Equal(Outcome.ExpectedDivergence, verdict.Outcome);
        Assert.True(result.Conformant, ReportWriter.Render(result));
    }

    [Fact]
    public void A_declared_divergence_that_disappears_is_a_failure()
    {
        var declared = new ManifestOverride(new KernelStyleFactory(), m => m with
        {
            ExpectedDivergences = [new ExpectedDivergence("MDP-BIAS-THRESHOLD", "we thought we compared with >")],
        });
        var result = ConformanceRun.Run(declared, Profiles.Linux618, Small);
        var verdict = result.Verdicts.Single(v => v.Rule.Id == "MDP-BIAS-THRESHOLD");
        Assert.Equal(Outcome.Fail, verdict.Outcome);
        Assert.Contains("expected divergence disappeared", verdict.Note, StringComparison.Ordinal);
        Assert.False(result.Conformant);
    }

    [Fact]
    public void An_applicable_rule_that_the_run_never_exercises_fails_rather_than_passes()
    {
        var noBios = GeneratorWeights.Default.WithMove(Moves.BioAdd, 0).WithMove(Moves.BioRelease, 0).WithMove(Moves.BioScenario, 0);
        var result = ConformanceRun.Run(new KernelStyleFactory(), Profiles.Linux618, Small with { Weights = noBios });
        var verdict = result.Verdicts.Single(v => v.Rule.Id == "BIO-SAME-PAGE-MERGE");
        Assert.Equal(Outcome.Fail, verdict.Outcome);
        Assert.Equal("never exercised", verdict.Note);
        Assert.False(result.Conformant);
    }

    [Fact]
    public void An_implementation_that_throws_is_a_failure_naming_the_exception_and_the_sequence_prefix()
    {
        var crashing = new WrappingFactory(new KernelStyleFactory(), (inner, cmd) =>
            cmd is BioAdd ? throw new InvalidOperationException("bio table corrupted") : inner.Execute(cmd));
        var result = ConformanceRun.Run(crashing, Profiles.Linux618, Small with { StopAtFirstFailure = true });
        Assert.False(result.Conformant);
        var cx = Assert.Single(result.Counterexamples);
        Assert.Equal(FailureKind.Crash, cx.Kind);
        Assert.Contains("InvalidOperationException", ReportWriter.Render(result), StringComparison.Ordinal);
        Assert.IsType<BioAdd>(cx.Commands[^1]);
    }

    [Fact]
    public void An_implementation_that_hangs_is_a_timed_out_failure_not_a_hung_run()
    {
        var hanging = new WrappingFactory(new KernelStyleFactory(), (inner, cmd) =>
        {
            if (cmd is FvGet)
            {
                Thread.Sleep(Timeout.Infinite);
            }

            return inner.Execute(cmd);
        });
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var result = ConformanceRun.Run(hanging, Profiles.Linux618, Small with
        {
            StopAtFirstFailure = true,
            CommandTimeout = TimeSpan.FromMilliseconds(200),
            MaxShrinkRuns = 10,

            // Every timed-out run costs the whole limit: one failing sequence shrunk is enough to show the verdict.
            ShrinkAttempts = 1,
        });
        Assert.False(result.Conformant);
        Assert.Equal(FailureKind.Timeout, result.Counterexamples[0].Kind);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"took {clock.Elapsed}");
    }

    [Fact]
    public void Work_after_a_sequence_runs_once_with_its_result_on_the_worker_or_after_a_time_out_on_the_caller()
    {
        var profile = Profiles.Linux618;
        var caller = Environment.CurrentManagedThreadId;
        Command[] actions = [new MapRegion(1, RegionKind.Anon, 0x40000000, 1, 0)];

        var finished = new List<(SequenceResult Result, int Thread)>();
        using (var executor = new SequenceExecutor(new KernelStyleFactory(), profile, profile.Facets, TimeSpan.FromSeconds(60)))
        {
            var r = executor.Execute(actions, afterwards: x => finished.Add((x, Environment.CurrentManagedThreadId)));
            Assert.True(r.Passed, r.Message);
            var (result, thread) = Assert.Single(finished);
            Assert.Same(r, result);
            Assert.NotEqual(caller, thread);
        }

        // The inspection after the action hangs: the worker is abandoned in it and never reaches the work after the
        // sequence, so the caller does it, with the time-out's result (the run counts every sequence it ran).
        using var release = new ManualResetEventSlim(false);
        var hanging = new WrappingFactory(new KernelStyleFactory(), (inner, cmd) =>
        {
            if (cmd is InspectFolio)
            {
                release.Wait();
            }

            return inner.Execute(cmd);
        });
        var abandoned = new List<(SequenceResult Result, int Thread)>();
        using (var executor = new SequenceExecutor(hanging, profile, profile.Facets, TimeSpan.FromMilliseconds(100)))
        {
            var r = executor.Execute(actions, afterwards: x => abandoned.Add((x, Environment.CurrentManagedThreadId)));
            Assert.Equal(SequenceStatus.TimedOut, r.Status);
            var (result, thread) = Assert.Single(abandoned);
            Assert.Same(r, result);
            Assert.Equal(caller, thread);
        }

        release.Set();
    }

    [Fact]
    public void A_counterexample_shows_the_model_change_at_every_step_and_how_to_replay_it()
    {
        var bug = BrokenImplementations.Find("broken-pin-bias-adds-refs")!;
        var result = ConformanceRun.Run(bug.Factory, Profiles.Linux618, new RunOptions { StopAtFirstFailure = true, Seed = 3 });
        var report = ReportWriter.Render(result);
        var cx = Assert.Single(result.Counterexamples);
        Assert.Equal(cx.Commands.Count, cx.Steps.Count);
        Assert.All(cx.Steps, s => Assert.False(string.IsNullOrWhiteSpace(s.Change)));
        Assert.Contains("model:", report, StringComparison.Ordinal);
        Assert.Contains("PIN-BIAS-SMALL", report, StringComparison.Ordinal);
        Assert.Contains("If this fails, check", report, StringComparison.Ordinal);
        Assert.Contains("--seed 3", cx.ReplayCommand, StringComparison.Ordinal);
    }

    [Fact]
    public void A_run_stops_refining_a_counterexample_after_four_shrinks_in_a_row_found_nothing_shorter()
    {
        // broken-pin-bias-adds-refs fails in most sequences and its first shrink is already the minimum (2 actions):
        // with room for a hundred refinements the run still stops after the first shrink and four fruitless ones,
        // long before its budget.
        var bug = BrokenImplementations.Find("broken-pin-bias-adds-refs")!;
        var options = new RunOptions { StopAtFirstFailure = true, Seed = 3, ShrinkAttempts = 100 };
        var result = ConformanceRun.Run(bug.Factory, Profiles.Linux618, options);
        var cx = Assert.Single(result.Counterexamples);
        Assert.Equal(2, cx.Commands.Count);
        Assert.True(result.SequencesRun <= 10, $"{result.SequencesRun} of {options.Sequences} sequences run, {result.FailingSequences} failing, {result.ShrinkRuns} shrink runs (seed 3)");
    }

    [Fact]
    public void The_replay_command_quotes_an_implementation_id_the_shell_would_split_and_leaves_a_plain_one_alone()
    {
        var options = new RunOptions { Seed = 7 };
        Assert.Contains("--impl 'process:\"python3 my adapter.py\"' --seed 7 ",
            ConformanceRun.ReplayCommand("process:\"python3 my adapter.py\"", Profiles.Linux618, options), StringComparison.Ordinal);
        Assert.Contains("--impl 'native:/opt/it'\\''s/libgup.so' --seed 7 ",
            ConformanceRun.ReplayCommand("native:/opt/it's/libgup.so", Profiles.Linux618, options), StringComparison.Ordinal);
        Assert.Contains("--impl reference --seed 7 ", ConformanceRun.ReplayCommand("reference", Profiles.Linux618, options), StringComparison.Ordinal);
    }

    [Fact]
    public void A_field_reported_where_the_contract_says_none_is_a_divergence_not_ignored()
    {
        // An extraction that returns no bytes has no *offset0 (CONTRACT.md §5, IOV-CLAMP-MAXSIZE); an implementation
        // that reports one anyway must fail, although the model's other checks of that step all pass.
        var lying = new WrappingFactory(new KernelStyleFactory(), (inner, cmd) =>
        {
            var o = inner.Execute(cmd);
            return cmd is IterExtract && o.Result == 0 ? o with { Offset0 = 0 } : o;
        });
        var result = ConformanceRun.Run(lying, Profiles.Linux618, Small with { StopAtFirstFailure = true, Seed = 5 });
        Assert.False(result.Conformant);
        var cx = Assert.Single(result.Counterexamples);
        Assert.Equal(FailureKind.Divergence, cx.Kind);
        var offset0 = Assert.Single(cx.Mismatches, m => m.Field == "offset0");
        Assert.Equal("0", offset0.Observed);
        Assert.Equal([Oracles.FieldCheck.Absent], offset0.Allowed);
        Assert.Contains("offset0 observed 0, expected (not reported)", ReportWriter.Render(result), StringComparison.Ordinal);
    }

    private sealed class ManifestOverride(IImplementationFactory inner, Func<CapabilityManifest, CapabilityManifest> change) : IImplementationFactory
    {
        public string Name => inner.Name;

        public CapabilityManifest? ManifestFor(Profile profile) => inner.ManifestFor(profile) is { } m ? change(m) : null;

        public IGupImplementation Create(Profile profile) => inner.Create(profile);
    }

    private sealed class WrappingFactory(IImplementationFactory inner, Func<IGupImplementation, Command, Observation> execute) : IImplementationFactory
    {
        public string Name => inner.Name + "-wrapped";

        public CapabilityManifest? ManifestFor(Profile profile) => inner.ManifestFor(profile);

        public IGupImplementation Create(Profile profile) => new Wrapped(inner.Create(profile), execute);

        private sealed class Wrapped(IGupImplementation inner, Func<IGupImplementation, Command, Observation> execute) : IGupImplementation
        {
            public Observation Execute(Command command) => execute(inner, command);

            public void Dispose() => inner.Dispose();
        }
    }
}
