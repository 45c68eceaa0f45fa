using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using GupConformance.Engine;
using GupConformance.Fixtures.Broken;
using GupConformance.Spec;
using GupConformance.Tests.Snapshots;
using Xunit.Abstractions;

namespace GupConformance.Tests;

/// <summary>
/// The kill matrix (issue 4): every deliberately broken implementation is caught, by a rule it declares, within
/// the default budget, with its counterexample shrunk to at most its declared minimal length + 1, for each of
/// <see cref="Seeds"/> fixed seeds. Seed s runs under WrongIn[(s - 1) mod |WrongIn|] (one representative profile
/// per seed; BrokenImplementationTests covers seed 1 under every profile, including those where a bug must pass).
/// The matrix of which bug is caught by which rule is kept as a snapshot (KillMatrixTests.KillMatrix.verified.md).
/// </summary>
[Trait("Tier", "Deep")]
public sealed class KillMatrixTests(ITestOutputHelper output)
{
    public const int Seeds = 20;

    /// <summary>Seeds out of <see cref="Seeds"/> whose first counterexample may lead with a rule the bug does not declare:
    /// none (issue 17: the report's first cited rule is a declared one for every bug on every seed).</summary>
    public const int MaxUndeclaredCauses = 0;

    /// <summary>Why a rule no broken implementation violates is still trusted (rendered into the matrix).</summary>
    public static readonly IReadOnlyDictionary<string, string> UnprovenNotes = new Dictionary<string, string>(StringComparer.Ordinal)
    {
    };

    /// <summary>
    /// Bugs whose counterexamples the engine's shrinker does not bring down to minimal + 1 on every seed, with the
    /// worst length observed over the 20 seeds (asserted as the bound instead). The shrinker deletes commands and
    /// simplifies arguments, but cannot turn one way of reaching a state into another.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, int> ShrinkerGaps = new Dictionary<string, int>(StringComparer.Ordinal)
    {
    };

    /// <summary>
    /// Bugs the default budget does not catch on every seed, with why: the test then asserts only the seeds that
    /// catch it. broken-fv-put-ignores-got-ref under the Refs/2015 frame-vector schemes needs a pfn-map frame vector
    /// put after a get, which the generator rarely builds in 200 sequences.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> NotAlwaysCaught = new Dictionary<string, string>(StringComparer.Ordinal)
    {
    };

    private static readonly Lazy<IReadOnlyList<(KillRow Row, IReadOnlyList<TimeSpan> Times)>> Data = new(Compute);

    public static TheoryData<string> Bugs() => [.. BrokenImplementations.All.Select(b => b.Name)];

    [Theory]
    [MemberData(nameof(Bugs))]
    public void Every_seed_catches_the_bug_by_a_declared_rule_with_a_short_counterexample(string bug)
    {
        var (row, times) = Data.Value.Single(d => d.Row.Bug == bug);
        var failures = new List<string>();
        var causeMisses = new List<string>();
        for (var i = 0; i < row.Runs.Count; i++)
        {
            var run = row.Runs[i];
            var where = $"seed {run.Options.Seed} under {run.Profile.Id}";
            var cx = KillRow.FirstCounterexample(run);
            if (run.Conformant || cx is null)
            {
                if (!NotAlwaysCaught.ContainsKey(bug))
                {
                    failures.Add($"{where}: not caught");
                }

                continue;
            }

            if (!cx.ViolatedRules.Any(row.Declared.Contains))
            {
                failures.Add($"{where}: named [{string.Join(", ", cx.ViolatedRules)}], declared [{string.Join(", ", row.Declared)}]");
            }
            else if (cx.Cause is { } cause && !row.Declared.Contains(cause))
            {
                // The report's first line should send the developer to the broken behaviour, not to a consequence of it.
                var first = cx.Mismatches[0];
                causeMisses.Add($"{where}: cites {cause} first (then {string.Join(", ", cx.Consequences)}), declared [{string.Join(", ", row.Declared)}]; first failing check: {first.Command}: {first.Field} observed {first.Observed}, allowed {string.Join(" | ", first.Allowed)} [{string.Join(", ", first.Rules)}]");
            }

            var bound = Math.Max(row.MinimalActions + 1, ShrinkerGaps.GetValueOrDefault(bug));
            if (cx.Commands.Count > bound)
            {
                failures.Add($"{where}: shrunk to {cx.Commands.Count} actions, declared minimal {row.MinimalActions}, bound {bound}");
            }
        }

        // The rule broken first is chosen by scope and by the step (Spec/RuleScopes.cs) and, for a count, by how far it is
        // off (CountShare): not known. Where one check rests on several behaviours a seed could lead with another one;
        // the matrix would mark it **undeclared**, and this test fails on it.
        if (causeMisses.Count > MaxUndeclaredCauses)
        {
            failures.AddRange(causeMisses);
        }

        foreach (var miss in causeMisses)
        {
            output.WriteLine("undeclared first rule: " + miss);
        }

        output.WriteLine(Timing(row, times));
        Assert.True(failures.Count == 0, $"{bug}:\n" + string.Join("\n", failures));
    }

    /// <summary>
    /// The kill matrix snapshot (KillMatrixTests.KillMatrix.verified.md, via <see cref="SnapshotAssert"/>); every
    /// rule no bug violates must carry a note in <see cref="UnprovenNotes"/>, and no note may be stale.
    /// </summary>
    [Fact]
    public void KillMatrix()
    {
        var rows = Data.Value.Select(d => d.Row).ToList();
        var unproven = Engine.KillMatrix.Unproven(rows);
        foreach (var (row, times) in Data.Value)
        {
            output.WriteLine(Timing(row, times));
        }

        Assert.True(unproven.All(UnprovenNotes.ContainsKey), "rules no bug violates, without a note: " + string.Join(", ", unproven.Where(id => !UnprovenNotes.ContainsKey(id))));
        Assert.True(UnprovenNotes.Keys.All(unproven.Contains), "notes for rules that some bug does violate: " + string.Join(", ", UnprovenNotes.Keys.Where(id => !unproven.Contains(id))));
        SnapshotAssert.Matches(Engine.KillMatrix.Render(rows, UnprovenNotes), "md");
    }

    [Fact]
    public void Every_zoo_declaration_is_well_formed()
    {
        foreach (var b in BrokenImplementations.All)
        {
            Assert.NotEmpty(b.Declaration.Violates);
            Assert.NotEmpty(b.Declaration.WrongIn);
            Assert.All(b.Declaration.Violates, id => Assert.True(Rules.Exists(id), $"{b.Name}: unknown rule {id}"));
            Assert.All(b.Declaration.WrongIn, id => Assert.True(Profiles.All.Any(p => p.Id == id), $"{b.Name}: unknown profile {id}"));
            Assert.True(b.Declaration.MinimalActions >= 1, b.Name);
        }

        Assert.All(ShrinkerGaps.Keys, b => Assert.NotNull(BrokenImplementations.Find(b)));
        Assert.All(NotAlwaysCaught.Keys, b => Assert.NotNull(BrokenImplementations.Find(b)));
        Assert.True(BrokenImplementations.All.Count >= 24, $"the zoo has {BrokenImplementations.All.Count} implementations");
        Assert.Equal(BrokenImplementations.All.Count, BrokenImplementations.All.Select(b => b.Name).Distinct(StringComparer.Ordinal).Count());
    }

    private static string Timing(KillRow row, IReadOnlyList<TimeSpan> times)
    {
        var ms = times.Select(t => t.TotalMilliseconds).Order().ToList();
        var lengths = row.ShrunkLengths.Order().ToList();
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"{row.Bug}: time to catch median {Median(ms):F0} ms, worst {ms[^1]:F0} ms; ");
        sb.Append(CultureInfo.InvariantCulture, $"shrunk length median {(lengths.Count == 0 ? 0 : Median([.. lengths.Select(l => (double)l)]))}, worst {(lengths.Count == 0 ? 0 : lengths[^1])}");
        return sb.ToString();
    }

    private static double Median(IReadOnlyList<double> sorted) =>
        sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;

    /// <summary>Every bug × every seed, in parallel; each run is independent and deterministic.</summary>
    private static IReadOnlyList<(KillRow Row, IReadOnlyList<TimeSpan> Times)> Compute()
    {
        var bugs = BrokenImplementations.All;
        var jobs = bugs.SelectMany((b, bi) => Enumerable.Range(1, Seeds).Select(s => (Bug: bi, Seed: s))).ToList();
        var results = new ConcurrentDictionary<(int Bug, int Seed), (RunResult Run, TimeSpan Time)>();
        Parallel.ForEach(jobs, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, job =>
        {
            var b = bugs[job.Bug];
            var wrongIn = b.Declaration.WrongIn;
            var profile = Profiles.Get(wrongIn[(job.Seed - 1) % wrongIn.Count]);
            var clock = Stopwatch.StartNew();
            var run = ConformanceRun.Run(b.Factory, profile, new RunOptions { Seed = (ulong)job.Seed, StopAtFirstFailure = true });
            results[job] = (run, clock.Elapsed);
        });

        return [.. bugs.Select((b, bi) =>
        {
            var runs = Enumerable.Range(1, Seeds).Select(s => results[(bi, s)]).ToList();
            var row = new KillRow(b.Name, b.Declaration.Violates, b.Declaration.WrongIn, b.Declaration.MinimalActions, [.. runs.Select(r => r.Run)]);
            return (row, (IReadOnlyList<TimeSpan>)[.. runs.Select(r => r.Time)]);
        })];
    }
}
