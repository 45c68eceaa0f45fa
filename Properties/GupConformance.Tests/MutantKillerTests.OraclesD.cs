using GupConformance.Oracles;
using GupConformance.Spec;
using static GupConformance.Tests.ModelRun;

namespace GupConformance.Tests;

/// <summary>
/// Kills survivors of Oracles/FrameVector.cs, Gup.cs, GupModel.cs, ModelApi.cs, State.cs and StepContext.cs (batch D):
/// frame vectors, the GUP call path and admission, the state's views and the step's account of its change.
/// </summary>
public sealed partial class MutantKillerTests
{
    // ---- Frame vectors ---------------------------------------------------------------------------------------

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
    public void FV_CLAMP_a_created_vector_has_no_frames_and_undefined_flags()
    {
        // frame_vector_create() kvmalloc()s the vector: got_ref / is_pfns are garbage until get_vaddr_frames().
        var r = new ModelRun(Profiles.Linux62).Do(new FvCreate(1, 4));
        Assert.Equal(new FvView(1, 4, 0, false, false), Assert.Single(r.State.FrameVectors));
        Assert.Equal("allocated=4 nr_frames=0 got_ref=undefined is_pfns=undefined", r.State.Describe()["fv.1"]);
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
    public void GUP_PARTIAL_RESULT_a_v5_4_frame_vector_stopped_by_a_hole_returns_the_frames_it_got()
    {
        // get_vaddr_frames() returns get_user_pages_locked()'s partial count.
        var r = Anon(Profiles.Linux56).Do(new FvCreate(1, 4)).Do(new FvGet(1, A, 2, false));
        Assert.Equal("1", r.V("result"));
        Assert.Equal("1", r.V("nr_frames"));
        Assert.Contains("API-FAULT-HOLE", r.RulesOf("result"));
        Assert.Contains("GUP-PARTIAL-RESULT", r.RulesOf("result"));
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
    public void FV_EFAULT_a_v6_1_frame_vector_over_a_hole_cites_it()
    {
        var r = new ModelRun(Profiles.Linux62).Do(new FvCreate(1, 4)).Do(new FvGet(1, A, 1, false));
        Assert.Equal("-EFAULT", r.V("result"));
        Assert.Contains("FV-EFAULT", r.RulesOf("result"));
        Assert.Contains("API-FAULT-HOLE", r.RulesOf("result"));
        Assert.Contains("FV-PFNMAP-REMOVED", r.RulesOf("result"));
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
        Assert.Contains("VMSTAT-ACQ-PER-ENTRY", anon.RulesOf("result"));
    }

    // ---- The GUP call path -------------------------------------------------------------------------------------

    [Fact]
    public void API_LONGTERM_GET_LEGACY_is_cited_only_for_a_long_term_get()
    {
        var get = Anon(Profiles.Linux57).Do(Get(1, A, 1));
        Assert.False(get.Exercised("API-LONGTERM-GET-LEGACY"));
        Assert.DoesNotContain("API-LONGTERM-GET-LEGACY", get.RulesOf("result"));
        get.Do(Get(2, A, 1, Foll.LongTerm));
        Assert.Contains("API-LONGTERM-GET-LEGACY", get.RulesOf("result"));
    }

    [Fact]
    public void API_GET_REFUSES_PIN_an_internal_flag_refusal_cites_it_only_for_FOLL_PIN_on_a_get()
    {
        // v6.3+ is_valid_gup_args(): every INTERNAL_GUP_FLAGS bit makes get_user_pages() return -EINVAL.
        var r = Anon(Profiles.Linux65).Do(Get(1, A, 1, Foll.Pin));
        Assert.Equal("-EINVAL", r.V("result"));
        Assert.Contains("API-GET-REFUSES-PIN", r.RulesOf("result"));
        r.Do(Get(2, A, 1, Foll.Remote));
        Assert.Equal("-EINVAL", r.V("result"));
        Assert.Contains("API-INTERNAL-FLAGS", r.RulesOf("result"));
        Assert.DoesNotContain("API-GET-REFUSES-PIN", r.RulesOf("result"));
    }

    [Fact]
    public void API_PIN_RETURNS_ZERO_a_long_term_P2PDMA_fast_pin_is_refused_with_EINVAL()
    {
        // is_valid_gup_args(): FOLL_LONGTERM with FOLL_PCI_P2PDMA is refused; pin_user_pages_fast() returns -EINVAL.
        var r = Anon(Profiles.Linux65);
        var cmd = Pin(1, A, 1, Foll.LongTerm | Foll.PciP2pDma, EntryPoint.PinUserPagesFast);
        Assert.Null(r.Invalid(cmd));
        r.Do(cmd);
        Assert.Equal("-EINVAL", r.V("result"));
        Assert.Contains("API-PIN-RETURNS-ZERO", r.RulesOf("result"));
        r.Inspect("r1.f0");
        Assert.Equal("1", r.V("refcount"));
    }

    [Fact]
    public void REF_IMPLIED_GET_is_not_cited_for_a_pin()
    {
        var r = Anon(Profiles.Linux618).Do(Pin(1, A, 1));
        Assert.False(r.Exercised("REF-IMPLIED-GET"));
        Assert.DoesNotContain("REF-IMPLIED-GET", r.RulesOf("result"));
        Assert.EndsWith("; pin_user_pages → 1 (array 1)", r.Last.Change, StringComparison.Ordinal);
    }

    [Fact]
    public void GUP_PARTIAL_RESULT_is_not_cited_when_get_user_pages_fast_only_gets_nothing()
    {
        // get_user_pages_fast_only() never falls back to the slow path: a hole gives 0, not a partial result.
        var r = new ModelRun(Profiles.Linux65).Do(Get(1, A, 1, e: EntryPoint.GetUserPagesFastOnly));
        Assert.Equal("0", r.V("result"));
        Assert.Contains("API-FAULT-HOLE", r.RulesOf("result"));
        Assert.DoesNotContain("GUP-PARTIAL-RESULT", r.RulesOf("result"));
        Assert.False(r.Exercised("GUP-PARTIAL-RESULT"));
    }

    [Fact]
    public void REF_IMPLIED_GET_a_zero_page_reference_rests_on_the_implied_get()
    {
        var r = Zero(Profiles.Linux618).Do(Get(1, A, 1));
        r.Inspect("zero");
        Assert.Equal("2", r.V("refcount"));
        Assert.Contains("REF-IMPLIED-GET", r.RulesOf("refcount"));
        Assert.Contains("ZERO-GET-COUNTS", r.RulesOf("refcount"));
    }

    // ---- GupModel, the views and the state ------------------------------------------------------------------------

    [Fact]
    public void VALIDITY_Step_refuses_an_invalid_command()
    {
        var s = new ModelRun(Profiles.Linux62).Do(new FvCreate(1, 4)).State;
        Assert.NotNull(GupModel.Precondition(s, new FvCreate(1, 8)));
        Assert.Throws<InvalidOperationException>(() => GupModel.Step(s, new FvCreate(1, 8)));
    }

    [Fact]
    public void CORE_NO_COLLATERAL_a_region_view_ends_after_its_pages()
    {
        var r = Anon(Profiles.Linux618, folios: 2, order: 1);
        var region = Assert.Single(r.State.Regions);
        Assert.Equal(A + 0x4000, region.End);
        Assert.Equal(4, region.Pages);
        Assert.Equal("Anon 0x10000000-0x10004000 folios=2 order=1 start_refcount=1 faulted=0", r.State.Describe()["region.r1"]);
    }

    [Fact]
    public void CORE_NO_COLLATERAL_a_refcount_cites_only_the_step_that_last_changed_it()
    {
        // The pin's step decided the refcount now held: the earlier get's rules are not its provenance any more.
        var r = Anon(Profiles.Linux618).Do(Get(1, A, 1)).Do(Pin(2, A, 1));
        r.Inspect("r1.f0");
        Assert.Equal("1026", r.V("refcount"));
        Assert.Contains("PIN-BIAS-SMALL", r.RulesOf("refcount"));
        Assert.DoesNotContain("REF-GET-PLUS-ONE", r.RulesOf("refcount"));
        Assert.DoesNotContain("REF-IMPLIED-GET", r.RulesOf("refcount"));
    }

    [Fact]
    public void CORE_NO_COLLATERAL_untouched_pin_counters_cite_and_exercise_it()
    {
        var r = Anon(Profiles.Linux618).Vmstat();
        Assert.Equal("0", r.V("nr_foll_pin_acquired"));
        Assert.Equal(["CORE-NO-COLLATERAL"], r.RulesOf("nr_foll_pin_acquired"));
        Assert.True(r.Exercised("CORE-NO-COLLATERAL"));
    }

    [Fact]
    public void REL_UNPIN_DIRTY_LOCK_describe_and_the_account_show_the_dirtied_folio()
    {
        var r = Anon(Profiles.Linux618, folios: 2).Do(Pin(1, A, 2));
        r.Do(new Release(1, ReleaseFn.UnpinUserPagesDirtyLock, 0, 1, MakeDirty: true));
        Assert.StartsWith("r1.f0 refcount 1025→1, dirty false→true, pins 1→0; released 0→1;", r.Last.Change, StringComparison.Ordinal);
        var d = r.State.Describe();
        Assert.Equal("order=0 refcount=1 pincount=0 dirty=true pins=0", d["folio.r1.f0"]);
        Assert.Equal("order=0 refcount=1025 pincount=0 dirty=false pins=1", d["folio.r1.f1"]);
    }

    [Fact]
    public void REL_EXACT_INVERSE_an_array_counts_outstanding_entries_until_released()
    {
        var r = Anon(Profiles.Linux618).Do(Pin(1, A, 1));
        Assert.Equal("entries=1 outstanding=1", r.State.Describe()["array.1"]);
        r.Do(new Release(1, ReleaseFn.UnpinUserPage, 0, 1));
        Assert.Equal("entries=1 outstanding=0", r.State.Describe()["array.1"]);
    }

    [Fact]
    public void VALIDITY_a_folio_index_past_the_region_names_no_folio()
    {
        var r = Anon(Profiles.Linux618)
            .Do(new MapRegion(2, RegionKind.File, A + 0x100000, 1))
            .Do(new MapRegion(3, RegionKind.Io, A + 0x200000, 1))
            .Do(new MapRegion(4, RegionKind.PfnMap, A + 0x300000, 1));
        foreach (var region in new[] { 1, 2, 3, 4 })
        {
            Assert.Null(r.Invalid(new InspectFolio($"r{region}.f0")));
            Assert.NotNull(r.Invalid(new InspectFolio($"r{region}.f1")));
        }

        Assert.NotNull(r.Invalid(new InspectFolio("x1.f0")));
    }

    [Fact]
    public void IOV_CLAMP_MAXSIZE_describe_shows_each_iterator()
    {
        var r = Anon(Profiles.Linux618).Do(new IterInit(1, IterKind.Ubuf, IterDir.Dest, [new IterSeg(A, 4096)]));
        Assert.Equal("Ubuf Dest count=4096 segs=1", r.State.Describe()["iter.1"]);
    }

    [Fact]
    public void NETFS_CLEANUP_ORIGINAL_describe_shows_the_recorded_will_pin_answer()
    {
        // netfs records iov_iter_extract_will_pin() of the original iterator: true for UBUF, false for KVEC.
        var r = Anon(Profiles.Linux65)
            .Do(new IterInit(1, IterKind.Ubuf, IterDir.Dest, [new IterSeg(A, 4096)]))
            .Do(new IterInit(2, IterKind.Kvec, IterDir.Source, [new IterSeg(A, 4096)]))
            .Do(new NetfsExtract(1, 1, 4096))
            .Do(new NetfsExtract(2, 2, 4096));
        var d = r.State.Describe();
        Assert.Equal("will_pin=true bvecs=1", d["netfs.1"]);
        Assert.Equal("will_pin=false bvecs=0", d["netfs.2"]);
    }

    // ---- The account of a step ----------------------------------------------------------------------------------

    [Fact]
    public void ZERO_WRITE_FAULT_the_account_shows_the_folio_the_fault_created()
    {
        var r = Zero(Profiles.Linux618).Do(Get(1, A, 1, Foll.Write));
        Assert.StartsWith("r1.f0 created, refcount 2, pincount 0, dirty false, pins 0;", r.Last.Change, StringComparison.Ordinal);
    }

    [Fact]
    public void PIN_EXACT_LARGE_the_account_shows_the_pin_count_and_the_counters()
    {
        var r = Anon(Profiles.Linux618, order: 2).Do(Pin(1, A, 1));
        Assert.Equal("r1.f0 refcount 1→2, pincount 0→1, pins 0→1; acquired 0→1; pin_user_pages → 1 (array 1)", r.Last.Change);
        r.Do(new Release(1, ReleaseFn.UnpinUserPage, 0, 1));
        Assert.StartsWith("r1.f0 refcount 2→1, pincount 1→0, pins 1→0; released 0→1;", r.Last.Change, StringComparison.Ordinal);
    }
}
