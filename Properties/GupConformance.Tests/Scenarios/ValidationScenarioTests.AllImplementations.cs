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
public sealed partial class ValidationScenarioTests
{
    [Fact]
    public void API_UNLOCKED_LONGTERM_6_2_dropped_the_guard_so_a_long_term_unlocked_pin_is_walked()
    {
        // v6.2.12 get_user_pages_unlocked() → __gup_longterm_locked(): WARN_ON(!(gup_flags & FOLL_PIN)) → -EINVAL.
        Command[] actions =
        [
            new MapRegion(1, RegionKind.Anon, A, 1),
            Pin(1, A, 1, Foll.LongTerm, EntryPoint.PinUserPagesUnlocked),
            Get(2, A, 1, Foll.LongTerm, EntryPoint.GetUserPagesUnlocked),
            Pin(3, A, 1, Foll.None, EntryPoint.PinUserPagesRemote, pages: false),
            Pin(4, A, 1, Foll.None, EntryPoint.PinUserPagesUnlocked, pages: false),
            Pin(5, A, 1, Foll.None, EntryPoint.PinUserPagesFastOnly, pages: false),
        ];
        var r = new ModelRun(Profiles.Linux62).Do(actions[0]).Do(actions[1]);
        Assert.Equal("1", r.V("result"));
        r.Inspect("r1.f0");
        Assert.Equal("1025", r.V("refcount"));
        r.Do(actions[2]);
        Assert.Equal("-EINVAL", r.V("result"));
        Assert.Contains("API-LONGTERM-NEEDS-PIN", r.RulesOf("result"));
        Assert.DoesNotContain("API-UNLOCKED-LONGTERM", r.RulesOf("result"));

        // v6.2 pin_user_pages_remote()/_unlocked(): WARN_ON_ONCE(!pages) → -EINVAL; the _fast_only variant answers 0.
        r.Do(actions[3]);
        Assert.Equal("-EINVAL", r.V("result"));
        Assert.Contains("API-PAGES-REQUIRED", r.RulesOf("result"));
        r.Do(actions[4]);
        Assert.Equal("-EINVAL", r.V("result"));
        r.Do(actions[5]);
        Assert.Equal("0", r.V("result"));

        // Up to 6.1 the FIXME guard refuses both.
        Assert.Equal("-EINVAL", Anon(Profiles.Linux519).Do(Pin(1, A, 1, Foll.LongTerm, EntryPoint.PinUserPagesUnlocked)).V("result"));
        AssertCoreImplementationsAgree("linux-6.2", actions);
    }

    [Fact]
    public void API_LONGTERM_P2PDMA_is_valid_gup_args_refuses_before_the_walk_from_6_3()
    {
        // Step 6 of is_valid_gup_args(): pin_user_pages() returns 0, pin_user_pages_fast() -EINVAL; nothing is pinned.
        var r = Anon(Profiles.Linux618).Do(Pin(1, A, 1, Foll.LongTerm | Foll.PciP2pDma));
        Assert.Equal("0", r.V("result"));
        Assert.Equal("[]", r.V("pages"));
        Assert.Contains("API-LONGTERM-P2PDMA", r.RulesOf("result"));
        r.Do(Pin(2, A, 1, Foll.LongTerm | Foll.PciP2pDma, EntryPoint.PinUserPagesFast));
        Assert.Equal("-EINVAL", r.V("result"));
        r.Do(Pin(3, A + (8 * Page), 1, Foll.LongTerm | Foll.PciP2pDma, EntryPoint.PinUserPagesRemote));
        Assert.Equal("0", r.V("result"));
        r.Inspect("r1.f0");
        Assert.Equal("1", r.V("refcount"));

        // Without FOLL_LONGTERM the flag changes nothing on memory that holds no P2PDMA page.
        r.Do(Pin(4, A, 1, Foll.PciP2pDma));
        Assert.Equal("1", r.V("result"));
        r.Inspect("r1.f0");
        Assert.Equal("1025", r.V("refcount"));
        Assert.NotNull(Anon(Profiles.Linux519).Invalid(Pin(1, A, 1, Foll.PciP2pDma)));

        AssertCoreImplementationsAgree("linux-6.18",
            new MapRegion(1, RegionKind.Anon, A, 1), Pin(1, A, 1, Foll.LongTerm | Foll.PciP2pDma),
            Pin(2, A, 1, Foll.LongTerm | Foll.PciP2pDma, EntryPoint.PinUserPagesFast), Pin(4, A, 1, Foll.PciP2pDma));
    }

    [Fact]
    public void API_LONGTERM_P2PDMA_6_2_check_vma_flags_answers_EOPNOTSUPP_after_the_io_test()
    {
        // v6.2 check_vma_flags(): VM_IO|VM_PFNMAP → -EFAULT first, then FOLL_LONGTERM && FOLL_PCI_P2PDMA → -EOPNOTSUPP.
        Command[] actions =
        [
            new MapRegion(1, RegionKind.Anon, A, 2), new MapRegion(2, RegionKind.Io, A + (2 * Page), 1),
            Pin(1, A, 2, Foll.LongTerm | Foll.PciP2pDma),
            Pin(2, A + (2 * Page), 1, Foll.LongTerm | Foll.PciP2pDma),
            Pin(3, A + (9 * Page), 1, Foll.LongTerm | Foll.PciP2pDma),
            Pin(4, A, 1, Foll.LongTerm | Foll.PciP2pDma, EntryPoint.PinUserPagesUnlocked),
            Pin(5, A, 1, Foll.PciP2pDma, EntryPoint.PinUserPagesFast),
        ];
        var r = new ModelRun(Profiles.Linux62);
        string[] expected = ["-EOPNOTSUPP", "-EFAULT", "-EFAULT", "-EOPNOTSUPP", "1"];
        for (var i = 0; i < actions.Length; i++)
        {
            r.Do(actions[i]);
            if (i >= 2)
            {
                Assert.Equal(expected[i - 2], r.V("result"));
            }
        }

        r.Inspect("r1.f0");
        Assert.Equal("1025", r.V("refcount"));
        r.Inspect("r1.f1");
        Assert.Equal("1", r.V("refcount"));

        // GUP-fast pins what it reaches before the slow path refuses: not modelled (CONTRACT.md §3).
        Assert.NotNull(r.Invalid(Pin(6, A, 1, Foll.LongTerm | Foll.PciP2pDma, EntryPoint.PinUserPagesFast)));
        AssertCoreImplementationsAgree("linux-6.2", actions);
    }
}
