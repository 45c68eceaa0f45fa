using GupConformance.Engine;
using GupConformance.Engine.Plugins;
using GupConformance.Fixtures;
using GupConformance.Spec;
using static GupConformance.Tests.ModelRun;

namespace GupConformance.Tests;

/// <summary>
/// Scenarios for the behaviour issue 13 brought into the model's reach, with the exact numbers of the kernel text
/// each rule cites, and each scenario replayed on the implementations whose facets cover it (the kernel-style
/// reference, and for Core/ZeroPage behaviour the C library and the Python process), which must agree with the model
/// on every observation.
/// </summary>
public sealed partial class ReachScenarioTests
{
    private const long Page = Sizes.PageSize;

    private static readonly ProcessOptions Quick = new()
    {
        CommandTimeout = TimeSpan.FromSeconds(4),
        StartTimeout = TimeSpan.FromSeconds(20),
        RunTimeout = TimeSpan.FromSeconds(60),
    };

    /// <summary>
    /// Runs <paramref name="actions"/> on <paramref name="factory"/> and the model; every observation must match. An
    /// implementation that does not claim the profile is not asked.
    /// </summary>
    private static void AssertAgrees(IImplementationFactory factory, string profileId, IReadOnlyList<Command> actions)
    {
        var profile = Profiles.Get(profileId);
        if (factory.ManifestFor(profile) is not { } manifest)
        {
            return;
        }

        var facets = manifest.Facets;
        Assert.All(actions, c => Assert.True((c.Needs & facets) != 0, $"{factory.Name} does not claim a facet {c} needs"));
        Assert.Null(Shrinker.Validate(profile, profile.Facets, actions));
        using var executor = new SequenceExecutor(factory, profile, facets, TimeSpan.FromSeconds(10));
        var result = executor.Execute(actions);
        Assert.True(result.Passed, $"{factory.Name} under {profileId}: {result.Status} at action {result.FailedAction} ({result.FailedCommand}): {result.Message} "
            + string.Join("; ", result.Mismatches.Select(m =>
                $"{m.Field}: observed {m.Observed ?? "(none)"}, allowed {string.Join(" | ", m.Allowed)} [{string.Join(", ", m.Rules)}]")));
    }

    /// <summary>The reference implementation agrees with the model on the scenario.</summary>
    private static void AssertReferenceAgrees(string profileId, params Command[] actions) =>
        AssertAgrees(new KernelStyleFactory(), profileId, actions);

    /// <summary>The reference, the C library (when gcc built it) and the Python process all agree with the model.</summary>
    private static void AssertCoreImplementationsAgree(string profileId, params Command[] actions)
    {
        AssertReferenceAgrees(profileId, actions);
        using (var python = ProcessImplementationFactory.Start(new ProcessLaunch("python3", [Path.Combine(AppContext.BaseDirectory, "python", "gup_impl.py")]), Quick))
        {
            AssertAgrees(python, profileId, actions);
        }

        if (File.Exists(PluginResolver.NativeHostPath))
        {
            using var native = PluginResolver.Start("native:bundled", Quick);
            AssertAgrees(native, profileId, actions);
        }
    }

    // ---- Item 7: the walk across mappings and fault state ----------------------------------------------------

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

    // ---- Item 1: multi-segment BVEC extraction (v6.13+) -------------------------------------------------------

    private const ulong B = 0x20000000;

    /// <summary>Region 1: eight order-0 folios at A; region 2: one order-9 folio at B; iterator 1: a BVEC over <paramref name="segs"/>.</summary>
    private static ModelRun Bvec(Profile p, params IterSeg[] segs) => ModelRun.Iter(p, IterKind.Bvec, IterDir.Source, B, 9, segs);

    private static Command[] BvecActions(IterSeg[] segs, params Command[] then) =>
        [new MapRegion(1, RegionKind.Anon, A, 8), new MapRegion(2, RegionKind.Anon, B, 1, 9), new IterInit(1, IterKind.Bvec, IterDir.Source, segs), .. then];

    [Fact]
    public void IOV_BVEC_MULTI_SEGMENT_an_extraction_walks_on_into_bvecs_that_start_a_page_and_the_array_size_counts_iov_offset()
    {
        // A tail from offset 512, a whole page, 100 bytes: 7780 bytes over three pages. want_pages_array(7780, skip 0)
        // allows DIV_ROUND_UP(7780, 4096) = 2 entries, so the first call stops after the whole page: 3584 + 4096 bytes.
        IterSeg[] segs = [new(A + 512, 3584), new(A + (4 * Page), 4096), new(A + (6 * Page), 100)];
        var r = Bvec(Profiles.Linux618, segs).Do(new IterExtract(1, 1, 1 << 20, 16));
        Assert.Equal("7680", r.V("result"));
        Assert.Equal("[r1.f0:0, r1.f4:0]", r.V("pages"));
        Assert.Equal("512", r.V("offset0"));
        Assert.Equal("100", r.V("iter_count"));
        Assert.Contains("IOV-BVEC-MULTI-SEGMENT", r.RulesOf("result"));
        r.Do(new IterExtract(2, 1, 1 << 20, 16));
        Assert.Equal("100", r.V("result"));
        Assert.Equal("[r1.f6:0]", r.V("pages"));
        Assert.Equal("0", r.V("offset0"));

        // v6.12 and before: the current bvec only.
        var old = Bvec(Profiles.Linux68, segs).Do(new IterExtract(1, 1, 1 << 20, 16));
        Assert.Equal("3584", old.V("result"));
        Assert.Equal("[r1.f0:0]", old.V("pages"));
        Assert.False(old.Exercised("IOV-BVEC-MULTI-SEGMENT"));

        AssertReferenceAgrees("linux-6.18", BvecActions(segs, new IterExtract(1, 1, 1 << 20, 16), new IterExtract(2, 1, 1 << 20, 16)));
        AssertReferenceAgrees("linux-6.8", BvecActions(segs, new IterExtract(1, 1, 1 << 20, 16), new IterExtract(2, 1, 1 << 20, 16)));
    }

    [Fact]
    public void IOV_BVEC_MULTI_SEGMENT_a_bvec_starting_mid_page_gets_one_page_fewer_than_it_spans_from_6_13()
    {
        // 2000 bytes from offset 3000: DIV_ROUND_UP(2000 + iov_offset 0, 4096) = 1 entry, and the first step is the
        // 1096 bytes left of that page. The rest (904 bytes, iov_offset 1096) comes with the next call.
        IterSeg[] segs = [new(A + 3000, 2000)];
        var r = Bvec(Profiles.Linux615, segs).Do(new IterExtract(1, 1, 1 << 20, 16));
        Assert.Equal("1096", r.V("result"));
        Assert.Equal("[r1.f0:0]", r.V("pages"));
        Assert.Equal("3000", r.V("offset0"));
        r.Do(new IterExtract(2, 1, 1 << 20, 16));
        Assert.Equal("904", r.V("result"));
        Assert.Equal("[r1.f1:0]", r.V("pages"));
        Assert.Equal("0", r.V("offset0"));
        Assert.Equal("0", r.V("iter_count"));

        var old = Bvec(Profiles.Linux68, segs).Do(new IterExtract(1, 1, 1 << 20, 16));
        Assert.Equal("2000", old.V("result"));
        Assert.Equal("[r1.f0:0, r1.f1:0]", old.V("pages"));
        AssertReferenceAgrees("linux-6.15", BvecActions(segs, new IterExtract(1, 1, 1 << 20, 16), new IterExtract(2, 1, 1 << 20, 16)));
    }

    [Fact]
    public void IOV_BVEC_MULTI_SEGMENT_pages_of_a_large_folio_across_bvecs_and_a_later_bvec_with_an_offset_ends_the_walk()
    {
        // Two pages of the order-9 folio, then its page 4: three steps, all whole pages; maxpages 3.
        IterSeg[] large = [new(B, 8192), new(B + (4 * Page), 4096)];
        var r = Bvec(Profiles.Linux618, large).Do(new IterExtract(1, 1, 1 << 20, 3));
        Assert.Equal("12288", r.V("result"));
        Assert.Equal("[r2.f0:0+2, r2.f0:4]", r.V("pages"));
        r.Inspect("r2.f0");
        Assert.Equal("1", r.V("refcount"));

        // The second bvec starts 512 bytes into its page: the walk ends before it.
        IterSeg[] offset = [new(A, 4096), new(A + (2 * Page) + 512, 1024)];
        var o = Bvec(Profiles.Linux618, offset).Do(new IterExtract(1, 1, 1 << 20, 16));
        Assert.Equal("4096", o.V("result"));
        Assert.Equal("[r1.f0:0]", o.V("pages"));
        Assert.Equal("1024", o.V("iter_count"));

        // maxpages 1 stops after the first whole page too.
        var one = Bvec(Profiles.Linux618, large).Do(new IterExtract(1, 1, 1 << 20, 1));
        Assert.Equal("4096", one.V("result"));

        AssertReferenceAgrees("linux-6.18", BvecActions(large, new IterExtract(1, 1, 1 << 20, 3)));
        AssertReferenceAgrees("linux-6.18", BvecActions(offset, new IterExtract(1, 1, 1 << 20, 16), new IterExtract(2, 1, 1 << 20, 16)));
    }

    [Fact]
    public void A_bio_over_a_multi_segment_bvec_counts_the_pages_each_bvec_spans_and_takes_nothing()
    {
        IterSeg[] segs = [new(A + 512, 3584), new(A + (4 * Page), 4096), new(A + (6 * Page), 512)];
        var r = Bvec(Profiles.Linux618, segs).Do(new BioAdd(1, 1, 1));
        Assert.Equal("0", r.V("result"));
        Assert.Equal("3", r.V("bio_pages"));
        Assert.Equal("0", r.V("iter_count"));
        AssertReferenceAgrees("linux-6.18", BvecActions(segs, new BioAdd(1, 1, 1), new BioRelease(1, true)));
        AssertReferenceAgrees("linux-5.19", BvecActions(segs, new BioAdd(1, 1, 1), new BioRelease(1, true)));
        Assert.NotNull(Bvec(Profiles.Linux618, segs).Invalid(new IterInit(2, IterKind.Bvec, IterDir.Source, [new(A, 0)])));
    }

    // ---- Item 2: release edge cases ----------------------------------------------------------------------------

    [Fact]
    public void REL_UNPIN_ERRNO_COUNT_a_minus_errno_count_releases_nothing_from_5_11()
    {
        // unpin_user_pages(pages, (unsigned long)-EFAULT): WARN_ON(IS_ERR_VALUE(npages)) returns at once.
        Command[] actions =
        [
            new MapRegion(1, RegionKind.Anon, A, 2), Pin(1, A, 2),
            new UnpinArray(1, ReleaseFn.UnpinUserPages, 0, 2, Errno: 14),
            new UnpinArray(1, ReleaseFn.UnpinUserPagesDirtyLock, 0, 2, Errno: 12),
        ];
        var r = new ModelRun(Profiles.Linux618);
        foreach (var c in actions)
        {
            r.Do(c);
        }

        Assert.Equal("0", r.V("result"));
        Assert.Contains("REL-UNPIN-ERRNO-COUNT", r.RulesOf("result"));
        r.Inspect("r1.f1");
        Assert.Equal("1025", r.V("refcount"));
        Assert.Contains("REL-UNPIN-ERRNO-COUNT", r.RulesOf("refcount"));
        Assert.Equal("false", r.V("dirty"));
        r.Vmstat();
        Assert.Equal("0", r.V("nr_foll_pin_released"));

        // The entries are still held: a real release afterwards is valid and restores the folios.
        r.Do(new Release(1, ReleaseFn.UnpinUserPages, 0, 2)).Inspect("r1.f0");
        Assert.Equal("1", r.V("refcount"));

        // make_dirty true has no such test (the loop would run off the array); 5.7 had no test at all.
        Assert.NotNull(Anon(Profiles.Linux618).Do(Pin(1, A, 1)).Invalid(new UnpinArray(1, ReleaseFn.UnpinUserPagesDirtyLock, 0, 1, Errno: 14, MakeDirty: true)));
        Assert.NotNull(Anon(Profiles.Linux57).Do(Pin(1, A, 1)).Invalid(new UnpinArray(1, ReleaseFn.UnpinUserPages, 0, 1, Errno: 14)));
        Assert.Null(Anon(Profiles.Linux519).Do(Pin(1, A, 1)).Invalid(new UnpinArray(1, ReleaseFn.UnpinUserPages, 0, 1, Errno: 14)));

        AssertReferenceAgrees("linux-6.18", actions);
        AssertReferenceAgrees("linux-5.19", actions);
    }

    [Fact]
    public void REL_UNPIN_NULL_ENTRY_leading_NULL_entries_are_stepped_over_from_6_13()
    {
        // { NULL, NULL, r1.f0, r1.f1 } with npages 4: i = 0 and 1 are skipped, then one run per folio.
        Command[] actions =
        [
            new MapRegion(1, RegionKind.Anon, A, 2), new MapRegion(2, RegionKind.Anon, B, 1, 2), Pin(1, A, 2), Pin(2, B, 4),
            new UnpinArray(1, ReleaseFn.UnpinUserPages, 0, 2, NullPrefix: 2),
            new UnpinArray(2, ReleaseFn.UnpinUserPagesDirtyLock, 1, 3, NullPrefix: 1),
        ];
        var r = new ModelRun(Profiles.Linux618);
        foreach (var c in actions)
        {
            r.Do(c);
        }

        Assert.Equal("0", r.V("result"));
        Assert.Contains("REL-UNPIN-NULL-ENTRY", r.RulesOf("result"));
        r.Inspect("r1.f0");
        Assert.Equal("1", r.V("refcount"));
        r.Inspect("r2.f0");
        Assert.Equal("2", r.V("refcount"));
        Assert.Equal("1", r.V("pincount"));
        Assert.Equal("false", r.V("dirty"));
        r.Vmstat();
        Assert.Equal("6", r.V("nr_foll_pin_acquired"));
        Assert.Equal("5", r.V("nr_foll_pin_released"));
        Assert.NotNull(r.Invalid(new Release(1, ReleaseFn.UnpinUserPages, 0, 1)));

        // Before 6.13 every NULL is dereferenced, and the make_dirty path never skips one.
        Assert.NotNull(Anon(Profiles.Linux68).Do(Pin(1, A, 1)).Invalid(new UnpinArray(1, ReleaseFn.UnpinUserPages, 0, 1, NullPrefix: 1)));
        Assert.NotNull(Anon(Profiles.Linux618).Do(Pin(1, A, 1)).Invalid(new UnpinArray(1, ReleaseFn.UnpinUserPagesDirtyLock, 0, 1, NullPrefix: 1, MakeDirty: true)));

        AssertReferenceAgrees("linux-6.18", actions);
    }

    [Fact]
    public void REL_UNPIN_RANGE_DIRTY_LOCK_first_appeared_in_5_12()
    {
        var why = Anon(Profiles.Linux57).Do(Pin(1, A, 1)).Invalid(new Release(1, ReleaseFn.UnpinUserPageRangeDirtyLock, 0, 1));
        Assert.Contains("v5.12", why);
        Assert.Null(Anon(Profiles.Linux519).Do(Pin(1, A, 1)).Invalid(new Release(1, ReleaseFn.UnpinUserPageRangeDirtyLock, 0, 1)));
    }

    // ---- Item 8: the consumers' eras ----------------------------------------------------------------------------

    [Fact]
    public void NETFS_FAIL_WHOLE_ON_ERROR_a_stable_tree_returns_the_first_fault_and_unpins_on_ENOMEM()
    {
        // A user buffer that starts in a hole: mainline returns 0 bvecs, the stable fix returns -EFAULT.
        Command[] hole =
        [
            new MapRegion(1, RegionKind.Anon, A, 1),
            new IterInit(1, IterKind.Iovec, IterDir.Dest, [new IterSeg(A + (8 * Page), 4096), new IterSeg(A, 4096)]),
            new NetfsExtract(1, 1, 8192),
        ];
        var stable = new ModelRun(Profiles.Linux612Stable);
        var mainline = new ModelRun(Profiles.Linux618);
        foreach (var c in hole)
        {
            stable.Do(c);
            mainline.Do(c);
        }

        Assert.Equal("-EFAULT", stable.V("result"));
        Assert.Contains("NETFS-FAIL-WHOLE-ON-ERROR", stable.RulesOf("result"));
        Assert.Equal("0", mainline.V("result"));
        Assert.Contains("NETFS-PARTIAL-ON-ERROR", mainline.RulesOf("result"));

        // r2's refcount wrapped negative: the second extraction fails its sign check with -ENOMEM after one bvec.
        Command[] nomem =
        [
            new MapRegion(1, RegionKind.Anon, A, 1), new MapRegion(2, RegionKind.Anon, A + Page, 1, 0, int.MaxValue - 1000),
            Pin(1, A + Page, 1),
            new IterInit(1, IterKind.Iovec, IterDir.Dest, [new IterSeg(A, 4096), new IterSeg(A + Page, 4096)]),
            new NetfsExtract(1, 1, 8192), new NetfsFree(1),
        ];
        var s2 = new ModelRun(Profiles.Linux612Stable);
        var m2 = new ModelRun(Profiles.Linux618);
        foreach (var c in nomem[..5])
        {
            s2.Do(c);
            m2.Do(c);
        }

        Assert.Equal("-ENOMEM", s2.V("result"));
        Assert.Equal("1", m2.V("result"));
        s2.Inspect("r1.f0");
        Assert.Equal("1", s2.V("refcount"));
        m2.Inspect("r1.f0");
        Assert.Equal("1025", m2.V("refcount"));
        s2.Vmstat();
        Assert.Equal("2", s2.V("nr_foll_pin_acquired"));
        Assert.Equal("1", s2.V("nr_foll_pin_released"));

        AssertReferenceAgrees("linux-6.12.118", hole);
        AssertReferenceAgrees("linux-6.12.118", nomem);
        AssertReferenceAgrees("linux-6.18", nomem);
    }

    [Fact]
    public void The_6_12_118_profile_is_6_8_with_MADV_POPULATE_internal_one_bvec_per_extraction_and_the_NULL_skip()
    {
        var p = Profiles.Linux612Stable;
        Assert.Equal("0", Anon(p).Do(Pin(1, A, 1, Foll.MadvPopulate)).V("result"));
        Assert.False(p.IovBvecMultiSegment);
        Assert.True(p.UnpinSkipsNullEntry);
        Assert.Equal(PinScheme.ExactAllLarge, p.Pins);
        Assert.True(p.BioDirtiesCompound);
        Assert.False(p.IovEmptyLeadingSegmentBug);
    }

    // ---- Item 4: bios on real block devices ----------------------------------------------------------------------

    [Fact]
    public void BIO_FULL_COUNTS_BVECS_contiguous_pages_share_a_bvec_so_a_two_vec_bio_takes_four_pages()
    {
        // Four order-0 folios of one Anon region are physically contiguous: the first extraction (nr_pages 2) makes one
        // bvec, the bio is not full, and the next extractions (nr_pages 1) keep growing that bvec until the buffer ends.
        Command[] contiguous =
        [
            new MapRegion(1, RegionKind.Anon, A, 4),
            new IterInit(1, IterKind.Ubuf, IterDir.Dest, [new IterSeg(A, 16384)]),
            new BioAdd(1, 1, 2), new BioRelease(1, true),
        ];
        var r = new ModelRun(Profiles.Linux618);
        foreach (var c in contiguous[..3])
        {
            r.Do(c);
        }

        Assert.Equal("0", r.V("result"));
        Assert.Equal("4", r.V("bio_pages"));
        Assert.Equal("0", r.V("iter_count"));
        Assert.Contains("BIO-FULL-COUNTS-BVECS", r.RulesOf("bio_pages"));
        r.Inspect("r1.f3");
        Assert.Equal("1025", r.V("refcount"));

        // A second region is not contiguous with the first: its first page opens bvec 2, and the bio is full.
        Command[] apart =
        [
            new MapRegion(1, RegionKind.Anon, A, 2), new MapRegion(2, RegionKind.Anon, B, 2),
            new IterInit(1, IterKind.Iovec, IterDir.Source, [new IterSeg(A, 8192), new IterSeg(B, 8192)]),
            new BioAdd(1, 1, 2), new BioRelease(1, false),
        ];
        var a = new ModelRun(Profiles.Linux519);
        foreach (var c in apart[..4])
        {
            a.Do(c);
        }

        Assert.Equal("3", a.V("bio_pages"));
        Assert.Equal("4096", a.V("iter_count"));
        a.Inspect("r2.f0");
        Assert.Equal("2", a.V("refcount"));
        a.Inspect("r2.f1");
        Assert.Equal("1", a.V("refcount"));

        AssertReferenceAgrees("linux-6.18", contiguous);
        AssertReferenceAgrees("linux-5.19", contiguous);
        AssertReferenceAgrees("linux-5.19", apart);
        AssertReferenceAgrees("linux-6.8", apart);
    }
}
