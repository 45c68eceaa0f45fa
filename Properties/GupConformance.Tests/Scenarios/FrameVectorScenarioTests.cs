using GupConformance.Engine;
using GupConformance.Fixtures;
using GupConformance.Oracles;
using GupConformance.Spec;
using static GupConformance.Tests.ModelRun;
using static GupConformance.Tests.Scenarios.ScenarioSupport;

namespace GupConformance.Tests.Scenarios;

/// <summary>
/// Scenarios for frame vectors, get_vaddr_frames()/put_vaddr_frames() (FV-*): references, pins, the pfn walk,
/// clamping, empty and failed requests. The model's scenarios drive GupModel.Step directly and assert on the checks'
/// allowed values and on the next state: hand-derived from shared/reference/linux-gup-semantics.md, or written to
/// kill a mutant that survived Stryker.NET (stryker/RESULTS.md), ordered by rule in catalogue order. Scenarios found
/// by running the model against real kernels have their own section. Tests whose subject is the reference
/// implementation (Fixtures/) for the same rules follow in their own section: they stay with the rules they check,
/// so each rule has one place.
/// </summary>
public sealed partial class FrameVectorScenarioTests
{
    private const long Page = Sizes.PageSize;

    private static ModelRun FvRun(Profile p) => Anon(p, folios: 4)
        .Do(new MapRegion(2, RegionKind.PfnMap, B, 2)).Do(new MapRegion(3, RegionKind.Io, B + (2 * Page), 2)).Do(new FvCreate(1, 3));

    /// <summary>The reference implementation with the pfn list of every follow_pfn() walk recorded.</summary>
    private sealed class PfnWalkProbe(Profile profile) : KernelStyleImplementation(profile)
    {
        public List<string> Walks { get; } = [];

        protected override long FollowPfnWalk(Vma vma, ulong start, int nrFrames, FrameVector vec)
        {
            var ret = base.FollowPfnWalk(vma, start, nrFrames, vec);
            Walks.Add(PageRuns.Render(vec.Frames.ToRuns()));
            return ret;
        }
    }

    // ---- The model --------------------------------------------------------------------------------------------------

    [Fact]
    public void FV_REFS_NORMAL_FV_PUT_ONLY_IF_GOT_REF_a_5_7_vector_takes_and_gives_back_references()
    {
        var r = FvRun(Profiles.Linux57).Do(new FvGet(1, A, 2, Write: true));
        Assert.Equal("2", r.V("result"));
        Assert.Equal("2", r.V("nr_frames"));
        Assert.Equal("true", r.V("got_ref"));
        Assert.Equal("false", r.V("is_pfns"));
        Assert.True(r.Exercised("FV-REFS-NORMAL"));
        Assert.Equal("2", r.Inspect("r1.f1").V("refcount"));
        r.Do(new FvPut(1));
        Assert.Equal("0", r.V("nr_frames"));
        Assert.True(r.Exercised("FV-PUT-ONLY-IF-GOT-REF"));
        Assert.Equal("1", r.Inspect("r1.f1").V("refcount"));
    }

    [Fact]
    public void FV_REFS_NORMAL_a_v5_4_frame_vector_is_put_with_put_page()
    {
        var r = Anon(Profiles.Linux56).Do(new FvCreate(1, 4)).Do(new FvGet(1, A, 1, false));
        Assert.Equal("1", r.V("result"));
        Assert.Contains("REF-GET-PLUS-ONE", r.RulesOf("result"));
        r.Do(new FvPut(1));
        Assert.Contains("REL-EXACT-INVERSE", r.RulesOf("result"));
        r.Inspect("r1.f0");
        Assert.Equal("1", r.V("refcount"));
        Assert.Contains("FV-REFS-NORMAL", r.RulesOf("refcount"));
        Assert.DoesNotContain("REL-UNPIN-PAGES-BATCH", r.RulesOf("refcount"));
    }

    [Fact]
    public void FV_PFNMAP_NO_REF_a_2015_vector_over_pfnmap_follows_pfns_without_refs()
    {
        var r = FvRun(Profiles.Proposal2015GetVaddrPfns);
        Assert.Null(r.Invalid(new FvGet(1, B, 3, false)));
        r.Do(new FvGet(1, B + Page, 3, false));
        Assert.Equal("3", r.V("result"));
        Assert.Equal("false", r.V("got_ref"));
        Assert.Equal("true", r.V("is_pfns"));
        Assert.True(r.Exercised("FV-PFNMAP-NO-REF"));
        r.Do(new FvPut(1));
        Assert.Equal("0", r.V("nr_frames"));
        var fallback = FvRun(Profiles.Linux519).Do(new FvGet(1, B, 2, false));
        Assert.Equal("2", fallback.V("result"));
        Assert.Equal("true", fallback.V("is_pfns"));
    }

    [Fact]
    public void FV_PFNMAP_NO_REF_the_walk_continues_into_the_next_pfn_region_for_what_is_left()
    {
        // get_vaddr_frames() (v4.2–v5.10): a VM_IO region covered to its end hands over to the next VM_IO|VM_PFNMAP
        // VMA, which gives only the frames still wanted.
        var r = new ModelRun(Profiles.Linux56)
            .Do(new MapRegion(1, RegionKind.Io, A, 2))
            .Do(new MapRegion(2, RegionKind.PfnMap, A + 0x2000, 2))
            .Do(new FvCreate(1, 8))
            .Do(new FvGet(1, A, 3, false));
        Assert.Equal("3", r.V("result"));
        Assert.Equal("3", r.V("nr_frames"));
        Assert.Equal("false", r.V("got_ref"));
        Assert.Equal("true", r.V("is_pfns"));
        var fv = Assert.Single(r.State.FrameVectors);
        Assert.Equal(new FvView(1, 8, 3, false, true), fv);
        Assert.Equal("allocated=8 nr_frames=3 got_ref=false is_pfns=true", r.State.Describe()["fv.1"]);
    }

    [Fact]
    public void FV_CLAMP_FV_ZERO_FRAMES_FV_EFAULT_requests_are_clamped_empty_or_fail()
    {
        var r = FvRun(Profiles.Linux57).Do(new FvGet(1, A, 5, false));
        Assert.Equal("3", r.V("result"));
        Assert.True(r.Exercised("FV-CLAMP"));
        var z = FvRun(Profiles.Linux618).Do(new FvGet(1, A, 0, false));
        Assert.Equal("0", z.V("result"));
        Assert.False(z.Has("got_ref"));
        Assert.True(z.Exercised("FV-ZERO-FRAMES"));
        var e = FvRun(Profiles.Proposal2015GetVaddrPfns).Do(new FvGet(1, C, 1, false));
        Assert.Equal("-EFAULT", e.V("result"));
        Assert.Equal("0", e.V("nr_frames"));
        Assert.True(e.Exercised("FV-EFAULT"));
    }

    [Fact]
    public void FV_CLAMP_frame_vector_create_returns_0_and_says_what_it_created()
    {
        var r = new ModelRun(Profiles.Linux62).Do(new FvCreate(1, 4));
        Assert.Equal("0", r.V("result"));
        Assert.Contains("FV-CLAMP", r.RulesOf("result"));
        Assert.Equal("fv 1 created with 4 slots", r.Last.Change);
    }

    [Fact]
    public void FV_CLAMP_a_request_of_exactly_the_capacity_is_not_clamped()
    {
        var r = Anon(Profiles.Linux62, folios: 3).Do(new FvCreate(1, 2)).Do(new FvGet(1, A, 2, true));
        Assert.Equal("2", r.V("result"));
        Assert.DoesNotContain("FV-CLAMP", r.RulesOf("result"));
        Assert.False(r.Exercised("FV-CLAMP"));

        var over = Anon(Profiles.Linux62, folios: 3).Do(new FvCreate(1, 2)).Do(new FvGet(1, A, 3, true));
        Assert.Equal("2", over.V("result"));
        Assert.Contains("FV-CLAMP", over.RulesOf("result"));
    }

    [Fact]
    public void FV_CLAMP_a_created_vector_has_no_frames_and_undefined_flags()
    {
        // frame_vector_create() kvmalloc()s the vector: got_ref / is_pfns are garbage until get_vaddr_frames().
        var r = new ModelRun(Profiles.Linux62).Do(new FvCreate(1, 4));
        Assert.Equal(new FvView(1, 4, 0, false, false), Assert.Single(r.State.FrameVectors));
        Assert.Equal("allocated=4 nr_frames=0 got_ref=undefined is_pfns=undefined", r.State.Describe()["fv.1"]);
    }

    [Fact]
    public void FV_EFAULT_an_unaligned_start_in_the_last_pfn_page_collects_nothing()
    {
        // v5.4 get_vaddr_frames(): the follow_pfn() loop runs while start + PAGE_SIZE <= vm_end, so nothing is
        // collected and "if (!ret) ret = -EFAULT".
        var r = new ModelRun(Profiles.Linux56).Do(new MapRegion(1, RegionKind.Io, A, 1)).Do(new FvCreate(1, 4));
        r.Do(new FvGet(1, A + 0x10, 1, false));
        Assert.Equal("-EFAULT", r.V("result"));
        Assert.Equal("0", r.V("nr_frames"));
        Assert.Contains("FV-EFAULT", r.RulesOf("result"));
        Assert.Equal("fv 1 get → -EFAULT", r.Last.Change);
    }

    [Fact]
    public void FV_EFAULT_a_v6_1_frame_vector_over_a_hole_cites_it()
    {
        var r = new ModelRun(Profiles.Linux62).Do(new FvCreate(1, 4)).Do(new FvGet(1, A, 1, false));
        Assert.Equal("-EFAULT", r.V("result"));
        Assert.Contains("FV-EFAULT", r.RulesOf("result"));
        Assert.Contains("API-FAULT-HOLE", r.RulesOf("result"));
        Assert.Contains("FV-PFNMAP-REMOVED", r.RulesOf("result"));
    }

    [Fact]
    public void FV_PUT_ONLY_IF_GOT_REF_putting_pfn_frames_decides_their_refcount_without_moving_it()
    {
        // put_vaddr_frames() with got_ref false puts nothing: the followed pfns keep their refcount, which now rests
        // on the got_ref test, and they count as addressed by the put (no collateral).
        var r = new ModelRun(Profiles.Linux56)
            .Do(new MapRegion(1, RegionKind.Io, A, 2))
            .Do(new FvCreate(1, 4))
            .Do(new FvGet(1, A, 2, false))
            .Do(new FvPut(1));
        Assert.Equal("fv 1 put", r.Last.Change);
        Assert.Equal("allocated=4 nr_frames=0 got_ref=false is_pfns=true", r.State.Describe()["fv.1"]);
        foreach (var folio in new[] { "r1.f0", "r1.f1" })
        {
            r.Inspect(folio);
            Assert.Equal("1", r.V("refcount"));
            Assert.Contains("FV-PUT-ONLY-IF-GOT-REF", r.RulesOf("refcount"));
            Assert.DoesNotContain("CORE-NO-COLLATERAL", r.RulesOf("refcount"));
            Assert.False(r.Exercised("CORE-NO-COLLATERAL"));
        }
    }

    [Fact]
    public void FV_PINS_a_5_19_vector_pins_long_term_for_write()
    {
        var r = FvRun(Profiles.Linux519).Do(new FvGet(1, A, 2, false));
        Assert.Equal("2", r.V("result"));
        Assert.Equal("true", r.V("got_ref"));
        Assert.True(r.Exercised("FV-PINS"));
        Assert.Equal("1025", r.Inspect("r1.f0").V("refcount"));
        r.Do(new FvPut(1)).Vmstat();
        Assert.Equal("2", r.V("nr_foll_pin_released"));
    }

    [Fact]
    public void FV_PINS_a_v6_1_frame_vector_pins_and_put_vaddr_frames_unpins()
    {
        var r = Anon(Profiles.Linux62).Do(new FvCreate(1, 4)).Do(new FvGet(1, A, 1, true));
        Assert.Equal("1", r.V("result"));
        Assert.Equal("true", r.V("got_ref"));
        Assert.Contains("FV-PINS", r.RulesOf("result"));
        Assert.Contains("PIN-BIAS-SMALL", r.RulesOf("result"));
        Assert.DoesNotContain("FV-PFNMAP-REMOVED", r.RulesOf("result"));
        Assert.DoesNotContain("FV-EFAULT", r.RulesOf("result"));
        Assert.EndsWith("fv 1 get → 1", r.Last.Change, StringComparison.Ordinal);
        Assert.Equal(new FvView(1, 4, 1, true, false), Assert.Single(r.State.FrameVectors));
        Assert.Equal("allocated=4 nr_frames=1 got_ref=true is_pfns=false", r.State.Describe()["fv.1"]);
        r.Inspect("r1.f0");
        Assert.Equal("1025", r.V("refcount"));
        Assert.Contains("FV-PINS", r.RulesOf("refcount"));

        r.Do(new FvPut(1));
        Assert.Equal("0", r.V("result"));
        Assert.Equal("0", r.V("nr_frames"));
        Assert.Contains("REL-EXACT-INVERSE", r.RulesOf("result"));
        Assert.EndsWith("; fv 1 put", r.Last.Change, StringComparison.Ordinal);
        r.Inspect("r1.f0");
        Assert.Equal("1", r.V("refcount"));
        Assert.Contains("FV-PINS", r.RulesOf("refcount"));
        Assert.Contains("REL-UNPIN-PAGES-BATCH", r.RulesOf("refcount"));
    }

    [Fact]
    public void FV_PINS_a_v5_19_frame_vector_falls_back_to_follow_pfn_on_VM_IO()
    {
        var io = new ModelRun(Profiles.Linux519).Do(new MapRegion(1, RegionKind.Io, A, 1)).Do(new FvCreate(1, 4));
        io.Do(new FvGet(1, A, 1, false));
        Assert.Equal("1", io.V("result"));
        Assert.Equal("true", io.V("is_pfns"));
        Assert.Contains("FV-PINS", io.RulesOf("result"));
        Assert.Contains("FV-PFNMAP-NO-REF", io.RulesOf("result"));

        var anon = Anon(Profiles.Linux519).Do(new FvCreate(1, 4)).Do(new FvGet(1, A, 1, false));
        Assert.Equal("1", anon.V("result"));
        Assert.Contains("PIN-BIAS-SMALL", anon.RulesOf("result"));

        // The pin is counted in nr_foll_pin_acquired, which that check cites; the result does not rest on the counter.
        Assert.DoesNotContain("VMSTAT-ACQ-PER-ENTRY", anon.RulesOf("result"));
        anon.Do(new ReadVmstat());
        Assert.Equal("1", anon.V("nr_foll_pin_acquired"));
        Assert.Contains("VMSTAT-ACQ-PER-ENTRY", anon.RulesOf("nr_foll_pin_acquired"));
    }

    [Fact]
    public void FV_PFNMAP_REMOVED_from_6_1_a_pfnmap_vector_fails_with_EFAULT_and_got_ref_set()
    {
        var r = FvRun(Profiles.Linux62).Do(new FvGet(1, B, 2, false));
        Assert.Equal("-EFAULT", r.V("result"));
        Assert.Equal("0", r.V("nr_frames"));
        Assert.Equal("true", r.V("got_ref"));
        Assert.Equal("false", r.V("is_pfns"));
        Assert.True(r.Exercised("FV-PFNMAP-REMOVED"));
    }

    [Fact]
    public void FV_PFNMAP_REMOVED_a_v6_1_frame_vector_over_VM_IO_fails_without_FV_EFAULT()
    {
        // v6.1+: pin_user_pages_fast() fails with -EFAULT on VM_IO; the vector returns that error, nr_frames = 0.
        var r = new ModelRun(Profiles.Linux62).Do(new MapRegion(1, RegionKind.Io, A, 1)).Do(new FvCreate(1, 4));
        r.Do(new FvGet(1, A, 1, false));
        Assert.Equal("-EFAULT", r.V("result"));
        Assert.Equal("0", r.V("nr_frames"));
        Assert.Contains("FV-PINS", r.RulesOf("result"));
        Assert.Contains("FV-PFNMAP-REMOVED", r.RulesOf("result"));
        Assert.Contains("API-VMIO-PFNMAP", r.RulesOf("result"));
        Assert.DoesNotContain("FV-EFAULT", r.RulesOf("result"));
    }

    [Fact]
    public void FV_PFNMAP_REMOVED_a_v6_2_range_overflow_returns_0_which_the_vector_turns_into_EFAULT()
    {
        // v6.2 internal_get_user_pages_fast(): check_add_overflow() returns 0; get_vaddr_frames() then sets
        // nr_frames = 0 and returns -EFAULT.
        var r = new ModelRun(Profiles.Linux62).Do(new FvCreate(1, 4)).Do(new FvGet(1, 0xFFFFFFFFFFFFF000, 2, false));
        Assert.Equal("-EFAULT", r.V("result"));
        Assert.Equal("0", r.V("nr_frames"));
        Assert.Contains("FV-PFNMAP-REMOVED", r.RulesOf("result"));
        Assert.Contains("FV-EFAULT", r.RulesOf("result"));
    }

    // ---- From the runs on real kernels (6.1.192 and 6.12.118, Fixtures/Kernel) --------------------------------------

    // Each the shrunk counterexample of a run of the model against a real kernel that showed the model wrong or
    // missing something, with the kernel text it rests on.

    [Fact]
    public void FV_PINS_6_1_y_pins_frames_for_writing_whatever_the_caller_asks()
    {
        // 6.1.192 get_vaddr_frames(start, nr_frames, vec): FOLL_FORCE | FOLL_WRITE | FOLL_LONGTERM; no write argument
        // before v6.2. Over a zero-page region that is a write fault; in 6.2 a read-only long-term pin unshares.
        var r = Zero(Profiles.Linux61Stable, pages: 1).Do(new FvCreate(1, 4)).Do(new FvGet(1, A, 1, Write: false));
        Assert.Equal("1", r.V("result"));
        Assert.True(r.Exercised("ZERO-WRITE-FAULT"));
        Assert.False(r.Exercised("ZERO-LONGTERM-UNSHARE"));

        var six2 = Zero(Profiles.Linux62, pages: 1).Do(new FvCreate(1, 4)).Do(new FvGet(1, A, 1, Write: false));
        Assert.True(six2.Exercised("ZERO-LONGTERM-UNSHARE"));
    }

    // ---- The reference implementation (Fixtures/) against the model -------------------------------------------------

    [Fact]
    public void FV_PFNMAP_NO_REF_a_pfn_walk_over_two_adjacent_pfnmap_vmas_counts_every_frame()
    {
        var last = AssertReferenceAgreesWithModel("linux-5.7",
            new MapRegion(1, RegionKind.PfnMap, Base, 2),
            new MapRegion(2, RegionKind.Io, Base + 0x2000, 2),
            new FvCreate(1, 8),
            new FvGet(1, Base, 4, Write: false));
        Assert.Equal(4, last.Result);
        Assert.Equal(4, last.NrFrames);
        Assert.Equal(false, last.GotRef);
        Assert.Equal(true, last.IsPfns);
    }

    [Fact]
    public void FV_PFNMAP_NO_REF_follow_pfn_lists_one_frame_per_page_on_into_the_adjacent_vma()
    {
        // The pfn list is not observable through the adapter (got_ref is false, so put_vaddr_frames() releases nothing),
        // but it is what a walk that wrongly takes refs (Broken fv-pfn-walk-takes-refs) would take them on: record it.
        Command[] actions =
        [
            new MapRegion(1, RegionKind.PfnMap, Base, 2),
            new MapRegion(2, RegionKind.PfnMap, Base + 0x2000, 1),
            new FvCreate(1, 8),
            new FvGet(1, Base, 3, Write: false),
        ];
        var profile = Profiles.Get("linux-5.7");
        Assert.Null(Shrinker.Validate(profile, profile.Facets, actions));
        using var probe = new PfnWalkProbe(profile);
        var last = new Observation();
        foreach (var c in actions)
        {
            last = probe.Execute(c);
        }

        Assert.Equal(3, last.Result);
        Assert.Equal(["[r1.f0:0, r1.f1:0, r2.f0:0]"], probe.Walks);
    }

    [Fact]
    public void FV_PFNMAP_NO_REF_from_an_unaligned_start_the_pfn_walk_leaves_out_the_partly_covered_last_page()
    {
        // get_vaddr_frames() does not align start: "while (ret < nr_frames && start + PAGE_SIZE <= vma->vm_end)".
        var last = AssertReferenceAgreesWithModel("linux-5.7",
            new MapRegion(1, RegionKind.PfnMap, Base, 2),
            new MapRegion(2, RegionKind.PfnMap, Base + 0x2000, 2),
            new FvCreate(1, 8),
            new FvGet(1, Base + 0x10, 4, Write: false));
        Assert.Equal(1, last.Result);
        Assert.Equal(1, last.NrFrames);
    }

    [Fact]
    public void FV_EFAULT_an_unaligned_start_in_the_last_pfnmap_page_collects_nothing_and_is_minus_EFAULT()
    {
        var last = AssertReferenceAgreesWithModel("linux-5.19",
            new MapRegion(1, RegionKind.PfnMap, Base, 2),
            new FvCreate(1, 8),
            new FvGet(1, Base + 0x1010, 1, Write: false));
        Assert.Equal(-Errno.EFAULT, last.Result);
        Assert.Equal(0, last.NrFrames);
    }

    [Fact]
    public void FV_PINS_a_pin_that_returns_0_for_a_range_overflow_falls_back_to_the_pfn_branch_without_got_ref()
    {
        // pin_user_pages_fast() answers 0 for start + len overflowing before v6.5 (API-FAST-RANGE-OVERFLOW): not > 0, so
        // the media frame vector takes the follow_pfn() branch (got_ref = false, is_pfns = true) and finds no VMA.
        var last = AssertReferenceAgreesWithModel("linux-5.19",
            new FvCreate(1, 2),
            new FvGet(1, 0xFFFFFFFFFFFFF000, 2, Write: false));
        Assert.Equal(-Errno.EFAULT, last.Result);
        Assert.Equal(false, last.GotRef);
        Assert.Equal(true, last.IsPfns);
    }

    [Fact]
    public void FV_PFNMAP_REMOVED_a_pin_that_returns_0_for_a_range_overflow_is_minus_EFAULT()
    {
        var last = AssertReferenceAgreesWithModel("linux-6.2",
            new FvCreate(1, 2),
            new FvGet(1, 0xFFFFFFFFFFFFF000, 2, Write: false));
        Assert.Equal(-Errno.EFAULT, last.Result);
        Assert.Equal(0, last.NrFrames);
    }
}
