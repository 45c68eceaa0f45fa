using System.Diagnostics;
using System.Globalization;
using GupConformance.Engine;
using GupConformance.Fixtures.Broken;
using GupConformance.Spec;

namespace GupConformance.Benchmarks;

/// <summary>
/// Table 4 (<c>--kill-matrix SEEDS</c>): the kill matrix's runs one at a time — every broken implementation, seed s under
/// WrongIn[(s - 1) mod |WrongIn|], stop at the first failure, as KillMatrixTests runs them — with the wall time of each
/// run (catching and shrinking), the sequences run until the failure, the shrink runs, and the shrunk length.
/// </summary>
public static class KillTiming
{
    public static void Print(int seeds, string? only)
    {
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"4. Kill matrix, one run at a time ({seeds} seeds per bug; time = catch + shrink)"));
        Console.WriteLine($"{"Bug",-48} {"caught",7} {"ms med",7} {"ms max",7} {"seqs med",8} {"seqs max",8} {"shrinks med",11} {"len max/min",11}  load");
        var medians = new List<double>();
        foreach (var b in BrokenImplementations.All.Where(b => only is null || b.Name.Contains(only, StringComparison.Ordinal)))
        {
            var times = new List<double>();
            var seqs = new List<double>();
            var shrinks = new List<double>();
            var caught = 0;
            var longest = 0;
            for (var s = 1; s <= seeds; s++)
            {
                var profile = Profiles.Get(b.Declaration.WrongIn[(s - 1) % b.Declaration.WrongIn.Count]);
                var clock = Stopwatch.StartNew();
                var run = ConformanceRun.Run(b.Factory, profile, new RunOptions { Seed = (ulong)s, StopAtFirstFailure = true });
                times.Add(clock.Elapsed.TotalMilliseconds);
                seqs.Add(run.SequencesRun);
                shrinks.Add(run.ShrinkRuns);
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
                $"{b.Name,-48} {caught,3}/{seeds,-3} {Median(times),7:F0} {times.Max(),7:F0} {Median(seqs),8:F1} {seqs.Max(),8:F0} {Median(shrinks),11:F0} {longest,6}/{b.Declaration.MinimalActions,-4}  {Program.Load()}"));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"bugs {medians.Count}: worst median {medians.Max():F0} ms, median of medians {Median(medians):F0} ms, bugs with median > 200 ms: {medians.Count(m => m > 200)}"));
    }

    private static double Median(List<double> values)
    {
        var v = values.Order().ToList();
        return v.Count % 2 == 1 ? v[v.Count / 2] : (v[(v.Count / 2) - 1] + v[v.Count / 2]) / 2;
    }
}
