using GupConformance.Spec;
using static GupConformance.Tests.ModelRun;
using static GupConformance.Tests.Scenarios.ScenarioSupport;

namespace GupConformance.Tests.Scenarios;

/// <summary>
/// Scenarios for references taken by get_user_pages*() (REF-*): one per entry, counted on the folio, implied by a
/// pages array, none without one. The model's scenarios drive GupModel.Step directly and assert on the checks'
/// allowed values and on the next state: hand-derived from shared/reference/linux-gup-semantics.md, or written to
/// kill a mutant that survived Stryker.NET (stryker/RESULTS.md), ordered by rule in catalogue order.
/// </summary>
public sealed partial class GetReferenceScenarioTests
{
    [Fact]
    public void REF_GET_PLUS_ONE_get_user_pages_fast_adds_one_ref_per_entry_to_the_folio()
    {
        var r = Anon(Profiles.Linux618, order: 2).Do(Get(1, A, 4, e: EntryPoint.GetUserPagesFast));
        Assert.Equal("4", r.V("result"));
        Assert.Equal("[r1.f0:0+4]", r.V("pages"));
        Assert.True(r.Exercised("REF-GET-PLUS-ONE"));
        r.Inspect("r1.f0");
        Assert.Equal("5", r.V("refcount"));
        Assert.Equal("0", r.V("pincount"));
        Assert.Equal("false", r.V("maybe_dma_pinned"));
    }

    [Fact]
    public void REF_GET_PLUS_ONE_a_reference_leaves_no_outstanding_pins()
    {
        var get = Anon(Profiles.Linux618).Do(Get(1, A, 1));
        Assert.Equal(0, get.State.Folios.Single(f => f.Key == "r1.f0").OutstandingPins);
    }

    [Fact]
    public void REF_LARGE_FOLIO_HEAD_a_ref_on_a_tail_page_counts_on_the_folio()
    {
        var r = Anon(Profiles.Linux618, order: 4).Do(Get(1, A + (5 * Page), 2));
        Assert.Equal("[r1.f0:5+2]", r.V("pages"));
        Assert.True(r.Exercised("REF-LARGE-FOLIO-HEAD"));
        Assert.Equal("3", r.Inspect("r1.f0").V("refcount"));
        r.Do(new Release(1, ReleaseFn.PutPage, 1, 1));
        Assert.True(r.Exercised("REF-LARGE-FOLIO-HEAD"));
        Assert.Equal("2", r.Inspect("r1.f0").V("refcount"));
    }

    [Fact]
    public void REF_LARGE_FOLIO_HEAD_is_cited_only_for_references_on_large_folios()
    {
        var pin = Anon(Profiles.Linux618, order: 9).Do(Pin(1, A, 512));
        Assert.False(pin.Exercised("REF-LARGE-FOLIO-HEAD"));
        var get = Anon(Profiles.Linux618).Do(Get(1, A, 1));
        Assert.False(get.Exercised("REF-LARGE-FOLIO-HEAD"));
        get.Do(new Release(1, ReleaseFn.PutPage, 0, 1));
        Assert.False(get.Exercised("REF-LARGE-FOLIO-HEAD"));
    }

    [Fact]
    public void REF_IMPLIED_GET_get_user_pages_with_pages_and_no_flags_takes_references()
    {
        foreach (var p in new[] { Profiles.Proposal2015GetVaddrPfns, Profiles.Linux57, Profiles.Linux618 })
        {
            var r = Anon(p).Do(Get(1, A, 1));
            Assert.True(r.Exercised("REF-IMPLIED-GET"), p.Id);
            r.Inspect("r1.f0");
            Assert.Equal("2", r.V("refcount"));
        }
    }

    [Fact]
    public void REF_IMPLIED_GET_the_implied_get_is_cited_on_the_refcount_it_added()
    {
        var r = Anon(Profiles.Linux618).Do(Get(1, A, 1));
        Assert.True(r.Exercised("REF-IMPLIED-GET"));
        r.Inspect("r1.f0");
        Assert.Equal("2", r.V("refcount"));
        Assert.Contains("REF-IMPLIED-GET", r.RulesOf("refcount"));
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
    public void REF_IMPLIED_GET_a_zero_page_reference_rests_on_the_implied_get()
    {
        var r = Zero(Profiles.Linux618).Do(Get(1, A, 1));
        r.Inspect("zero");
        Assert.Equal("2", r.V("refcount"));
        Assert.Contains("REF-IMPLIED-GET", r.RulesOf("refcount"));
        Assert.Contains("ZERO-GET-COUNTS", r.RulesOf("refcount"));
    }

    [Fact]
    public void REF_NO_PAGES_NO_REF_get_user_pages_without_pages_holds_nothing()
    {
        var r = Anon(Profiles.Linux618, folios: 2).Do(Get(1, A, 2, pages: false));
        Assert.Equal("2", r.V("result"));
        Assert.False(r.Has("pages"));
        Assert.True(r.Exercised("REF-NO-PAGES-NO-REF"));
        r.Inspect("r1.f1");
        Assert.Equal("1", r.V("refcount"));
        Assert.Contains("REF-NO-PAGES-NO-REF", r.RulesOf("refcount"));
    }
}
