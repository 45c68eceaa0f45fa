using GupConformance.Oracles;
using GupConformance.Spec;

namespace GupConformance.Tests.Verdicts;

/// <summary>
/// A refcount or pin count that is off names the rule broken first by how far it is off: the model records each change a
/// step made to the count (or decided against) with the rules behind it, and the difference observed picks the change
/// that accounts for it exactly — left out, made twice, made in the other unit (1 for 1024), or prevented yet made. Each
/// case below is a step where several specific rules decide the same count, taken from a bug of the zoo whose
/// counterexample the rules' plain order sent to the wrong one; each is checked both ways where the other way is a real
/// mistake too.
/// </summary>
public sealed class CountExplanationTests
{
    private const ulong A = ModelRun.A;

    [Fact]
    public void A_zero_page_unpin_made_where_the_era_skips_it_is_the_skip_rule_broken_and_a_put_instead_is_not()
    {
        var run = ModelRun.Zero(Profiles.Linux618).Do(ModelRun.Get(1, A, 1));
        var (rules, exercised, due) = AfterAction(run, new Release(1, ReleaseFn.UnpinUserPages, 0, 1), "zero");

        // The unpin a small page would take (-1024), which 6.5+ skips for the zero page.
        Assert.Equal("ZERO-NOT-PINNED", CauseOf(rules, exercised, due, -1024));

        // -1 is a put_page() in place of the unpin: the skip rule cannot account for that, so it is cited last.
        Assert.Equal("ZERO-NOT-PINNED", rules.RulesFor(Num(due - 1))[^1]);
    }

    [Fact]
    public void A_zero_page_unpin_left_out_before_6_5_is_the_rule_that_the_zero_page_is_unpinned_like_any_page()
    {
        var run = ModelRun.Zero(Profiles.Linux62).Do(ModelRun.Get(1, A, 1));
        var (rules, exercised, due) = AfterAction(run, new Release(1, ReleaseFn.UnpinUserPages, 0, 1), "zero");
        Assert.Equal("ZERO-PINNED-LEGACY", CauseOf(rules, exercised, due, +1024));
    }

    [Fact]
    public void A_trimmed_page_released_in_the_wrong_unit_is_the_put_and_one_not_released_is_the_trim()
    {
        // 2,560 bytes from 0xe00 of a page whose refcount looks pinned: the 4,096-byte block trims it all, and the page
        // taken for it goes back with put_page().
        var run = ModelRun.Anon(Profiles.Linux61Stable, startRefcount: 1025).Do(new IterInit(1, IterKind.Ubuf, IterDir.Source, [new IterSeg(A + 0xe00, 2560)]));
        var (rules, exercised, due) = AfterAction(run, new BioAdd(1, 1, 1, 4096), "r1.f0");
        Assert.Equal("REL-PUT-PAGE", CauseOf(rules, exercised, due, 1 - 1024));
        Assert.Equal("BIO-LOGICAL-BLOCK-TRIM", CauseOf(rules, exercised, due, +1));
    }

    [Fact]
    public void A_same_page_pin_kept_is_the_merge_rule_not_the_pins_taken_around_it()
    {
        // Two segments in one page: the second extraction pins the page the first bvec ends in, and the merge gives that
        // pin back at once. A pin too many matches the merge's unpin left out (and only one of the two pins taken).
        var run = ModelRun.Anon(Profiles.Proposal2023IovExtractV8, folios: 4)
            .Do(new IterInit(1, IterKind.Iovec, IterDir.Dest, [new IterSeg(A + 0x3800, 512), new IterSeg(A + 0x3a00, 2048)]));
        var (rules, exercised, due) = AfterAction(run, new BioAdd(1, 1, 3), "r1.f3");
        Assert.Equal("BIO-SAME-PAGE-MERGE", CauseOf(rules, exercised, due, +1024));
    }

    [Fact]
    public void A_long_term_pin_that_kept_the_first_pins_through_migration_is_the_unpin_all_rule()
    {
        // pin_user_pages(FOLL_LONGTERM) over a movable folio: every pin is dropped, the movable folio migrated, and the
        // range pinned again. A non-movable folio pinned twice is the unpin left out, not a pin counted twice.
        var run = ModelRun.Anon(Profiles.Linux618, folios: 2).Do(new MapRegion(2, RegionKind.Anon, A + 0x2000, 1, Movable: true));
        var (rules, exercised, due) = AfterAction(run, ModelRun.Pin(1, A, 3, Foll.LongTerm), "r1.f0");
        Assert.Equal("GUP-MIGRATE-UNPINS-ALL", CauseOf(rules, exercised, due, +1024));
    }

    [Fact]
    public void A_walk_without_pages_that_left_the_count_of_another_folio_is_not_the_no_reference_rule()
    {
        // A write pin breaks the zero page into a fresh folio; a later faulting walk without a pages array keeps that
        // folio. A fresh copy in its place (count 1 where 1025) is the kept page's rule, not "no pages, no reference",
        // whose only possible mistake is one reference kept (+1).
        var run = ModelRun.Zero(Profiles.Linux65, pages: 1).Do(ModelRun.Pin(1, A, 1, Foll.Write, EntryPoint.PinUserPagesFast));
        var (rules, exercised, due) = AfterAction(run, ModelRun.Get(2, A, 1, Foll.Write | Foll.Touch, EntryPoint.GetUserPagesUnlocked, pages: false), "r1.f0");
        Assert.Equal("ZERO-FAULTED-PAGE-KEPT", CauseOf(rules, exercised, due, 1 - due));
        Assert.Equal("REF-NO-PAGES-NO-REF", CauseOf(rules, exercised, due, +1));
    }

    [Fact]
    public void Two_releases_either_of_which_could_be_the_one_left_out_are_named_as_a_tie()
    {
        // Seed 5 of bio-same-page-keeps-duplicate: a user buffer from 0x600 of an order-2 folio, a 4,096-byte block and
        // three bvecs. One bio step gives back a same-page duplicate and a page the trim left with nothing: a count one
        // too high fits either release left out.
        var run = ModelRun.Anon(Profiles.Proposal2022IovExtractRfc, order: 2)
            .Do(new IterInit(1, IterKind.Ubuf, IterDir.Dest, [new IterSeg(A + 0x600, 29696)]));
        var (rules, exercised, due) = AfterAction(run, new BioAdd(1, 1, 3, 4096), "r1.f0");
        var cause = CauseOf(rules, exercised, due, +1);
        Assert.Equal("BIO-SAME-PAGE-MERGE", cause);
        Assert.Equal(["BIO-LOGICAL-BLOCK-TRIM"], rules.EquallyFitting(Num(due + 1), cause));

        // The same count with only the merge in the step (the v8 case above) names no tie.
        var single = ModelRun.Anon(Profiles.Proposal2023IovExtractV8, folios: 4)
            .Do(new IterInit(1, IterKind.Iovec, IterDir.Dest, [new IterSeg(A + 0x3800, 512), new IterSeg(A + 0x3a00, 2048)]));
        var (other, _, otherDue) = AfterAction(single, new BioAdd(1, 1, 3), "r1.f3");
        Assert.Empty(other.EquallyFitting(Num(otherDue + 1024), "BIO-SAME-PAGE-MERGE"));
    }

    [Fact]
    public void A_counterexample_whose_count_fits_two_releases_says_so_beside_the_cause()
    {
        var profile = Profiles.Proposal2022IovExtractRfc;
        var bug = Fixtures.Broken.BrokenImplementations.Find("broken-bio-same-page-keeps-duplicate")!;
        Command[] seq =
        [
            new MapRegion(1, RegionKind.Anon, A, 1, 2),
            new IterInit(3, IterKind.Ubuf, IterDir.Dest, [new IterSeg(A + 0x600, 29696)]),
            new BioAdd(1, 3, 3, 4096),
        ];
        using var executor = new Engine.SequenceExecutor(bug.Factory, profile, profile.Facets, TimeSpan.FromSeconds(5));
        var result = executor.Execute(seq, trace: true);
        Assert.Equal("BIO-SAME-PAGE-MERGE", result.Cause);
        Assert.Equal(["BIO-LOGICAL-BLOCK-TRIM"], result.CauseAlsoFits);

        var cx = Engine.Counterexample.Of(result, seq, new HashSet<string>(StringComparer.Ordinal), 1, bug.Name, profile.Id, 5, "replay", 3, 0);
        Assert.Contains("fits BIO-LOGICAL-BLOCK-TRIM as well", Engine.ReportWriter.RenderCounterexample(cx), StringComparison.Ordinal);
        Assert.Contains("fits BIO-LOGICAL-BLOCK-TRIM as well", Engine.MarkdownReport.RenderCounterexample(cx, "#"), StringComparison.Ordinal);
    }

    [Fact]
    public void A_difference_no_change_accounts_for_leaves_the_order_as_it_was()
    {
        var run = ModelRun.Anon(Profiles.Linux618).Do(ModelRun.Get(1, A, 1));
        var (rules, _, due) = AfterAction(run, new Release(1, ReleaseFn.PutPage, 0, 1), "r1.f0");
        Assert.Same(rules.Rules, rules.RulesFor(Num(due + 7)));
    }

    /// <summary>Runs <paramref name="action"/>, then inspects <paramref name="folio"/>: its refcount check, what the
    /// action exercised, and the refcount expected.</summary>
    private static (FieldCheck Refcount, IReadOnlyList<string> Exercised, long Due) AfterAction(ModelRun run, Command action, string folio)
    {
        Assert.Null(run.Invalid(action));
        run.Do(action);
        var exercised = run.Last.Exercised;
        var refcount = run.Inspect(folio).Last.Checks.Single(c => c.Field == "refcount");
        return (refcount, exercised, long.Parse(refcount.Allowed[0], System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>The cause the engine names when the implementation reports the expected refcount + <paramref name="off"/>.</summary>
    private static string CauseOf(FieldCheck check, IReadOnlyList<string> exercised, long due, long off)
    {
        var observed = Num(due + off);
        Assert.False(check.Accepts(observed));
        return RuleScopes.Cause(check.RulesFor(observed), [.. exercised], observed, check.Allowed, "inspect");
    }

    private static string Num(long v) => v.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
