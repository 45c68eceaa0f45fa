using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using GupConformance.Engine;
using GupConformance.Fixtures;
using GupConformance.Fixtures.Broken;
using GupConformance.Oracles;
using GupConformance.Spec;

namespace GupConformance.Tests;

/// <summary>
/// The suite's own laws over generated input, as FsCheck properties (FsCheck picks the seed and prints it on a failure;
/// paste it as Replay to run the same tests again). The sequences come from <see cref="GupArb"/>, the profiles and bugs
/// from the catalogue. Hand-written scenarios stay facts elsewhere.
/// </summary>
public sealed class SuiteLaws
{
    private static readonly KernelStyleFactory Reference = new();

    private static Arbitrary<Profile> Claimed { get; } =
        Arb.From(Gen.Elements(Profiles.All.Where(p => Reference.ManifestFor(p) is not null).ToArray()));

    /// <summary>A profile and a sequence under it (all facets), shrunk as a sequence.</summary>
    private static Property ForAnySequence(Func<Profile, GupSequence, Property> law, int maxLength = RunOptions.DefaultLength) =>
        Prop.ForAll(Claimed, p => Prop.ForAll(GupArb.Sequences(p, p.Facets, new GupArbOptions { MaxLength = maxLength }), s => law(p, s)));

    [Property(MaxTest = 60)]
    public Property The_reference_implementation_conforms_on_generated_sequences_under_every_profile_it_claims() =>
        Prop.ForAll(Claimed, p => GupProperty.ConformsTo(Reference, p));

    /// <summary>Bugs the kill matrix catches on every seed within a few dozen sequences: missing one in 200 is a regression.</summary>
    private static readonly string[] QuickBugs =
    [
        "broken-pin-bias-adds-refs", "broken-ref-no-implied-get", "broken-vmstat-counts-get", "broken-iov-source-takes-refs",
        "broken-api-pin-returns-einval", "broken-netfs-cleanup-asks-bvec-copy",
    ];

    [Property(MaxTest = 10)]
    public Property A_broken_implementation_is_caught_by_a_run_under_a_profile_where_its_bug_is_wrong()
    {
        var cases = QuickBugs.Select(n => BrokenImplementations.Find(n)!)
            .SelectMany(b => Profiles.All.Where(b.Declaration.IsWrongIn).Select(p => (Bug: b, Profile: p)))
            .ToArray();
        var arb = Arb.From(
            from c in Gen.Elements(cases)
            from seed in Gen.Choose(1, int.MaxValue)
            select (c.Bug, c.Profile, Seed: (ulong)seed));
        return Prop.ForAll(arb, t =>
        {
            var r = ConformanceRun.Run(t.Bug.Factory, t.Profile, new RunOptions { Seed = t.Seed, StopAtFirstFailure = true, ShrinkAttempts = 1 });
            return (!r.Conformant && r.Counterexamples.Count > 0)
                .Label($"{t.Bug.Name} under {t.Profile.Id}, run seed {t.Seed}: not caught in {r.SequencesRun} sequences");
        });
    }

    [Property(MaxTest = 30)]
    public Property The_shrinker_returns_a_valid_failing_sequence_no_longer_than_its_input()
    {
        var bug = BrokenImplementations.Find("broken-pin-bias-adds-refs")!;
        var profile = Profiles.Get("linux-6.18");
        return Prop.ForAll(GupArb.Sequences(profile, profile.Facets), seq =>
        {
            using var executor = new SequenceExecutor(bug.Factory, profile, profile.Facets, TimeSpan.FromSeconds(5));
            var first = executor.Execute(seq.Commands);
            if (first.Passed)
            {
                return true.Classify(true, "passes (nothing to shrink)");
            }

            // Greedy descent over the shrinker's candidates, as FsCheck takes them: the first that still fails wins.
            var shrinker = new Shrinker(profile, profile.Facets);
            var current = seq.Commands.ToArray();
            int? failedAt = first.FailedAction;
            for (var steps = 0; steps < 200; steps++)
            {
                var next = shrinker.Candidates(current, failedAt)
                    .Select(c => (Commands: c, Result: executor.Execute(c)))
                    .FirstOrDefault(x => !x.Result.Passed);
                if (next.Commands is null)
                {
                    break;
                }

                Assert.True(next.Commands.Length <= current.Length, "a candidate is longer than what it shrinks");
                (current, failedAt) = (next.Commands, next.Result.FailedAction);
            }

            return (current.Length <= seq.Count && Shrinker.Validate(profile, profile.Facets, current) is null && !executor.Execute(current).Passed)
                .Label($"shrunk {seq.Count} actions to {current.Length}");
        });
    }

    [Property(MaxTest = 40)]
    public Property A_sequence_round_trips_through_the_trace_format_and_replays_to_the_same_verdict() => ForAnySequence((p, seq) =>
    {
        var json = TraceJson.Serialize<IReadOnlyList<Command>>(seq.Commands);
        var back = System.Text.Json.JsonSerializer.Deserialize<List<Command>>(json, TraceJson.Options)!;
        var bug = BrokenImplementations.Find("broken-pin-bias-adds-refs")!.Factory;
        using var executor = new SequenceExecutor(bug, p, p.Facets, TimeSpan.FromSeconds(5));
        var (a, b) = (executor.Execute(seq.Commands), executor.Execute(back));
        return (back.SequenceEqual(seq.Commands) && a.Status == b.Status && a.ViolatedRules.SequenceEqual(b.ViolatedRules) && a.FailedAction == b.FailedAction)
            .Label($"{a.Status} [{string.Join(", ", a.ViolatedRules)}] vs {b.Status} [{string.Join(", ", b.ViolatedRules)}]");
    }, maxLength: 60);

    [Property(MaxTest = 50)]
    public Property The_model_is_pure_and_deterministic_a_step_leaves_its_input_alone_and_the_same_steps_give_the_same_states() => ForAnySequence((p, seq) =>
    {
        var (x, y) = (GupModel.Init(p), GupModel.Init(p));
        foreach (var cmd in seq.Commands)
        {
            // x and y are twins built by the same steps. The model caches a state's description, so x is described
            // only after it was stepped, and compared with its twin that was not stepped yet.
            var nx = GupModel.Step(x, cmd);
            var pure = Snapshot(x) == Snapshot(y);
            var ny = GupModel.Step(y, cmd);
            if (!pure || Snapshot(nx.Next) != Snapshot(ny.Next) || nx.Change != ny.Change
                || !nx.Exercised.SequenceEqual(ny.Exercised))
            {
                return false.Label($"not pure or not deterministic at {CommandText.Render(cmd, p)}");
            }

            (x, y) = (nx.Next, ny.Next);
        }

        return true.ToProperty();
    });

    /// <summary>
    /// A trace's per-step change (<see cref="ModelState.DescribeChanges"/>) looks only at the entries the step changed;
    /// it must say exactly what comparing the two full descriptions says, after one step (that path) and across two
    /// (every entry compared).
    /// </summary>
    [Property(MaxTest = 50)]
    public Property A_described_change_is_the_difference_of_the_full_descriptions_after_one_step_or_two() => ForAnySequence((p, seq) =>
    {
        static List<(string Key, string? Before, string? After)> Diff(ModelState from, ModelState to)
        {
            var (a, b) = (from.Describe(), to.Describe());
            return [.. a.Keys.Union(b.Keys).Order(StringComparer.Ordinal)
                .Select(k => (Key: k, Before: a.GetValueOrDefault(k), After: b.GetValueOrDefault(k)))
                .Where(x => !string.Equals(x.Before, x.After, StringComparison.Ordinal))];
        }

        var (earlier, state) = (GupModel.Init(p), GupModel.Init(p));
        foreach (var cmd in seq.Commands)
        {
            var next = GupModel.Step(state, cmd).Next;
            if (!next.DescribeChanges(state).SequenceEqual(Diff(state, next)) || !next.DescribeChanges(earlier).SequenceEqual(Diff(earlier, next)))
            {
                return false.Label($"the described change differs from the descriptions' difference at {CommandText.Render(cmd, p)}");
            }

            (earlier, state) = (state, next);
        }

        return true.ToProperty();
    });

    /// <summary>
    /// <see cref="GupModel.Expect"/> is Precondition and Step in one for the queries the executor makes after every
    /// action, without the outcome object: the same checks and exercised rules, and none exactly where the precondition
    /// refuses (a folio that does not exist, counters or a mark the era has not).
    /// </summary>
    [Property(MaxTest = 50)]
    public Property An_inspection_answers_what_precondition_and_step_answer_and_nothing_where_they_refuse() => ForAnySequence((p, seq) =>
    {
        static string Text(StepOutcome o) => Of(o.Expected);
        static string Of(Expectation e) => string.Join('\n', e.Checks.Select(c => $"{c.Field}={string.Join('|', c.Allowed)} [{string.Join(',', c.Rules)}]"))
            + " / " + string.Join(',', e.Exercised);

        var state = GupModel.Init(p);
        foreach (var cmd in seq.Commands)
        {
            state = GupModel.Step(state, cmd).Next;
            Command[] queries = [.. state.FolioKeys.Select(k => new InspectFolio(k)), new InspectFolio("r999.f0"), new ReadVmstat(), new InspectMm(0), new InspectMm(1)];
            foreach (var q in queries)
            {
                var stepped = GupModel.Precondition(state, q) is null ? GupModel.Step(state, q) : null;
                if (stepped is not null && !ReferenceEquals(stepped.Next, state))
                {
                    return false.Label($"{CommandText.Render(q, p)} after {CommandText.Render(cmd, p)}: Step changed the state of a query");
                }

                var expected = GupModel.Expect(state, q);
                if ((expected is null) != (stepped is null) || (expected is { } e && Of(e) != Text(stepped!)))
                {
                    return false.Label($"{CommandText.Render(q, p)} after {CommandText.Render(cmd, p)}: Expect says {(expected is { } x ? Of(x) : "none")}, Precondition + Step {(stepped is null ? "none" : Text(stepped))}");
                }
            }
        }

        return true.ToProperty();
    });

    /// <summary>
    /// A check compares numbers and flags by value, its allowed texts parsed once (<see cref="Observation.TryParseNumber"/>,
    /// <see cref="Observation.Number"/>): it must answer exactly what comparing <see cref="Observation.Field(string)"/>'s text
    /// answers, for the field's own text and for texts that mean the same number but are not its canonical text ("05",
    /// "+5", "-0", " 5"), with one allowed text and with two.
    /// </summary>
    [Property(MaxTest = 300)]
    public Property An_observation_compared_by_value_answers_what_its_canonical_text_answers()
    {
        var number = Gen.OneOf(Gen.Choose(-3, 3).Select(i => (long)i), Gen.Elements(0L, 1024L, -1024L, long.MaxValue, long.MinValue, int.MaxValue + 1L));
        var observation =
            from rc in number
            from pc in number
            from n in number
            from flag in Gen.Elements(true, false)
            from set in Gen.Choose(0, 7)
            select new Observation
            {
                Refcount = (set & 1) != 0 ? rc : null,
                Pincount = (set & 2) != 0 ? pc : null,
                Acquired = n,
                Dirty = (set & 4) != 0 ? flag : null,
                MaybeDmaPinned = flag,
                ExtractMode = n,
                Result = n,
            };
        var text = Gen.OneOf(
            number.Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            number.Select(v => "0" + v.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            number.Select(v => "+" + v.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            number.Select(v => " " + v.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            Gen.Elements("-0", "true", "false", "True", "0x0", "0x1", "", FieldCheck.Absent));
        var field = Gen.Elements("refcount", "pincount", "nr_foll_pin_acquired", "dirty", "maybe_dma_pinned", "extract_mode", "result", "iter_count", "no_such_field");

        // Half the texts are made from the field's own value, so that near misses ("05", "-0", "+5") meet their number.
        var texts = from t in text from other in text from near in Gen.Choose(-1, 5) select (t, other, near);
        return Prop.ForAll(Arb.From(observation), Arb.From(field), Arb.From(texts), (o, name, tt) =>
        {
            var (t, other, near) = tt;
            if (o.Field(name) is { } own && near >= 0)
            {
                var digits = own.TrimStart('-');
                t = near switch
                {
                    0 => own,
                    1 => "0" + own,
                    2 => "+" + own,
                    3 => own.StartsWith('-') ? digits : "-" + own,
                    4 => own.StartsWith('-') ? "-0" + digits : "0" + digits,
                    _ => " " + own,
                };
            }

            var check = new FieldCheck(name, [t], ["CORE-NO-COLLATERAL"]);
            var either = new FieldCheck(name, [t, other], ["CORE-NO-COLLATERAL"]);
            return (check.Accepts(o) == check.Accepts(o.Field(name)) && either.Accepts(o) == either.Accepts(o.Field(name)))
                .Label($"{name} = {o.Field(name) ?? "(not set)"} against \"{t}\" (or \"{other}\"): by value {check.Accepts(o)} / {either.Accepts(o)}, by text {check.Accepts(o.Field(name))} / {either.Accepts(o.Field(name))}");
        });
    }

    /// <summary>
    /// A check of any field accepts the field's own canonical text and refuses another value's: the form a check parses
    /// its allowed value in (Observation.TryParseNumber) must be the form the observation gives the field. Every field is
    /// set, with texts that look like numbers where the field is compared as text ("5", "0").
    /// </summary>
    [Fact]
    public void Every_field_is_checked_in_the_form_the_observation_gives_it()
    {
        var o = new Observation
        {
            Result = 5, Pages = [new PageRun("r1.f0", 0, 1)], Offset0 = 7, IterCount = 8, Refcount = 9, Pincount = 10,
            MaybeDmaPinned = true, Dirty = false, Acquired = 11, Released = 12, WillPin = true, ExtractMode = 1, BioFlags = [],
            BioFlagBits = 3, BioPages = 13, GotRef = false, IsPfns = true, NrFrames = 14, HasPinned = false,
        };
        Assert.Equal(Observation.FieldNames, o.Fields().Keys);
        var other = new Observation
        {
            Result = 6, Pages = [], Offset0 = 70, IterCount = 80, Refcount = 90, Pincount = 100, MaybeDmaPinned = false,
            Dirty = true, Acquired = 110, Released = 120, WillPin = false, ExtractMode = 2, BioFlags = ["BIO_PAGE_PINNED"],
            BioFlagBits = 30, BioPages = 130, GotRef = true, IsPfns = false, NrFrames = 140, HasPinned = true,
        };
        foreach (var name in Observation.FieldNames)
        {
            var own = new FieldCheck(name, [o.Field(name)!], ["CORE-NO-COLLATERAL"]);
            Assert.True(own.Accepts(o), $"{name} = {o.Field(name)}: its own text refused");
            Assert.False(own.Accepts(other), $"{name} = {other.Field(name)} accepted where {o.Field(name)} is allowed");
        }

        // A field's number, read from its slot, is the number its canonical text stands for (none for text fields, and
        // none when the field is not set).
        for (var id = 0; id < Observation.FieldNames.Count; id++)
        {
            foreach (var observed in new[] { o, other, new Observation() })
            {
                long? expected = Observation.TryParseNumber(id, observed.Field(id) ?? string.Empty, out var n) ? n : null;
                Assert.True(expected == observed.Number(id), $"{Observation.FieldNames[id]} = {observed.Field(id) ?? "(not set)"}: Number gives {observed.Number(id)}");
            }
        }
    }

    private static string Snapshot(ModelState s) => string.Join('\n', s.Describe().Select(kv => kv.Key + "=" + kv.Value));
}
