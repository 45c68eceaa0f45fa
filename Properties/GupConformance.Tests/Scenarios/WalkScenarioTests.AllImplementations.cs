using GupConformance.Spec;
using static GupConformance.Tests.ModelRun;
using static GupConformance.Tests.Scenarios.ScenarioSupport;

namespace GupConformance.Tests.Scenarios;

/// <summary>
/// The scenarios of this group that are also replayed on the C library and the Python process
/// (ScenarioSupport.AssertCoreImplementationsAgree), which must agree with the model as the reference does. They are
/// apart from the group's main file only because the mutation test project (stryker/) links the scenario files and
/// cannot start those processes.
/// </summary>
public sealed partial class WalkScenarioTests
{
    [Fact]
    public void GUP_WALK_NEXT_VMA_a_pin_runs_on_into_the_adjacent_mapping_and_stops_at_the_io_one_after_it()
    {
        // r1: two order-0 pages at A; r2: one order-2 folio right after it; r3: VM_IO right after r2.
        Command[] actions =
        [
            new MapRegion(1, RegionKind.Anon, A, 2), new MapRegion(2, RegionKind.Anon, A + (2 * Page), 1, 2),
            new MapRegion(3, RegionKind.Io, A + (6 * Page), 1), Pin(1, A, 4), Pin(2, A + (4 * Page), 3),
        ];
        var r = new ModelRun(Profiles.Linux618);
        foreach (var c in actions[..4])
        {
            r.Do(c);
        }

        Assert.Equal("4", r.V("result"));
        Assert.Equal("[r1.f0:0, r1.f1:0, r2.f0:0+2]", r.V("pages"));
        Assert.Contains("GUP-WALK-NEXT-VMA", r.RulesOf("result"));
        r.Inspect("r2.f0");
        Assert.Equal("3", r.V("refcount"));
        Assert.Equal("2", r.V("pincount"));
        Assert.Contains("GUP-WALK-NEXT-VMA", r.RulesOf("refcount"));
        r.Inspect("r1.f1");
        Assert.Equal("1025", r.V("refcount"));

        // Pages 2 and 3 of r2, then r3 is VM_IO: check_vma_flags() of the next VMA refuses it, 2 entries are kept.
        r.Do(actions[4]);
        Assert.Equal("2", r.V("result"));
        Assert.Equal("[r2.f0:2+2]", r.V("pages"));
        Assert.Contains("GUP-PARTIAL-RESULT", r.RulesOf("result"));
        Assert.Contains("API-VMIO-PFNMAP", r.RulesOf("result"));
        Assert.Contains("GUP-WALK-NEXT-VMA", r.RulesOf("result"));
        r.Inspect("r2.f0");
        Assert.Equal("5", r.V("refcount"));
        Assert.Equal("4", r.V("pincount"));
        r.Vmstat();
        Assert.Equal("6", r.V("nr_foll_pin_acquired"));

        AssertCoreImplementationsAgree("linux-6.18", actions);
    }

    [Fact]
    public void GUP_WALK_NEXT_VMA_a_2015_get_crosses_into_the_next_mapping_too_and_a_walk_inside_one_does_not_cite_it()
    {
        var r = Anon(Profiles.Proposal2015GetVaddrPfns).Do(new MapRegion(2, RegionKind.File, A + Page, 1)).Do(Get(1, A, 2));
        Assert.Equal("2", r.V("result"));
        Assert.Equal("[r1.f0:0, r2.f0:0]", r.V("pages"));
        Assert.True(r.Exercised("GUP-WALK-NEXT-VMA"));
        r.Inspect("r2.f0");
        Assert.Equal("2", r.V("refcount"));

        var inside = Anon(Profiles.Linux618, folios: 2).Do(Pin(1, A, 2));
        Assert.False(inside.Exercised("GUP-WALK-NEXT-VMA"));
        AssertCoreImplementationsAgree("proposal-2015-get-vaddr-pfns",
            new MapRegion(1, RegionKind.Anon, A, 1), new MapRegion(2, RegionKind.File, A + Page, 1), Get(1, A, 2));
    }
}
