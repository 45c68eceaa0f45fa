using GupConformance.Spec;
using static GupConformance.Tests.ModelRun;
using static GupConformance.Tests.Scenarios.ScenarioSupport;

namespace GupConformance.Tests.Scenarios;

/// <summary>
/// Scenarios for the GUP walk (GUP-* except GUP-PARTIAL-RESULT, which is in OverflowScenarioTests): on into the next
/// VMA, the mm a *_remote call walks, the mm a FOLL_PIN call marks. The model's scenarios drive GupModel.Step
/// directly and assert on the checks' allowed values and on the next state: hand-derived from
/// shared/reference/linux-gup-semantics.md, or written to kill a mutant that survived Stryker.NET
/// (stryker/RESULTS.md), ordered by rule in catalogue order. Scenarios from issue 13 also replay their commands on
/// the reference implementation, which must agree with the model on every observation.
/// </summary>
public sealed partial class WalkScenarioTests
{
    private const ulong Remote = 0x30000000;

    /// <summary>TASK_SIZE_MAX of x86-64 with 4-level paging.</summary>
    private const ulong TaskSizeMax = 0x7FFFFFFFF000;

    private static ModelRun TwoMms(Profile p) => new ModelRun(p)
        .Do(new MapRegion(1, RegionKind.Anon, A, 2))
        .Do(new MapRegion(2, RegionKind.Anon, Remote, 2, Mm: 1));

    [Fact]
    public void GUP_REMOTE_TARGET_MM_a_remote_pin_walks_the_mm_it_is_given_and_the_callers_own_regions_are_holes_there()
    {
        var r = TwoMms(Profiles.Linux612Stable).Do(Pin(1, Remote, 2, e: EntryPoint.PinUserPagesRemote) with { Mm = 1 });
        Assert.Equal("2", r.V("result"));
        Assert.Equal("[r2.f0:0, r2.f1:0]", r.V("pages"));
        Assert.True(r.Exercised("GUP-REMOTE-TARGET-MM"));
        r.Inspect("r2.f0");
        Assert.Equal("1025", r.V("refcount"));

        // The caller's region is not mapped in mm 1: a hole there (-EFAULT); and the second mm's is a hole for
        // every call on the caller's own mm, remote or not.
        r.Do(Get(2, A, 1, e: EntryPoint.GetUserPagesRemote) with { Mm = 1 });
        Assert.Equal("-EFAULT", r.V("result"));
        Assert.Contains("GUP-REMOTE-TARGET-MM", r.RulesOf("result"));
        r.Do(Get(3, Remote, 1, e: EntryPoint.GetUserPagesRemote));
        Assert.Equal("-EFAULT", r.V("result"));
        r.Do(Pin(4, Remote, 1, e: EntryPoint.PinUserPagesFast));
        Assert.Equal("-EFAULT", r.V("result"));

        // Only the remote entry points are given an mm.
        Assert.NotNull(r.Invalid(Pin(5, Remote, 1, e: EntryPoint.PinUserPages) with { Mm = 1 }));
        AssertReferenceAgrees("linux-6.12.118",
            new MapRegion(1, RegionKind.Anon, A, 2), new MapRegion(2, RegionKind.Anon, Remote, 2, Mm: 1),
            Pin(1, Remote, 2, e: EntryPoint.PinUserPagesRemote) with { Mm = 1 }, Get(2, A, 1, e: EntryPoint.GetUserPagesRemote) with { Mm = 1 },
            Get(3, Remote, 1, e: EntryPoint.GetUserPagesRemote), Pin(4, Remote, 1, e: EntryPoint.PinUserPagesFast));
    }

    [Theory]
    [InlineData("linux-6.1.y")]
    [InlineData("linux-6.12.118")]
    [InlineData("linux-6.18")]
    public void GUP_PIN_MARKS_MM_a_remote_pin_marks_the_target_mm_and_not_the_callers(string profile)
    {
        var r = TwoMms(Profiles.Get(profile));
        r.Do(new InspectMm(0));
        Assert.Equal("false", r.V("has_pinned"));

        // A remote reference marks nothing; a remote pin marks mm 1 only.
        r.Do(Get(1, Remote, 1, e: EntryPoint.GetUserPagesRemote) with { Mm = 1 }).Do(new InspectMm(1));
        Assert.Equal("false", r.V("has_pinned"));
        r.Do(Pin(2, Remote, 1, e: EntryPoint.PinUserPagesRemote) with { Mm = 1 }).Do(new InspectMm(1));
        Assert.Equal("true", r.V("has_pinned"));
        Assert.Equal(["GUP-PIN-MARKS-MM", "GUP-REMOTE-TARGET-MM"], r.RulesOf("has_pinned"));
        r.Do(new InspectMm(0));
        Assert.Equal("false", r.V("has_pinned"));
        AssertReferenceAgrees(profile,
            new MapRegion(1, RegionKind.Anon, A, 2), new MapRegion(2, RegionKind.Anon, Remote, 2, Mm: 1),
            Get(1, Remote, 1, e: EntryPoint.GetUserPagesRemote) with { Mm = 1 }, Pin(2, Remote, 1, e: EntryPoint.PinUserPagesRemote) with { Mm = 1 });
    }

    [Fact]
    public void GUP_PIN_MARKS_MM_a_pin_that_fails_still_marks_one_refused_by_its_arguments_does_not_and_the_mark_stays()
    {
        // pin_user_pages() over a hole: -EFAULT, but mm_set_has_pinned_flag() ran before the walk.
        var hole = TwoMms(Profiles.Linux618).Do(Pin(1, A + (8 * Page), 1)).Do(new InspectMm(0));
        Assert.Equal("true", hole.V("has_pinned"));

        // is_valid_gup_args() refuses FOLL_GET on a pin entry point first: nothing is marked.
        var refused = TwoMms(Profiles.Linux618).Do(Pin(1, A, 1, Foll.Get)).Do(new InspectMm(0));
        Assert.Equal("false", refused.V("has_pinned"));

        // GUP-fast marks current->mm after its flag mask and before its range checks (6.12.118 gup_fast_fallback()):
        // a pin past TASK_SIZE_MAX is refused with the mark already set.
        var range = TwoMms(Profiles.Linux612Stable).Do(Pin(1, TaskSizeMax, 1, e: EntryPoint.PinUserPagesFast))
            .Do(new InspectMm(0));
        Assert.Equal("true", range.V("has_pinned"));

        // Released pins leave it set ("FOLL_PIN has run, never cleared").
        var released = TwoMms(Profiles.Linux618).Do(Pin(1, A, 1)).Do(new Release(1, ReleaseFn.UnpinUserPages, 0, 1)).Do(new InspectMm(0));
        Assert.Equal("true", released.V("has_pinned"));
        released.Vmstat();
        Assert.Equal("1", released.V("nr_foll_pin_acquired"));
        Assert.Equal("1", released.V("nr_foll_pin_released"));
        AssertReferenceAgrees("linux-6.18",
            new MapRegion(1, RegionKind.Anon, A, 2), new MapRegion(2, RegionKind.Anon, Remote, 2, Mm: 1),
            Pin(1, A + (8 * Page), 1), Pin(2, A, 1, Foll.Get), Pin(3, A, 1), new Release(3, ReleaseFn.UnpinUserPages, 0, 1));
    }

    [Fact]
    public void GUP_PIN_MARKS_MM_consumers_that_pin_mark_the_callers_mm_and_eras_without_the_flag_have_no_such_command()
    {
        // iov_iter_extract_pages() of a user-backed iterator pins through pin_user_pages_fast(): current->mm.
        var r = TwoMms(Profiles.Linux618)
            .Do(new IterInit(1, IterKind.Ubuf, IterDir.Dest, [new IterSeg(A, 4096)]))
            .Do(new IterExtract(1, 1, 4096, 1))
            .Do(new InspectMm(0));
        Assert.Equal("true", r.V("has_pinned"));

        // 5.7 had no has_pinned (v5.9): neither the second mm nor the inspection exists there.
        var old = new ModelRun(Profiles.Linux57);
        Assert.NotNull(old.Invalid(new InspectMm(0)));
        Assert.NotNull(old.Invalid(new MapRegion(2, RegionKind.Anon, Remote, 1, Mm: 1)));
    }
}
