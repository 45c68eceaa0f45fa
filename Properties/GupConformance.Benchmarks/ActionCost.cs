using System.Globalization;
using GupConformance.Engine;
using GupConformance.Fixtures;
using GupConformance.Spec;

namespace GupConformance.Benchmarks;

/// <summary>
/// Table 2: the cost of one action on one folio — pin_user_pages_fast() then unpin_user_pages(), alternating, on a
/// region of one folio of order 0 or 18 — for the implementation alone, the model alone (the same stream, with the
/// inspections the executor makes after each action) and the checked executor.
/// </summary>
public static class ActionCost
{
    private const int Pairs = 1000;

    public static void Print(Profile profile, int repeat)
    {
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"2. Cost per action on one folio ({Pairs} pins and {Pairs} unpins, each followed by the executor's inspections; in-process reference)"));
        Console.WriteLine($"{"Folio / action",-34} {"impl us",8} {"model us",9} {"checked us",11} {"ratio",6} {"rounds",6} {"range",11}  load");
        foreach (var (order, pages) in new[] { (0, 1L), (Sizes.MaxOrder, 1L), (Sizes.MaxOrder, 1L << Sizes.MaxOrder) })
        {
            var actions = Actions(order, pages);
            var stream = new RecordedStream(profile, [WithInspections(profile, actions)]);
            var factory = new KernelStyleFactory();
            using var executor = new SequenceExecutor(factory, profile, profile.Facets, TimeSpan.FromMilliseconds(RunOptions.DefaultTimeoutMs));
            var (impl, model, check, ratio, low, high) = Program.Interleaved(
                repeat,
                () => stream.ReplayImplementation(factory),
                () => stream.ReplayModel(),
                () =>
                {
                    var r = executor.Execute(actions);
                    if (!r.Passed)
                    {
                        throw new InvalidOperationException($"the action-cost sequence did not pass: {r.Status} {r.Message}");
                    }

                    return r.CommandsExecuted;
                });
            var n = (double)actions.Count;
            var name = string.Create(CultureInfo.InvariantCulture, $"order {order}, {(pages == 1 ? "1 page" : $"whole folio ({pages} pages)")}");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{name,-34} {impl / n * 1e6,8:F2} {model / n * 1e6,9:F2} {check / n * 1e6,11:F2} {check / (model + impl),6:F2} {ratio,6:F2} {Program.Range(low, high),11}  {Program.Load()}"));
        }
    }

    /// <summary>A map of one folio, then pin/unpin pairs of <paramref name="pages"/> pages from its start.</summary>
    private static List<Command> Actions(int order, long pages)
    {
        const ulong start = 0x40000000;
        var list = new List<Command> { new MapRegion(1, RegionKind.Anon, start, 1, order) };
        for (var i = 1; i <= Pairs; i++)
        {
            list.Add(new Gup(i, EntryPoint.PinUserPagesFast, start, pages, Foll.Write));
            list.Add(new Release(i, ReleaseFn.UnpinUserPages, 0, (int)pages));
        }

        return list;
    }

    /// <summary>What the executor sends: each state-changing action, then an inspection of the folio and the counters.</summary>
    private static List<Command> WithInspections(Profile profile, List<Command> actions)
    {
        var list = new List<Command>();
        foreach (var a in actions)
        {
            list.Add(a);
            list.Add(new InspectFolio("r1.f0"));
            if (profile.HasPinVmstat)
            {
                list.Add(new ReadVmstat());
            }
        }

        return list;
    }
}
