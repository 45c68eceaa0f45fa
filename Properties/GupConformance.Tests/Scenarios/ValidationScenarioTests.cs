using GupConformance.Oracles;
using GupConformance.Spec;
using static GupConformance.Tests.ModelRun;
using static GupConformance.Tests.Scenarios.ScenarioSupport;

namespace GupConformance.Tests.Scenarios;

/// <summary>
/// Scenarios for what a call is refused with (API-*) and what the model admits at all (VALIDITY_*:
/// GupModel.Precondition, the limits CONTRACT.md sets). The model's scenarios drive GupModel.Step directly and
/// assert on the checks' allowed values and on the next state: hand-derived from
/// shared/reference/linux-gup-semantics.md, or written to kill a mutant that survived Stryker.NET
/// (stryker/RESULTS.md), ordered by rule in catalogue order. Scenarios found by running the model against real
/// kernels have their own section. Tests whose subject is the reference implementation (Fixtures/) for the same
/// rules follow in their own section: they stay with the rules they check, so each rule has one place.
/// </summary>
public sealed partial class ValidationScenarioTests
{
    private const ulong VPage = 4096;

    /// <summary>An address no scenario here maps.</summary>
    private const ulong VHole = 0x40000000;

    /// <summary>get_user_pages_fast_only() over [start, start + n pages), as call 9.</summary>
    private static Gup VFastOnly(ulong start, long n) => Get(9, start, n, e: EntryPoint.GetUserPagesFastOnly);

    // ---- The model --------------------------------------------------------------------------------------------------

    [Fact]
    public void API_GET_REFUSES_PIN_get_user_pages_with_FOLL_PIN_is_EINVAL()
    {
        Assert.Equal("-EINVAL", Result(Profiles.Linux57, Get(1, A, 1, Foll.Pin)));
        Assert.Equal("-EINVAL", Result(Profiles.Linux618, Get(1, A, 1, Foll.Pin, EntryPoint.GetUserPagesFast)));
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
    public void API_PIN_GET_EXCLUSIVE_API_PIN_RETURNS_ZERO_pin_with_FOLL_GET_is_refused_by_the_era_convention()
    {
        Assert.Equal("-EINVAL", Result(Profiles.Linux519, Pin(1, A, 1, Foll.Get)));
        Assert.Equal("0", Result(Profiles.Linux618, Pin(1, A, 1, Foll.Get)));
        Assert.Equal("0", Result(Profiles.Linux618, Pin(1, A, 1, Foll.Get, EntryPoint.PinUserPagesUnlocked)));
        Assert.Equal("-EINVAL", Result(Profiles.Linux618, Pin(1, A, 1, Foll.Get, EntryPoint.PinUserPagesFast)));
    }

    [Fact]
    public void API_INTERNAL_FLAGS_internal_flags_are_refused_from_6_3()
    {
        Assert.Equal("-EINVAL", Result(Profiles.Linux65, Get(1, A, 1, Foll.Remote)));
        Assert.Equal("0", Result(Profiles.Linux618, Pin(1, A, 1, Foll.Tried, EntryPoint.PinUserPagesRemote)));
        Assert.Equal("-EINVAL", Result(Profiles.Linux68, Get(1, A, 1, Foll.Touch)));
        Assert.NotNull(Anon(Profiles.Linux57).Invalid(Get(1, A, 1, Foll.Remote)));
    }

    [Fact]
    public void API_TOUCH_ACCEPTED_LEGACY_6_5_accepts_a_caller_FOLL_TOUCH()
    {
        var r = Anon(Profiles.Linux65).Do(Get(1, A, 1, Foll.Touch));
        Assert.Equal("1", r.V("result"));
        Assert.True(r.Exercised("API-TOUCH-ACCEPTED-LEGACY"));
    }

    [Fact]
    public void API_LONGTERM_NEEDS_PIN_get_with_FOLL_LONGTERM_is_refused_from_5_11()
    {
        Assert.Equal("-EINVAL", Result(Profiles.Linux519, Get(1, A, 1, Foll.LongTerm)));
        Assert.Equal("-EINVAL", Result(Profiles.Linux618, Get(1, A, 1, Foll.LongTerm, EntryPoint.GetUserPagesFast)));
    }

    [Fact]
    public void API_LONGTERM_GET_LEGACY_5_7_get_user_pages_FOLL_LONGTERM_takes_a_reference()
    {
        var r = Anon(Profiles.Linux57).Do(Get(1, A, 1, Foll.LongTerm));
        Assert.Equal("1", r.V("result"));
        Assert.True(r.Exercised("API-LONGTERM-GET-LEGACY"));
        r.Inspect("r1.f0");
        Assert.Equal("2", r.V("refcount"));
    }

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
    public void API_UNLOCKED_LONGTERM_the_unlocked_calls_refuse_FOLL_LONGTERM_before_6_2()
    {
        Assert.Equal("-EINVAL", Result(Profiles.Linux519, Pin(1, A, 1, Foll.LongTerm, EntryPoint.PinUserPagesUnlocked)));
        Assert.Equal("-EINVAL", Result(Profiles.Linux57, Get(1, A, 1, Foll.LongTerm, EntryPoint.GetUserPagesUnlocked)));
        // The unlocked get does not test FOLL_PIN: it is how the unlocked pin works.
        var r = Anon(Profiles.Linux57).Do(Get(1, A, 1, Foll.Pin, EntryPoint.GetUserPagesUnlocked)).Inspect("r1.f0");
        Assert.Equal("1025", r.V("refcount"));
    }

    [Fact]
    public void API_PAGES_REQUIRED_grabbing_without_a_pages_array_is_refused()
    {
        Assert.Equal("-EINVAL", Result(Profiles.Linux62, Pin(1, A, 1, pages: false)));
        Assert.Equal("0", Result(Profiles.Linux618, Pin(1, A, 1, pages: false)));
        Assert.Equal("-EINVAL", Result(Profiles.Linux618, Get(1, A, 1, e: EntryPoint.GetUserPagesFast, pages: false)));
        Assert.NotNull(Anon(Profiles.Linux519).Invalid(Pin(1, A, 1, pages: false)));
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
    public void API_FAST_FLAG_MASK_fast_entry_points_refuse_flags_outside_their_mask()
    {
        Assert.Equal("-EINVAL", Result(Profiles.Linux57, Get(1, A, 1, Foll.Touch, EntryPoint.GetUserPagesFast)));
        Assert.Equal("-EINVAL", Result(Profiles.Linux618, Pin(1, A, 1, Foll.Dump, EntryPoint.PinUserPagesFast)));
        Assert.NotNull(Anon(Profiles.Linux618).Invalid(Pin(1, A, 1, Foll.Dump)));
    }

    [Fact]
    public void API_FAST_RANGE_OVERFLOW_a_wrapping_range_returns_0_before_6_5_and_EOVERFLOW_after()
    {
        var top = 0xFFFFFFFFFFFFF000UL;
        Assert.Equal("0", Result(Profiles.Linux519, Pin(1, top, 2, e: EntryPoint.PinUserPagesFast)));
        Assert.Equal("-EOVERFLOW", Result(Profiles.Linux65, Pin(1, top, 2, e: EntryPoint.PinUserPagesFast)));
        Assert.Equal("-EFAULT", Result(Profiles.Linux65, Pin(1, top - 0x1000, 1, e: EntryPoint.PinUserPagesFast)));
    }

    [Fact]
    public void API_FAULT_HOLE_API_VMIO_PFNMAP_holes_and_io_mappings_are_EFAULT()
    {
        Assert.Equal("-EFAULT", Result(Profiles.Linux618, Pin(1, A + (64 * Page), 1)));
        Assert.Equal("-EFAULT", Result(Profiles.Proposal2015GetVaddrPfns, Get(1, C, 1)));
        Assert.Equal("-EFAULT", Result(Profiles.Linux618, Pin(1, C, 1)));
    }

    [Fact]
    public void API_LONGTERM_FILE_WRITE_long_term_write_pins_of_files_are_refused_from_6_5()
    {
        Assert.Equal("-EFAULT", Result(Profiles.Linux65, Pin(1, B, 1, Foll.LongTerm | Foll.Write)));
        Assert.Equal("1", Result(Profiles.Linux62, Pin(1, B, 1, Foll.LongTerm | Foll.Write)));
        Assert.Equal("1", Result(Profiles.Linux65, Pin(1, B, 1, Foll.Write)));
    }

    [Fact]
    public void Fast_only_never_falls_back_so_a_hole_returns_0_and_before_6_3_errors_become_0()
    {
        Assert.Equal("0", Result(Profiles.Linux618, Get(1, A + (64 * Page), 1, e: EntryPoint.GetUserPagesFastOnly)));
        Assert.Equal("0", Result(Profiles.Linux519, Pin(1, A, 1, Foll.Dump, EntryPoint.PinUserPagesFastOnly)));
        Assert.Equal("-EINVAL", Result(Profiles.Linux618, Get(1, A, 1, Foll.Dump, EntryPoint.GetUserPagesFastOnly)));
    }

    [Fact]
    public void VALIDITY_Step_refuses_an_invalid_command()
    {
        var s = new ModelRun(Profiles.Linux62).Do(new FvCreate(1, 4)).State;
        Assert.NotNull(GupModel.Precondition(s, new FvCreate(1, 8)));
        Assert.Throws<InvalidOperationException>(() => GupModel.Step(s, new FvCreate(1, 8)));
    }

    [Fact]
    public void VALIDITY_Step_refuses_an_invalid_command_right_after_Precondition_accepted_another_pair()
    {
        // Step skips the check only for the very pair Precondition last accepted: not for another command in that
        // state, nor for that command in another state.
        var empty = GupModel.Init(Profiles.Linux62);
        var create = new FvCreate(1, 4);
        Assert.Null(GupModel.Precondition(empty, create));
        Assert.Throws<InvalidOperationException>(() => GupModel.Step(empty, new FvCreate(1, -1)));

        var created = GupModel.Step(empty, create).Next;
        Assert.Null(GupModel.Precondition(empty, create));
        Assert.Throws<InvalidOperationException>(() => GupModel.Step(created, create));
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
    public void VALIDITY_map_region_needs_at_least_one_folio_of_order_0_to_18()
    {
        var r = new ModelRun(Profiles.Linux618);
        Assert.Contains("folios must be >= 1", r.Invalid(new MapRegion(1, RegionKind.Anon, A, 0)));
        Assert.Contains("folios must be >= 1", r.Invalid(new MapRegion(1, RegionKind.Anon, A, 1, 19)));
        Assert.Null(r.Invalid(new MapRegion(1, RegionKind.Anon, A, 1, 18)));
    }

    [Fact]
    public void VALIDITY_map_region_only_anon_regions_take_an_order_or_a_start_refcount()
    {
        var r = new ModelRun(Profiles.Linux618);
        Assert.Contains("only Anon regions", r.Invalid(new MapRegion(1, RegionKind.Zero, A, 1, 1)));
        Assert.Contains("only Anon regions", r.Invalid(new MapRegion(1, RegionKind.File, A, 1, 0, 2)));
        Assert.Null(r.Invalid(new MapRegion(1, RegionKind.File, A, 1)));
    }

    [Fact]
    public void VALIDITY_map_region_starts_page_aligned_and_ends_at_or_below_TASK_SIZE_MAX()
    {
        // TASK_SIZE_MAX on x86-64 is 0x7ffffffff000: the last page below it is the highest a VMA can hold.
        const ulong top = 0x7FFFFFFFF000;
        var r = new ModelRun(Profiles.Linux618);
        Assert.Contains("start not page aligned", r.Invalid(new MapRegion(1, RegionKind.Anon, A + 1, 1)));
        Assert.Null(r.Invalid(new MapRegion(1, RegionKind.Anon, top - VPage, 1)));
        Assert.Contains("beyond TASK_SIZE_MAX", r.Invalid(new MapRegion(1, RegionKind.Anon, top - VPage, 2)));
    }

    [Fact]
    public void VALIDITY_map_region_refuses_a_reused_id_and_an_overlap_but_not_an_adjacent_region()
    {
        var r = Anon(Profiles.Linux618, folios: 2);
        Assert.Contains("duplicate region id", r.Invalid(new MapRegion(1, RegionKind.Anon, VHole, 1)));
        Assert.Contains("region overlaps another", r.Invalid(new MapRegion(2, RegionKind.Anon, A + VPage, 1)));
        Assert.Contains("region overlaps another", r.Invalid(new MapRegion(2, RegionKind.Anon, A - VPage, 2)));
        Assert.Null(r.Invalid(new MapRegion(2, RegionKind.Anon, A - VPage, 1)));
        Assert.Null(r.Invalid(new MapRegion(2, RegionKind.Anon, A + (2 * VPage), 1)));
    }

    [Fact]
    public void VALIDITY_gup_refuses_a_reused_call_id()
    {
        var r = Anon(Profiles.Linux618).Do(Pin(1, A, 1));
        Assert.Contains("duplicate call id", r.Invalid(Pin(1, A, 1)));
        Assert.Null(r.Invalid(Pin(2, A, 1)));
    }

    [Fact]
    public void VALIDITY_gup_refuses_an_entry_point_or_a_flag_the_era_lacks()
    {
        // pin_user_pages_unlocked() arrived in v5.8; pin_user_pages_fast_only() was removed in v6.3;
        // FOLL_LONGTERM did not exist in the v4.0 tree.
        Assert.Contains("pin_user_pages_unlocked does not exist", Anon(Profiles.Linux56).Invalid(Pin(1, A, 1, e: EntryPoint.PinUserPagesUnlocked)));
        Assert.Contains("pin_user_pages_fast_only does not exist", Anon(Profiles.Linux618).Invalid(Pin(1, A, 1, e: EntryPoint.PinUserPagesFastOnly)));
        Assert.Contains("FOLL_LONGTERM does not exist", Anon(Profiles.Proposal2015GetVaddrPfns).Invalid(Get(1, A, 1, Foll.LongTerm)));
        Assert.Null(Anon(Profiles.Proposal2015GetVaddrPfns).Invalid(Get(1, A, 1, Foll.Force)));
    }

    [Fact]
    public void VALIDITY_gup_needs_a_page_aligned_start_and_at_least_one_page()
    {
        var r = Anon(Profiles.Linux618);
        Assert.Contains("page aligned and nr_pages >= 1", r.Invalid(Pin(1, A + 1, 1)));
        Assert.Contains("page aligned and nr_pages >= 1", r.Invalid(Pin(1, A, 0)));
    }

    [Fact]
    public void VALIDITY_gup_fast_entry_points_take_at_most_INT_MAX_pages()
    {
        // pin_user_pages_fast(unsigned long start, int nr_pages, ...): INT_MAX pages is the largest request.
        var r = Anon(Profiles.Linux618);
        Assert.Null(r.Invalid(Pin(1, A, int.MaxValue, e: EntryPoint.PinUserPagesFast)));
        Assert.Contains("int nr_pages", r.Invalid(Pin(1, A, (long)int.MaxValue + 1, e: EntryPoint.PinUserPagesFast)));
    }

    [Fact]
    public void VALIDITY_gup_before_6_3_caller_passed_FOLL_GET_or_FOLL_PIN_on_fast_only_is_not_modelled()
    {
        var r = Anon(Profiles.Linux519);
        Assert.Contains("on *_fast_only before v6.3", r.Invalid(Get(1, A, 1, Foll.Get, EntryPoint.GetUserPagesFastOnly)));
        Assert.Contains("on *_fast_only before v6.3", r.Invalid(Pin(1, A, 1, Foll.Pin, EntryPoint.PinUserPagesFastOnly)));
        Assert.Null(r.Invalid(Get(1, A, 1, e: EntryPoint.GetUserPagesFastOnly)));
    }

    [Fact]
    public void VALIDITY_gup_the_2015_fast_path_refusing_a_flag_is_not_modelled()
    {
        // The 2015 get_user_pages_fast() took an int `write`, not gup_flags: a flag probe has no meaning there.
        var r = Anon(Profiles.Proposal2015GetVaddrPfns);
        Assert.Contains("the 2015 fast path", r.Invalid(Get(1, A, 1, Foll.Force, EntryPoint.GetUserPagesFast)));
        Assert.Null(r.Invalid(Get(1, A, 1, Foll.Write, EntryPoint.GetUserPagesFast)));
    }

    [Fact]
    public void VALIDITY_gup_before_6_3_FOLL_PIN_with_FOLL_GET_reaching_the_walk_is_undefined()
    {
        // get_user_pages_unlocked() had no PIN/GET guard before is_valid_gup_args(): both reach the walk.
        var r = Anon(Profiles.Linux519);
        Assert.Contains("FOLL_PIN with FOLL_GET reaching the walk is undefined", r.Invalid(Get(1, A, 1, Foll.Pin | Foll.Get, EntryPoint.GetUserPagesUnlocked)));
    }

    [Fact]
    public void VALIDITY_gup_names_exactly_the_unmodelled_flags_that_reach_the_walk()
    {
        var r = Anon(Profiles.Linux618);
        Assert.Equal("FOLL_DUMP reaching the walk is not modelled", r.Invalid(Pin(1, A, 1, Foll.Dump)));
    }

    [Fact]
    public void VALIDITY_fast_only_over_any_untouched_zero_page_is_invalid()
    {
        // GUP-fast never grabs the zero page's special PTE and never faults: not modelled (CONTRACT §3.5).
        var r = Zero(Profiles.Linux618, pages: 2);
        Assert.Contains("GUP-fast-only never faults", r.Invalid(VFastOnly(A, 1)));
        Assert.Contains("GUP-fast-only never faults", r.Invalid(VFastOnly(A + VPage, 1)));
        Assert.Null(r.Invalid(Get(9, A, 1, e: EntryPoint.GetUserPagesFast)));
    }

    [Fact]
    public void VALIDITY_fast_only_over_a_faulted_in_zero_region_page_is_valid_and_its_untouched_neighbours_are_not()
    {
        // A write pin faults page 1 in (ZERO-WRITE-FAULT): it now maps an ordinary folio; pages 0 and 2 do not.
        var r = Zero(Profiles.Linux618, pages: 3).Do(Pin(1, A + VPage, 1, Foll.Write));
        Assert.Null(r.Invalid(VFastOnly(A + VPage, 1)));
        Assert.NotNull(r.Invalid(VFastOnly(A, 1)));
        Assert.NotNull(r.Invalid(VFastOnly(A, 2)));
        Assert.NotNull(r.Invalid(VFastOnly(A + VPage, 2)));
    }

    [Fact]
    public void VALIDITY_fast_only_over_a_zero_page_between_two_faulted_pages_is_invalid()
    {
        var r = Zero(Profiles.Linux618, pages: 3).Do(Pin(1, A, 1, Foll.Write)).Do(Pin(2, A + (2 * VPage), 1, Foll.Write));
        Assert.NotNull(r.Invalid(VFastOnly(A + VPage, 1)));
        Assert.Null(r.Invalid(VFastOnly(A, 1)));
        Assert.Null(r.Invalid(VFastOnly(A + (2 * VPage), 1)));
    }

    [Fact]
    public void VALIDITY_fast_only_over_a_faulted_first_page_ignores_the_untouched_page_after_the_range()
    {
        var r = Zero(Profiles.Linux618, pages: 2).Do(Pin(1, A, 1, Foll.Write));
        Assert.Null(r.Invalid(VFastOnly(A, 1)));
        Assert.NotNull(r.Invalid(VFastOnly(A, 2)));
    }

    [Fact]
    public void VALIDITY_fast_only_from_an_anon_region_is_valid_until_it_reaches_a_zero_page()
    {
        var r = Anon(Profiles.Linux618).Do(new MapRegion(2, RegionKind.Zero, A + VPage, 2));
        Assert.Null(r.Invalid(VFastOnly(A, 1)));
        Assert.NotNull(r.Invalid(VFastOnly(A, 2)));
    }

    [Fact]
    public void VALIDITY_fast_only_across_a_fully_faulted_zero_region_into_anon_memory_is_valid()
    {
        var r = Zero(Profiles.Linux618, pages: 1).Do(Pin(1, A, 1, Foll.Write)).Do(new MapRegion(2, RegionKind.Anon, A + VPage, 1));
        Assert.Null(r.Invalid(VFastOnly(A, 2)));
    }

    [Fact]
    public void VALIDITY_release_before_FOLL_PIN_only_put_page_exists()
    {
        var r = Anon(Profiles.Proposal2015GetVaddrPfns, folios: 2).Do(Get(1, A, 2));
        Assert.Null(r.Invalid(new Release(1, ReleaseFn.PutPage, 0, 1)));
        Assert.Contains("no unpin_* before FOLL_PIN", r.Invalid(new Release(1, ReleaseFn.UnpinUserPage, 0, 1)));
    }

    [Fact]
    public void VALIDITY_release_unpin_user_page_range_dirty_lock_is_valid_from_a_5_15_profile_on()
    {
        // CONTRACT §4: "Valid from v5.15 profiles"; a profile at exactly 515 is the boundary.
        var r = Anon(Profiles.Linux519 with { Version = 515 }, folios: 2).Do(Pin(1, A, 2));
        Assert.Null(r.Invalid(new Release(1, ReleaseFn.UnpinUserPageRangeDirtyLock, 0, 2, true)));
    }

    [Fact]
    public void VALIDITY_release_entries_must_lie_inside_the_array()
    {
        var r = Anon(Profiles.Linux618, folios: 2).Do(Pin(1, A, 2));
        Assert.Null(r.Invalid(new Release(1, ReleaseFn.UnpinUserPages, 1, 1)));
        Assert.Contains("entries out of range", r.Invalid(new Release(1, ReleaseFn.UnpinUserPages, 1, 2)));
    }

    [Fact]
    public void VALIDITY_folio_add_pin_exists_from_6_5_only()
    {
        // folio_add_pin() came with 1101fb8f89e5 (v6.5).
        var r = Anon(Profiles.Linux62).Do(Pin(1, A, 1));
        Assert.Contains("no folio_add_pin() in this era", r.Invalid(new FolioAddPin(2, 1, 0)));
    }

    [Fact]
    public void VALIDITY_folio_add_pin_needs_a_fresh_call_id_and_an_existing_entry()
    {
        var r = Anon(Profiles.Linux618, folios: 2).Do(Pin(1, A, 2));
        Assert.Null(r.Invalid(new FolioAddPin(3, 1, 1)));
        Assert.Contains("duplicate call id", r.Invalid(new FolioAddPin(1, 1, 0)));
        Assert.Contains("no such entry", r.Invalid(new FolioAddPin(3, 7, 0)));
        Assert.Contains("no such entry", r.Invalid(new FolioAddPin(3, 1, -1)));
        Assert.Contains("no such entry", r.Invalid(new FolioAddPin(3, 1, 2)));
    }

    [Fact]
    public void VALIDITY_folio_add_pin_needs_an_unreleased_pinned_entry()
    {
        var r = Anon(Profiles.Linux618, folios: 2).Do(Pin(1, A, 2)).Do(Get(2, A, 1));
        Assert.Contains("needs an unreleased pinned entry", r.Invalid(new FolioAddPin(3, 2, 0)));
        r.Do(new Release(1, ReleaseFn.UnpinUserPage, 0, 1));
        Assert.Contains("needs an unreleased pinned entry", r.Invalid(new FolioAddPin(3, 1, 0)));
        Assert.Null(r.Invalid(new FolioAddPin(3, 1, 1)));
    }

    [Fact]
    public void VALIDITY_iter_init_refuses_a_reused_id_a_negative_length_and_a_segment_past_the_address_space()
    {
        var r = Anon(Profiles.Linux618).Do(new IterInit(1, IterKind.Ubuf, IterDir.Source, [new IterSeg(A, 4096)]));
        Assert.Contains("duplicate iterator id", r.Invalid(new IterInit(1, IterKind.Ubuf, IterDir.Source, [new IterSeg(A, 4096)])));
        Assert.Contains("bad segment", r.Invalid(new IterInit(2, IterKind.Ubuf, IterDir.Source, [new IterSeg(0, -1)])));
        Assert.Contains("bad segment", r.Invalid(new IterInit(2, IterKind.Ubuf, IterDir.Source, [new IterSeg(ulong.MaxValue - 10, 4096)])));
        // A segment may end exactly at the top of the 64-bit space.
        Assert.Null(r.Invalid(new IterInit(2, IterKind.Ubuf, IterDir.Source, [new IterSeg(ulong.MaxValue - 4095, 4095)])));
    }

    [Fact]
    public void VALIDITY_iter_init_bvec_segments_and_the_one_xarray_segment_lie_inside_one_region()
    {
        var r = Anon(Profiles.Linux618, folios: 4);
        Assert.Null(r.Invalid(new IterInit(1, IterKind.Bvec, IterDir.Source, [new IterSeg(A, 4 * 4096)])));
        Assert.Null(r.Invalid(new IterInit(1, IterKind.Bvec, IterDir.Source, [new IterSeg(A, 4096), new IterSeg(A + 4096, 4096)])));
        Assert.Contains("BVEC takes", r.Invalid(new IterInit(1, IterKind.Bvec, IterDir.Source, [new IterSeg(A + VPage, 4 * 4096)])));
        Assert.Contains("BVEC takes", r.Invalid(new IterInit(1, IterKind.Bvec, IterDir.Source, [new IterSeg(A, 4096), new IterSeg(A + (4 * VPage), 4096)])));
        Assert.Contains("BVEC takes", r.Invalid(new IterInit(1, IterKind.Bvec, IterDir.Source, [new IterSeg(A, 4096), new IterSeg(A, 0)])));
        Assert.Contains("BVEC takes", r.Invalid(new IterInit(1, IterKind.Bvec, IterDir.Source, [])));
        Assert.Contains("XARRAY takes", r.Invalid(new IterInit(1, IterKind.Xarray, IterDir.Source, [new IterSeg(VHole, 4096)])));
        Assert.Contains("XARRAY takes", r.Invalid(new IterInit(1, IterKind.Xarray, IterDir.Source, [new IterSeg(A, 4096), new IterSeg(A + 4096, 4096)])));
    }

    [Fact]
    public void VALIDITY_iter_init_kvec_segments_must_be_kernel_mapped()
    {
        // A kernel address always has a page: a KVEC over a hole has no meaning.
        var r = Anon(Profiles.Linux618, folios: 2);
        Assert.Contains("KVEC segments", r.Invalid(new IterInit(1, IterKind.Kvec, IterDir.Source, [new IterSeg(VHole, 4096)])));
        Assert.Contains("KVEC segments", r.Invalid(new IterInit(1, IterKind.Kvec, IterDir.Source, [new IterSeg(A + VPage, 2 * 4096)])));
        Assert.Null(r.Invalid(new IterInit(1, IterKind.Kvec, IterDir.Source, [new IterSeg(A, 2 * 4096), new IterSeg(VHole, 0)])));
    }

    /// <summary>
    /// From a run on 6.12.118: a KVEC set up over an untouched Zero-region page, then a write pin that faulted a page of
    /// its own there; the kernel's extraction listed the zero page (the kernel buffer is the page it was set up over),
    /// the model the faulted page (it lists what is mapped when it extracts). A KVEC may lie over a Zero-region page only
    /// once a fault has replaced it, after which no fault replaces it again (ZERO-FAULTED-PAGE-KEPT).
    /// </summary>
    [Fact]
    public void VALIDITY_iter_init_kvec_segments_over_a_zero_region_need_its_pages_faulted_in()
    {
        var r = Zero(Profiles.Linux612Stable, pages: 3);
        Assert.Contains("KVEC segments", r.Invalid(new IterInit(1, IterKind.Kvec, IterDir.Source, [new IterSeg(A + 0x5a7, 4982)])));
        r.Do(Pin(1, A, 1, Foll.Write | Foll.LongTerm));
        Assert.Null(r.Invalid(new IterInit(1, IterKind.Kvec, IterDir.Source, [new IterSeg(A + 0x5a7, 100)])));
        Assert.Contains("KVEC segments", r.Invalid(new IterInit(1, IterKind.Kvec, IterDir.Source, [new IterSeg(A + 0x5a7, 4982)])));
        Assert.Null(r.Invalid(new IterInit(1, IterKind.Kvec, IterDir.Source, [new IterSeg(A + 0x5a7, 0), new IterSeg(A + 0x5a7, 2000)])));
    }

    [Fact]
    public void VALIDITY_iov_iter_extract_pages_needs_a_fresh_call_a_known_iterator_maxpages_1_and_maxsize_0()
    {
        var r = Anon(Profiles.Linux618).Do(new IterInit(1, IterKind.Ubuf, IterDir.Source, [new IterSeg(A, 4096)])).Do(Pin(5, A, 1));
        Assert.Null(r.Invalid(new IterExtract(10, 1, 0, 1)));
        Assert.Contains("duplicate call id", r.Invalid(new IterExtract(5, 1, 4096, 1)));
        Assert.Contains("unknown iterator", r.Invalid(new IterExtract(10, 2, 4096, 1)));
        Assert.Contains("maxpages must be >= 1", r.Invalid(new IterExtract(10, 1, 4096, 0)));
        Assert.Contains("negative maxsize", r.Invalid(new IterExtract(10, 1, -1, 1)));
    }

    [Fact]
    public void VALIDITY_iov_iter_extract_will_pin_needs_a_known_iterator()
    {
        var r = Anon(Profiles.Linux618).Do(new IterInit(1, IterKind.Ubuf, IterDir.Source, [new IterSeg(A, 4096)]));
        Assert.Null(r.Invalid(new IterRetention(1)));
        Assert.Contains("unknown iterator", r.Invalid(new IterRetention(2)));
    }

    [Fact]
    public void VALIDITY_bio_add_needs_a_fresh_bio_a_known_iterator_of_a_bio_kind_and_max_vecs_1()
    {
        var r = Anon(Profiles.Linux618, folios: 4)
            .Do(new IterInit(1, IterKind.Ubuf, IterDir.Source, [new IterSeg(A, 8192)]))
            .Do(new IterInit(2, IterKind.Kvec, IterDir.Source, [new IterSeg(A, 4096)]));
        Assert.Null(r.Invalid(new BioAdd(1, 1, 1)));
        Assert.Contains("max_vecs must be >= 1", r.Invalid(new BioAdd(1, 1, 0)));
        Assert.Contains("unknown iterator", r.Invalid(new BioAdd(1, 9, 4)));
        Assert.Contains("bios take UBUF, IOVEC or BVEC", r.Invalid(new BioAdd(1, 2, 4)));
        r.Do(new BioAdd(1, 1, 1));
        Assert.Contains("at most once", r.Invalid(new BioAdd(1, 1, 1)));
    }

    [Fact]
    public void VALIDITY_bio_add_segments_must_be_block_multiples_only_where_v6_18_aligns_the_whole_bio()
    {
        ModelRun Run(Profile p) => Anon(p, folios: 4)
            .Do(new IterInit(1, IterKind.Ubuf, IterDir.Source, [new IterSeg(A, 100)]))
            .Do(new IterInit(2, IterKind.Ubuf, IterDir.Source, [new IterSeg(A + 100, 512)]))
            .Do(new IterInit(3, IterKind.Ubuf, IterDir.Source, [new IterSeg(A + 512, 1024)]))
            .Do(new IterInit(4, IterKind.Bvec, IterDir.Source, [new IterSeg(A + 100, 512)]));
        var r = Run(Profiles.Linux618);
        Assert.Contains("multiples of the logical block size", r.Invalid(new BioAdd(1, 1, 4)));
        Assert.Contains("multiples of the logical block size", r.Invalid(new BioAdd(1, 2, 4)));
        Assert.Null(r.Invalid(new BioAdd(1, 3, 4)));
        Assert.Contains("multiples of the logical block size", r.Invalid(new BioAdd(1, 3, 4, 1024)));
        Assert.Null(r.Invalid(new BioAdd(1, 4, 4, 4096)));
        Assert.Contains("512, 1024, 2048 or 4096", r.Invalid(new BioAdd(1, 3, 4, 8192)));
        Assert.Contains("512, 1024, 2048 or 4096", r.Invalid(new BioAdd(1, 3, 4, 768)));

        // v6.0–v6.17 trim each extraction (BIO-LOGICAL-BLOCK-TRIM) and ≤ v5.19 never trims: any segment is valid.
        foreach (var p in new[] { Profiles.Linux612Stable, Profiles.Linux519 })
        {
            var q = Run(p);
            Assert.Null(q.Invalid(new BioAdd(1, 1, 4, 4096)));
            Assert.Null(q.Invalid(new BioAdd(1, 2, 4)));
        }
    }

    [Fact]
    public void VALIDITY_a_bvec_bio_before_bio_iov_bvec_set_must_fit_max_vecs()
    {
        var r = Anon(Profiles.Linux57, folios: 4)
            .Do(new IterInit(1, IterKind.Bvec, IterDir.Source, [new IterSeg(A, 4096), new IterSeg(A + 8192, 4096)]));
        Assert.Contains("before bio_iov_bvec_set() (5.6, 5.7) is not modelled", r.Invalid(new BioAdd(1, 1, 1)));
        Assert.Null(r.Invalid(new BioAdd(1, 1, 2)));
        Assert.Null(Anon(Profiles.Linux519, folios: 4)
            .Do(new IterInit(1, IterKind.Bvec, IterDir.Source, [new IterSeg(A, 4096), new IterSeg(A + 8192, 4096)]))
            .Invalid(new BioAdd(1, 1, 1)));
    }

    [Fact]
    public void VALIDITY_bio_release_needs_a_live_bio()
    {
        var r = Anon(Profiles.Linux618).Do(new IterInit(1, IterKind.Ubuf, IterDir.Source, [new IterSeg(A, 4096)]));
        Assert.Contains("no such live bio", r.Invalid(new BioRelease(1, false)));
        r.Do(new BioAdd(1, 1, 1));
        Assert.Null(r.Invalid(new BioRelease(1, false)));
        r.Do(new BioRelease(1, false));
        Assert.Contains("no such live bio", r.Invalid(new BioRelease(1, false)));
    }

    [Fact]
    public void VALIDITY_frame_vector_create_takes_1_to_64_frames_and_a_fresh_id()
    {
        var r = Anon(Profiles.Linux618);
        Assert.Contains("nr_allocated must be 1..64", r.Invalid(new FvCreate(1, 0)));
        Assert.Null(r.Invalid(new FvCreate(1, 1)));
        Assert.Null(r.Invalid(new FvCreate(1, 64)));
        Assert.Contains("nr_allocated must be 1..64", r.Invalid(new FvCreate(1, 65)));
        r.Do(new FvCreate(1, 4));
        Assert.Contains("duplicate frame vector id", r.Invalid(new FvCreate(1, 4)));
    }

    [Fact]
    public void VALIDITY_get_vaddr_frames_needs_a_known_empty_vector_and_a_non_negative_count()
    {
        var r = Anon(Profiles.Linux618, folios: 4).Do(new FvCreate(1, 4));
        Assert.Contains("unknown frame vector", r.Invalid(new FvGet(2, A, 1, false)));
        Assert.Contains("negative nr_frames", r.Invalid(new FvGet(1, A, -1, false)));
        r.Do(new FvGet(1, A, 2, false));
        Assert.Contains("already holds frames", r.Invalid(new FvGet(1, A, 1, false)));
        Assert.Contains("unknown frame vector", r.Invalid(new FvPut(2)));
        r.Do(new FvPut(1));
        Assert.Null(r.Invalid(new FvGet(1, A, 1, false)));
    }

    [Fact]
    public void VALIDITY_netfs_extract_user_iter_needs_a_fresh_request_a_known_iterator_and_len_0()
    {
        var r = Anon(Profiles.Linux618).Do(new IterInit(1, IterKind.Ubuf, IterDir.Dest, [new IterSeg(A, 4096)]));
        Assert.Null(r.Invalid(new NetfsExtract(1, 1, 0)));
        Assert.Contains("negative len", r.Invalid(new NetfsExtract(1, 1, -1)));
        Assert.Contains("unknown iterator", r.Invalid(new NetfsExtract(1, 9, 4096)));
        Assert.Contains("no such live netfs request", r.Invalid(new NetfsFree(1)));
        r.Do(new NetfsExtract(1, 1, 4096));
        Assert.Contains("duplicate netfs request id", r.Invalid(new NetfsExtract(1, 1, 4096)));
        r.Do(new NetfsFree(1));
        Assert.Contains("duplicate netfs request id", r.Invalid(new NetfsExtract(1, 1, 4096)));
        Assert.Contains("no such live netfs request", r.Invalid(new NetfsFree(1)));
    }

    [Fact]
    public void VALIDITY_netfs_extract_user_iter_needs_a_profile_that_has_it()
    {
        // netfs_extract_user_iter() arrived in v6.3; the precondition reads the profile's field, not only its facets.
        var r = Anon(Profiles.Linux618 with { HasNetfs = false }).Do(new IterInit(1, IterKind.Ubuf, IterDir.Dest, [new IterSeg(A, 4096)]));
        Assert.Contains("no netfs_extract_user_iter() in this era", r.Invalid(new NetfsExtract(1, 1, 4096)));
    }

    // ---- From the runs on real kernels (6.1.192 and 6.12.118, Fixtures/Kernel) --------------------------------------

    // Each the shrunk counterexample of a run of the model against a real kernel that showed the model wrong or
    // missing something, with the kernel text it rests on.

    [Theory]
    [InlineData(EntryPoint.PinUserPages, "-EINVAL")]
    [InlineData(EntryPoint.PinUserPagesRemote, "-EINVAL")]
    [InlineData(EntryPoint.PinUserPagesUnlocked, "-EINVAL")]
    [InlineData(EntryPoint.PinUserPagesFast, "-EINVAL")]
    [InlineData(EntryPoint.PinUserPagesFastOnly, "0")]
    public void API_PAGES_REQUIRED_every_6_1_y_pin_entry_refuses_a_null_pages_array(EntryPoint e, string result)
    {
        // 6.1.192 mm/gup.c: pin_user_pages*() each test WARN_ON_ONCE(!pages) right after FOLL_GET; the fast-only
        // variant returns 0 ("the API rules require returning 0, rather than -errno").
        var r = Anon(Profiles.Linux61Stable).Do(Pin(1, A, 1, Foll.None, e, pages: false));
        Assert.Equal(result, r.V("result"));
        Assert.True(r.Exercised("API-PAGES-REQUIRED"));

        // In 5.19 (before the backport) the same call is a VM_BUG_ON: not a command the model admits.
        Assert.NotNull(Anon(Profiles.Linux519).Invalid(Pin(1, A, 1, Foll.None, e, pages: false)));
    }

    [Fact]
    public void VALIDITY_a_fast_only_write_over_a_read_only_pte_is_not_modelled_until_a_write_fault()
    {
        var file = FileRegion(Profiles.Linux612Stable);
        var fastWrite = Get(1, A, 1, Foll.Write, EntryPoint.GetUserPagesFastOnly);
        Assert.Contains("read-only PTE", file.Invalid(fastWrite), StringComparison.Ordinal);
        Assert.Null(file.Invalid(Get(1, A, 1, Foll.None, EntryPoint.GetUserPagesFastOnly)));
        file.Do(Get(2, A, 1, Foll.Write));
        Assert.Null(file.Invalid(fastWrite));

        // 6.12 kernel: a R/O long-term pin unshares the zero page into a read-only mapped page; get_user_pages_fast_only
        // (FOLL_WRITE) then got 0 entries, where the model expected 1: GUP-fast cannot write-fault it.
        var zero = Zero(Profiles.Linux612Stable, pages: 1).Do(Pin(1, A, 1, Foll.LongTerm, EntryPoint.PinUserPagesFast));
        Assert.True(zero.Exercised("ZERO-LONGTERM-UNSHARE"));
        Assert.NotNull(zero.Invalid(Get(2, A, 1, Foll.Write, EntryPoint.GetUserPagesFastOnly)));
        zero.Do(Get(3, A, 1, Foll.Write));
        Assert.Equal("[r1.f0:0]", zero.V("pages"));
        Assert.Null(zero.Invalid(Get(4, A, 1, Foll.Write, EntryPoint.GetUserPagesFastOnly)));
    }

    [Theory]
    [InlineData("linux-6.12.118")]
    [InlineData("linux-6.1.y")]
    public void VALIDITY_a_put_page_that_would_free_the_zero_page_is_not_modelled(string profile)
    {
        // 6.12 kernel, seed 3: put_page() on pinned zero entries (the pins took nothing) freed the shared zero page;
        // every later run in that guest saw its refcount negative (maybe_dma_pinned true).
        var r = Zero(Profiles.Get(profile), pages: 2).Do(Pin(1, A, 2)).Do(Get(2, A, 1));
        r.Inspect("zero");
        Assert.Equal("2", r.V("refcount"));

        // The reference get_user_pages() took pays for one misused put; a second would drop the page's own.
        r.Do(new Release(1, ReleaseFn.PutPage, 0, 1));
        Assert.True(r.Exercised("REL-MISUSE-PUT-PINNED"));
        Assert.Contains("zero page", r.Invalid(new Release(1, ReleaseFn.PutPage, 1, 1)), StringComparison.Ordinal);
        Assert.Null(r.Invalid(new Release(1, ReleaseFn.UnpinUserPage, 1, 1)));

        // Where the zero page is pinned (bias), the same misuse leaves references to spare.
        var pinned = Zero(Profiles.Linux519, pages: 2).Do(Pin(1, A, 2));
        Assert.Null(pinned.Invalid(new Release(1, ReleaseFn.PutPage, 0, 2)));
    }

    // ---- The reference implementation (Fixtures/) against the model -------------------------------------------------

    [Fact]
    public void API_PAGES_REQUIRED_get_user_pages_with_a_caller_FOLL_GET_and_NULL_pages_is_EINVAL()
    {
        var last = AssertReferenceAgreesWithModel("linux-6.8",
            new MapRegion(1, RegionKind.Anon, Base, 2),
            new Gup(1, EntryPoint.GetUserPages, Base, 2, Foll.Get, WithPages: false));
        Assert.Equal(-Errno.EINVAL, last.Result);
    }

    [Fact]
    public void API_PAGES_REQUIRED_get_user_pages_remote_with_a_caller_FOLL_GET_and_NULL_pages_is_EINVAL()
    {
        var last = AssertReferenceAgreesWithModel("linux-6.8",
            new MapRegion(1, RegionKind.Anon, Base, 2),
            new Gup(1, EntryPoint.GetUserPagesRemote, Base, 2, Foll.Get, WithPages: false));
        Assert.Equal(-Errno.EINVAL, last.Result);
    }

    [Fact]
    public void API_PAGES_REQUIRED_get_user_pages_fast_with_a_caller_FOLL_GET_and_NULL_pages_is_EINVAL()
    {
        // is_valid_gup_args() ORs to_set (FOLL_GET) into flags that already hold it: still FOLL_GET, so NULL pages is refused.
        var last = AssertReferenceAgreesWithModel("linux-6.8",
            new MapRegion(1, RegionKind.Anon, Base, 2),
            new Gup(1, EntryPoint.GetUserPagesFast, Base, 2, Foll.Get, WithPages: false));
        Assert.Equal(-Errno.EINVAL, last.Result);
    }

    [Fact]
    public void API_FAST_RANGE_OVERFLOW_get_user_pages_fast_of_a_range_ending_exactly_at_TASK_SIZE_MAX_is_walked()
    {
        var last = AssertReferenceAgreesWithModel("linux-6.18",
            new MapRegion(1, RegionKind.Anon, 0x7FFFFFFFE000, 1),
            new Gup(1, EntryPoint.GetUserPagesFast, 0x7FFFFFFFE000, 1, Foll.None));
        Assert.Equal(1, last.Result);
    }

    [Fact]
    public void API_FAULT_HOLE_is_valid_gup_args_lets_FOLL_PCI_P2PDMA_without_FOLL_LONGTERM_through_to_the_fast_range_check()
    {
        // Only FOLL_LONGTERM | FOLL_PCI_P2PDMA together is refused (-EINVAL); P2PDMA alone reaches gup_fast_fallback(),
        // whose end > TASK_SIZE_MAX check answers -EFAULT.
        var last = AssertReferenceAgreesWithModel("linux-6.8",
            new Gup(1, EntryPoint.PinUserPagesFast, 0x7FFFFFFFF000, 1, Foll.PciP2pDma));
        Assert.Equal(-Errno.EFAULT, last.Result);
    }
}
