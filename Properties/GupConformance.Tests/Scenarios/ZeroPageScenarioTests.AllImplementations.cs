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
public sealed partial class ZeroPageScenarioTests
{
    [Fact]
    public void ZERO_FAULTED_PAGE_KEPT_the_page_a_write_fault_installed_is_returned_by_every_later_walk()
    {
        Command[] actions =
        [
            new MapRegion(1, RegionKind.Zero, A, 2),
            Pin(1, A, 1, Foll.Write),                  // faults r1.f0 in: 1 + 1024
            Get(2, A, 1),                              // read: r1.f0, not the zero page: +1
            Pin(3, A, 1, Foll.Write),                  // write again: no second copy: +1024
            Pin(4, A, 1, Foll.LongTerm),               // R/O long-term: an exclusive anon page is not unshared: +1024
            Pin(5, A, 2),                              // r1.f0 and, for page 1, the zero page (not pinned from 6.5)
        ];
        var r = new ModelRun(Profiles.Linux618);
        foreach (var c in actions)
        {
            r.Do(c);
            if (c is Gup { Call: >= 2 })
            {
                Assert.StartsWith("[r1.f0:0", r.V("pages"), StringComparison.Ordinal);
                Assert.True(r.Exercised("ZERO-FAULTED-PAGE-KEPT"), c.ToString());
            }
        }

        Assert.Equal("[r1.f0:0, zero:0]", r.V("pages"));
        r.Inspect("r1.f0");
        Assert.Equal("4098", r.V("refcount"));
        Assert.Contains("ZERO-FAULTED-PAGE-KEPT", r.RulesOf("refcount"));
        r.Inspect("zero");
        Assert.Equal("1", r.V("refcount"));
        r.Vmstat();
        Assert.Equal("4", r.V("nr_foll_pin_acquired"));

        AssertCoreImplementationsAgree("linux-6.18", actions);
        AssertCoreImplementationsAgree("linux-5.7", actions);
    }
}
