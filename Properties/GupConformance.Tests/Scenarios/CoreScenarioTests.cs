using GupConformance.Oracles;
using GupConformance.Spec;
using static GupConformance.Tests.ModelRun;
using static GupConformance.Tests.Scenarios.ScenarioSupport;

namespace GupConformance.Tests.Scenarios;

/// <summary>
/// Scenarios for the model as a whole: CORE-NO-COLLATERAL, and what no single rule covers (the initial state, a
/// step's purity and its described change, the tour of the catalogue under every profile, a profile's settings). The
/// model's scenarios drive GupModel.Step directly and assert on the checks' allowed values and on the next state:
/// hand-derived from shared/reference/linux-gup-semantics.md, or written to kill a mutant that survived Stryker.NET
/// (stryker/RESULTS.md), ordered by rule in catalogue order. Scenarios from issue 13 also replay their commands on
/// the reference implementation, which must agree with the model on every observation.
/// </summary>
public sealed partial class CoreScenarioTests
{
    private static IEnumerable<Command[]> TourSequences()
    {
        MapRegion Map(int id, RegionKind k, ulong at, int folios = 4, int order = 0, int rc = 1) => new(id, k, at, folios, order, rc);
        Command[] Core() =>
        [
            Map(1, RegionKind.Anon, A, 4), Map(2, RegionKind.Anon, B, 2, 1), Map(3, RegionKind.Anon, C, 1, 3),
            Map(4, RegionKind.File, A + (64 * Page), 2), Map(5, RegionKind.Io, B + (64 * Page), 2),
            Get(1, A, 2), Get(2, A, 1, pages: false), Get(3, A, 1, e: EntryPoint.GetUserPagesFast),
            Pin(4, A + (2 * Page), 2), Pin(5, B, 4), Pin(6, C, 8), new InspectFolio("r1.f3"), new InspectFolio("r2.f0"),
            new InspectFolio("r3.f0"), new FolioAddPin(7, 4, 0), new ReadVmstat(),
            new Release(1, ReleaseFn.PutPage, 0, 2), new Release(4, ReleaseFn.UnpinUserPage, 0, 1),
            new Release(4, ReleaseFn.PutPage, 1, 1), new Release(3, ReleaseFn.UnpinUserPage, 0, 1),
            new Release(5, ReleaseFn.UnpinUserPageRangeDirtyLock, 0, 4, true), new Release(6, ReleaseFn.UnpinUserPages, 0, 4),
            new Release(6, ReleaseFn.UnpinUserPagesDirtyLock, 4, 4, true), new Release(7, ReleaseFn.UnpinUserPage, 0, 1),
            new InspectFolio("r1.f2"), new InspectFolio("r1.f0"), new InspectFolio("r3.f0"), new ReadVmstat(),
            Pin(8, A + (3 * Page), 4), Get(9, B + (64 * Page), 1), Pin(10, A + (64 * Page), 1, Foll.LongTerm | Foll.Write),
            Get(11, A, 1, Foll.Pin), Pin(12, A, 1, Foll.Get), Pin(13, A, 1, Foll.Get, EntryPoint.PinUserPagesFast),
            Get(14, A, 1, Foll.LongTerm), Get(15, A, 1, Foll.LongTerm, EntryPoint.GetUserPagesUnlocked),
            Pin(16, A, 1, Foll.LongTerm, EntryPoint.PinUserPagesUnlocked), Pin(17, A, 1, pages: false),
            Get(18, A, 1, Foll.Remote), Get(19, A, 1, Foll.Touch), Get(20, A, 1, Foll.Touch, EntryPoint.GetUserPagesFast),
            Pin(21, A, 1, Foll.Dump, EntryPoint.PinUserPagesFast), Pin(22, 0xFFFFFFFFFFFFF000, 2, e: EntryPoint.PinUserPagesFast),
            Get(23, 0xFFFFFFFFFFFFF000, 2, e: EntryPoint.GetUserPagesFast), Get(24, A + (32 * Page), 1),
            Get(25, A + (65 * Page), 1, Foll.Write),
        ];
        yield return Core();
        yield return
        [
            // A second address space: a remote pin walks it and marks it (GUP-REMOTE-TARGET-MM, GUP-PIN-MARKS-MM).
            Map(1, RegionKind.Anon, A, 1, 0, 1), new MapRegion(2, RegionKind.Anon, B, 2, Mm: 1),
            new Gup(1, EntryPoint.PinUserPagesRemote, B, 2, Foll.None, Mm: 1), new InspectMm(1), new InspectMm(0),
        ];
        yield return
        [
            // Movable memory: a long-term pin migrates what it can (GUP-MIGRATE-MOVABLE, GUP-MIGRATE-UNPINS-ALL) and
            // fails whole on a movable page someone else holds (GUP-MIGRATE-BUSY-ENOMEM).
            Map(1, RegionKind.Anon, A, 1), new MapRegion(2, RegionKind.Anon, A + Page, 2, Movable: true),
            new MapRegion(3, RegionKind.Anon, B, 1, StartRefcount: 2, Movable: true),
            Pin(1, A, 3, Foll.LongTerm), Pin(2, B, 1, Foll.LongTerm), new ReadVmstat(), new InspectFolio("r2.f0"),
        ];
        yield return
        [
            // The *_remote calls' locked argument: *locked must be 1 (API-LOCKED-MUST-BE-SET, v6.3+), and up to v6.2 a
            // long-term call with one is refused (API-LOCKED-LONGTERM-LEGACY).
            Map(1, RegionKind.Anon, A, 2),
            new Gup(1, EntryPoint.PinUserPagesRemote, A, 1, Foll.None, Locked: 0),
            new Gup(2, EntryPoint.GetUserPagesRemote, A, 1, Foll.None, Locked: 0),
            new Gup(3, EntryPoint.PinUserPagesRemote, A, 1, Foll.LongTerm, Locked: 1),
            new Gup(4, EntryPoint.GetUserPagesRemote, A + Page, 1, Foll.None, Locked: 1),
        ];
        yield return
        [
            Map(1, RegionKind.Anon, A, 1, 0, 2147482625), Pin(1, A, 1), Get(2, A, 1), Get(4, A, 1, pages: false), new InspectFolio("r1.f0"),
            Map(2, RegionKind.Anon, B, 1, 1, 2147483647), Get(3, B, 2), new InspectFolio("r2.f0"),
        ];
        yield return
        [
            Map(1, RegionKind.Zero, A, 4), Pin(1, A, 1), Get(2, A + Page, 1), Pin(3, A + (2 * Page), 1, Foll.Write),
            Pin(4, A + (3 * Page), 1, Foll.LongTerm), new InspectFolio("zero"), new Release(1, ReleaseFn.UnpinUserPage, 0, 1),
            new Release(2, ReleaseFn.PutPage, 0, 1), new ReadVmstat(), Get(5, A, 1, Foll.Write),
        ];
        yield return
        [
            Map(1, RegionKind.Anon, A, 8), Map(2, RegionKind.Anon, B, 1, 2), Map(3, RegionKind.Zero, C, 2),
            new IterInit(1, IterKind.Ubuf, IterDir.Source, [new IterSeg(A + 256, 8192)]), new IterExtract(1, 1, 1 << 20, 2),
            new IterExtract(2, 1, 0, 1), new IterRetention(1),
            new IterInit(2, IterKind.Iovec, IterDir.Dest, [new IterSeg(A, 0), new IterSeg(A + (4 * Page), 4096), new IterSeg(C + (8 * Page), 4096)]),
            new IterExtract(3, 2, 1 << 20, 4), new IterExtract(4, 2, 1 << 20, 4), new IterRetention(2),
            new IterInit(3, IterKind.Kvec, IterDir.Source, [new IterSeg(A, 0), new IterSeg(B, 4096)]), new IterExtract(5, 3, 4096, 4),
            new IterInit(4, IterKind.Bvec, IterDir.Source, [new IterSeg(B, 8192)]), new IterExtract(6, 4, 1 << 20, 4),
            new IterInit(5, IterKind.Discard, IterDir.Dest, [new IterSeg(0, 4096)]), new IterExtract(7, 5, 4096, 1),
            new IterInit(6, IterKind.Xarray, IterDir.Source, [new IterSeg(B, 4096)]), new IterExtract(8, 6, 4096, 1),
            new IterInit(7, IterKind.Ubuf, IterDir.Dest, [new IterSeg(A, 4096)]), new IterExtract(9, 7, 4096, 1, AllocFails: true),
        ];
        yield return
        [
            Map(1, RegionKind.Anon, A, 8), Map(2, RegionKind.Anon, B, 1, 2),
            new IterInit(1, IterKind.Iovec, IterDir.Dest, [new IterSeg(A, 512), new IterSeg(A + 512, 512), new IterSeg(B, 4096)]),
            new BioAdd(1, 1, 8), new BioRelease(1, true),
            new IterInit(2, IterKind.Bvec, IterDir.Source, [new IterSeg(A, 4096)]), new BioAdd(2, 2, 1), new BioRelease(2, false),
            new IterInit(3, IterKind.Ubuf, IterDir.Dest, [new IterSeg(A + (64 * Page), 4096)]), new BioAdd(3, 3, 1),
            new IterInit(4, IterKind.Ubuf, IterDir.Dest, [new IterSeg(A + 512, 8192)]), new BioAdd(4, 4, 2, 4096),
            new InspectFolio("r1.f0"), new InspectFolio("r2.f0"),
            new IterInit(4, IterKind.Ubuf, IterDir.Dest, [new IterSeg(A + (2 * Page) + 2048, 8192)]), new BioAdd(4, 4, 2),
        ];
        yield return
        [
            Map(1, RegionKind.Anon, A, 4), Map(2, RegionKind.PfnMap, B, 2), Map(3, RegionKind.Io, B + (2 * Page), 2),
            new FvCreate(1, 2), new FvGet(1, A, 3, true), new FvPut(1), new FvGet(1, B, 3, false), new FvPut(1),
            new FvGet(1, A, 0, false), new FvGet(1, C, 1, false), new FvPut(1),
            Map(4, RegionKind.File, C + (64 * Page), 1), new FvCreate(2, 2), new FvGet(2, C + (64 * Page), 1, false), new ReadVmstat(),
        ];
        yield return
        [
            Map(1, RegionKind.Anon, A, 4), Map(2, RegionKind.Anon, B, 1, 2),
            new IterInit(1, IterKind.Iovec, IterDir.Dest, [new IterSeg(A, 8192), new IterSeg(C, 4096)]), new NetfsExtract(1, 1, 1 << 20),
            new NetfsFree(1), new IterInit(2, IterKind.Bvec, IterDir.Dest, [new IterSeg(B, 4096)]), new NetfsExtract(2, 2, 4096),
            new IterInit(3, IterKind.Ubuf, IterDir.Dest, [new IterSeg(C + (64 * Page), 4096)]), new NetfsExtract(3, 3, 4096),
        ];
        yield return
        [
            // Issue 13: a walk into the adjacent mapping, a faulted zero-region page found again, long-term P2PDMA pins.
            Map(1, RegionKind.Anon, A, 2), Map(2, RegionKind.Zero, A + (2 * Page), 2), Get(1, A, 4, Foll.Write),
            Get(2, A + (2 * Page), 1), Pin(3, A, 1, Foll.LongTerm | Foll.PciP2pDma),
            Pin(4, A, 1, Foll.LongTerm | Foll.PciP2pDma, EntryPoint.PinUserPagesUnlocked),
            Pin(5, A, 2), new UnpinArray(5, ReleaseFn.UnpinUserPages, 0, 2, Errno: 14),
            new UnpinArray(5, ReleaseFn.UnpinUserPages, 0, 2, NullPrefix: 1),
            new IterInit(1, IterKind.Ubuf, IterDir.Dest, [new IterSeg(A, 8192)]), new BioAdd(1, 1, 2),
        ];
    }

    [Fact]
    public void CORE_NO_COLLATERAL_a_folio_the_pin_did_not_address_is_unchanged()
    {
        var r = Anon(Profiles.Linux618, folios: 2).Do(Pin(1, A, 1)).Inspect("r1.f1");
        Assert.Equal("1", r.V("refcount"));
        Assert.Contains("CORE-NO-COLLATERAL", r.RulesOf("refcount"));
        Assert.True(r.Exercised("CORE-NO-COLLATERAL"));
        r.Inspect("r1.f0");
        Assert.False(r.Exercised("CORE-NO-COLLATERAL"));
    }

    [Fact]
    public void CORE_NO_COLLATERAL_the_folio_views_report_pincount_and_dirty_only_where_they_exist()
    {
        var small = Anon(Profiles.Linux618);
        Assert.Null(Assert.Single(small.State.Folios).Pincount);
        Assert.False(Assert.Single(small.State.Folios).Dirty);
        var large = Anon(Profiles.Linux618, order: 9);
        Assert.Equal(0, Assert.Single(large.State.Folios).Pincount);
    }

    [Fact]
    public void CORE_NO_COLLATERAL_is_cited_only_for_a_folio_the_last_command_did_not_address()
    {
        var r = Anon(Profiles.Linux618, folios: 2).Do(Pin(1, A, 1)).Do(Pin(2, A + Sizes.PageSize, 1));
        r.Inspect("r1.f0");
        Assert.Contains("CORE-NO-COLLATERAL", r.RulesOf("refcount"));
        r.Inspect("r1.f1");
        Assert.DoesNotContain("CORE-NO-COLLATERAL", r.RulesOf("refcount"));
    }

    [Fact]
    public void CORE_NO_COLLATERAL_mapping_a_region_notes_its_range_and_creates_no_folio_state()
    {
        var r = Anon(Profiles.Linux618, folios: 2);
        Assert.Equal("mapped r1 Anon 0x10000000-0x10002000 (2 folios of order 0)", r.Last.Change);
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
    public void The_model_is_pure_a_step_never_changes_its_input_state()
    {
        var r = Anon(Profiles.Linux618, order: 2);
        var before = r.State.Describe();
        var after = GupModel.Step(r.State, Pin(1, A, 4)).Next;
        Assert.Equal(before, r.State.Describe());
        Assert.NotEqual(before, after.Describe());
        Assert.Equal(5, after.Folios.Single().Refcount);
        Assert.Equal(4, after.Folios.Single().Pincount);
    }

    /// <summary>
    /// A deterministic tour: the same hand-written sequences under every profile (commands a profile finds invalid
    /// are skipped). Every cited or exercised id must exist and apply to the profile, and every rule that applies
    /// (facets included) must be exercised by some sequence.
    /// </summary>
    [Fact]
    public void Every_rule_cited_exists_applies_and_every_applicable_rule_is_exercised_under_every_profile()
    {
        var missing = new List<string>();
        foreach (var p in Profiles.All)
        {
            var exercised = new HashSet<string>(StringComparer.Ordinal);
            foreach (var seq in TourSequences())
            {
                var state = GupModel.Init(p);
                foreach (var c in seq)
                {
                    if (GupModel.Precondition(state, c) is not null)
                    {
                        continue;
                    }

                    var o = GupModel.Step(state, c);
                    foreach (var id in o.Exercised.Concat(o.Checks.SelectMany(k => k.Rules)))
                    {
                        Assert.True(Rules.Exists(id), $"{p.Id}: unknown rule {id}");
                        Assert.True(Rules.Get(id).AppliesTo(p), $"{p.Id}: {c} cites {id}, which does not apply");
                    }

                    Assert.All(o.Checks, k => Assert.NotEmpty(k.Rules));
                    Assert.False(string.IsNullOrEmpty(o.Change));
                    _ = o.Next.Describe();
                    exercised.UnionWith(o.Exercised);
                    state = o.Next;
                }
            }

            missing.AddRange(Rules.All.Where(r => r.Applies(p) && !exercised.Contains(r.Id)).Select(r => $"{p.Id}: {r.Id}"));
        }

        Assert.True(missing.Count == 0, "not exercised: " + string.Join(", ", missing));
    }

    /// <summary>
    /// The change a trace records per step (<see cref="ModelState.DescribeChanges"/>, which only describes what changed)
    /// is exactly the difference of the two full descriptions, over the tour under every profile.
    /// </summary>
    [Fact]
    public void A_steps_described_changes_are_the_difference_of_the_full_descriptions()
    {
        foreach (var p in Profiles.All)
        {
            foreach (var seq in TourSequences())
            {
                var state = GupModel.Init(p);
                foreach (var c in seq.Where(c => !c.IsQuery))
                {
                    if (GupModel.Precondition(state, c) is not null)
                    {
                        continue;
                    }

                    var next = GupModel.Step(state, c).Next;
                    var (a, b) = (state.Describe(), next.Describe());
                    var expected = a.Keys.Union(b.Keys).Order(StringComparer.Ordinal)
                        .Select(k => (Key: k, Before: a.GetValueOrDefault(k), After: b.GetValueOrDefault(k)))
                        .Where(x => !string.Equals(x.Before, x.After, StringComparison.Ordinal))
                        .ToList();
                    Assert.Equal(expected, next.DescribeChanges(state));
                    state = next;
                }
            }
        }
    }

    [Fact]
    public void The_initial_model_state_is_empty()
    {
        var s = GupModel.Init(Profiles.Get("linux-6.18"));
        Assert.Empty(s.Folios);
        Assert.Equal(0, s.Acquired);
        Assert.Equal(0, s.Released);
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
}
