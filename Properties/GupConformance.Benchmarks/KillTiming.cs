using System.Diagnostics;
using System.Globalization;
using GupConformance.Engine;
using GupConformance.Fixtures.Broken;
using GupConformance.Spec;

namespace GupConformance.Benchmarks;

/// <summary>
/// Table 4 (<c>--kill-matrix SEEDS</c>): the kill matrix's runs one at a time — every broken implementation, seed s under
/// WrongIn[(s - 1) mod |WrongIn|], stop at the first failure, as KillMatrixTests runs them — with the wall time of each
/// run (catching and shrinking: "ms"), the time until the first failing sequence ("catch ms"), the sequences up to that
/// one ("seqs") and all the run took ("run": it stops once it has shrunk RunOptions.ShrinkAttempts failing sequences, or ConformanceRun.RefinePatience in a row found nothing shorter),
/// the shrink runs, and the shrunk length. With
/// <c>--bug NAME</c>, every seed's run is printed too (its profile, time, sequences and shrink runs).
/// </summary>
public static class KillTiming
{
    public static void Print(int seeds, string? only, int? shrinkAttempts = null)
    {
        var attempts = shrinkAttempts ?? new RunOptions().ShrinkAttempts;
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"4. Kill matrix, one run at a time ({seeds} seeds per bug; time = catch + shrink; {attempts} failing sequences shrunk per run)"));
        Console.WriteLine($"{"Bug",-48} {"caught",7} {"ms med",7} {"ms max",7} {"catch ms",8} {"seqs med",8} {"seqs max",8} {"run med",7} {"shrinks med",11} {"len max/min",11}  load");
        var medians = new List<double>();
        var bugs = BrokenImplementations.All.Where(b => only is null || b.Name.Contains(only, StringComparison.Ordinal)).ToList();

        // Warm-up, longer than for the other figures (Program.Best): a bug timed alone (--bug) after two seconds of it
        // still took 2-3 times as long on its first seeds as on its last (iov-nomem-after-pin: median 288 ms, seeds
        // 2-4 near 750 ms); after ten seconds, median 218 ms and no seed over 305 ms.
        var warming = Stopwatch.StartNew();
        for (var i = 0; bugs.Count > 0 && (i < 3 || warming.Elapsed < TimeSpan.FromSeconds(10)); i++)
        {
            var b = bugs[i % bugs.Count];
            ConformanceRun.Run(b.Factory, Profiles.Get(b.Declaration.WrongIn[0]), Options(1, attempts));
        }

        foreach (var b in bugs)
        {
            var times = new List<double>();
            var toCatch = new List<double>();
            var seqs = new List<double>();
            var ran = new List<double>();
            var shrinks = new List<double>();
            var caught = 0;
            var longest = 0;
            for (var s = 1; s <= seeds; s++)
            {
                var profile = Profiles.Get(b.Declaration.WrongIn[(s - 1) % b.Declaration.WrongIn.Count]);
                var clock = Stopwatch.StartNew();
                double? caughtAt = null;
                var run = ConformanceRun.Run(b.Factory, profile, Options((ulong)s, attempts) with
                {
                    Progress = p => caughtAt ??= p.FailingSequences > 0 ? clock.Elapsed.TotalMilliseconds : null,
                });
                times.Add(clock.Elapsed.TotalMilliseconds);
                toCatch.Add(caughtAt ?? times[^1]);
                seqs.Add(KillRow.ToCatch(run));
                ran.Add(run.SequencesRun);
                shrinks.Add(run.ShrinkRuns);
                if (only is not null)
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  seed {s,2} {profile.Id,-28} caught after {toCatch[^1],5:F0} ms and {seqs[^1],3} sequences; done after {times[^1],5:F0} ms, {run.SequencesRun,3} sequences and {run.ShrinkRuns,4} shrink runs"));
                }

                if (KillRow.FirstCounterexample(run) is { } cx && cx.ViolatedRules.Any(b.Declaration.Violates.Contains))
                {
                    caught++;
                    longest = Math.Max(longest, cx.Commands.Count);
                    if (cx.Cause is { } cause && !b.Declaration.Violates.Contains(cause, StringComparer.Ordinal))
                    {
                        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  seed {s} ({profile.Id}): first cited rule {cause} is not declared: {string.Join("; ", cx.Commands.Select(c => CommandText.Render(c, profile)))} [{string.Join(", ", cx.ViolatedRules)}]"));
                        foreach (var m in cx.Mismatches.Take(3))
                        {
                            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    {m.Command} {m.Field}: {m.Observed ?? "(none)"} not in {string.Join("|", m.Allowed)} [{string.Join(", ", m.Rules)}]"));
                        }
                    }

                    if (cx.Commands.Count > b.Declaration.MinimalActions + 1)
                    {
                        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  seed {s}: shrunk to {cx.Commands.Count}, minimal {b.Declaration.MinimalActions}: {string.Join("; ", cx.Commands.Select(c => CommandText.Render(c, profile)))} [{string.Join(", ", cx.ViolatedRules)}]"));
                    }
                }
                else
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  seed {s}: not caught by a declared rule: {(KillRow.FirstCounterexample(run) is { } other ? string.Join(", ", other.ViolatedRules) + " by " + string.Join("; ", other.Commands.Select(c => CommandText.Render(c, profile))) : "no counterexample")}"));
                }
            }

            medians.Add(Median(times));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{b.Name,-48} {caught,3}/{seeds,-3} {Median(times),7:F0} {times.Max(),7:F0} {Median(toCatch),8:F0} {Median(seqs),8:F1} {seqs.Max(),8:F0} {Median(ran),7:F1} {Median(shrinks),11:F0} {longest,6}/{b.Declaration.MinimalActions,-4}  {Program.Load()}"));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"bugs {medians.Count}: worst median {medians.Max():F0} ms, median of medians {Median(medians):F0} ms, bugs with median > 200 ms: {medians.Count(m => m > 200)}"));
    }

    /// <summary>A kill-matrix run's options: stop at the first failure, refined as <paramref name="attempts"/> says.</summary>
    private static RunOptions Options(ulong seed, int attempts) => new() { Seed = seed, StopAtFirstFailure = true, ShrinkAttempts = attempts };

    private static double Median(List<double> values)
    {
        var v = values.Order().ToList();
        return v.Count % 2 == 1 ? v[v.Count / 2] : (v[(v.Count / 2) - 1] + v[v.Count / 2]) / 2;
    }
}
