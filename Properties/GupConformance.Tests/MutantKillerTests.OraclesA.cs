using GupConformance.Spec;
using static GupConformance.Tests.ModelRun;

namespace GupConformance.Tests;

/// <summary>Kills survivors of Oracles/Folios.cs (FolioOps grab/put provenance and overflow corners).</summary>
public sealed partial class MutantKillerTests
{
    [Fact]
    public void ZERO_PINNED_LEGACY_is_not_cited_for_a_5_x_pin_of_an_ordinary_page()
    {
        var r = Anon(Profiles.Linux62).Do(Pin(1, A, 1));
        Assert.False(r.Exercised("ZERO-PINNED-LEGACY"));
        Assert.DoesNotContain("ZERO-PINNED-LEGACY", r.Inspect("r1.f0").RulesOf("refcount"));
    }

    [Fact]
    public void ZERO_GET_COUNTS_is_not_cited_for_a_legacy_pin_of_the_zero_page()
    {
        var r = Zero(Profiles.Linux62).Do(Pin(1, A, 1));
        Assert.True(r.Exercised("ZERO-PINNED-LEGACY"));
        Assert.False(r.Exercised("ZERO-GET-COUNTS"));
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
    public void OVF_SIGN_CHECK_is_not_cited_when_every_entry_is_granted()
    {
        var r = Anon(Profiles.Linux618).Do(Pin(1, A, 1));
        Assert.Equal("1", r.V("result"));
        Assert.False(r.Exercised("OVF-SIGN-CHECK"));
    }

    [Fact]
    public void OVF_SIGN_CHECK_a_partly_granted_grab_cites_the_sign_check()
    {
        var r = Anon(Profiles.Linux57, order: 1, startRefcount: 2147482625).Do(Pin(1, A, 2));
        Assert.True(r.Exercised("OVF-SIGN-CHECK"));
        Assert.Contains("OVF-SIGN-CHECK", r.RulesOf("result"));
    }

    [Fact]
    public void OVF_SIGN_CHECK_a_failed_grab_changes_neither_the_folio_nor_the_pin_counter()
    {
        var r = Anon(Profiles.Linux618, startRefcount: 2147482625).Do(Pin(1, A, 1));
        r.Do(Pin(2, A, 1));
        Assert.Equal("-ENOMEM", r.V("result"));
        Assert.False(r.Exercised("VMSTAT-ACQ-PER-ENTRY"));
        r.Inspect("r1.f0");
        Assert.False(r.Exercised("CORE-NO-COLLATERAL"));
        Assert.DoesNotContain("CORE-NO-COLLATERAL", r.RulesOf("refcount"));
        r.Vmstat();
        Assert.Equal("1", r.V("nr_foll_pin_acquired"));
    }

    [Fact]
    public void OVF_NO_SATURATION_a_grab_that_lands_exactly_on_INT_MAX_does_not_wrap()
    {
        var r = Anon(Profiles.Linux618, startRefcount: 2147482623).Do(Pin(1, A, 1));
        Assert.Equal("1", r.V("result"));
        Assert.False(r.Exercised("OVF-NO-SATURATION"));
        r.Inspect("r1.f0");
        Assert.Equal("2147483647", r.V("refcount"));
        Assert.DoesNotContain("OVF-NO-SATURATION", r.RulesOf("refcount"));
    }

    [Fact]
    public void ZERO_NOT_PINNED_a_pin_and_unpin_of_the_zero_page_cite_it_on_the_refcount()
    {
        var r = Zero(Profiles.Linux65).Do(Pin(1, A, 2));
        r.Inspect("zero");
        Assert.Contains("ZERO-NOT-PINNED", r.RulesOf("refcount"));
        r.Do(new Release(1, ReleaseFn.UnpinUserPage, 0, 1));
        Assert.True(r.Exercised("ZERO-NOT-PINNED"));
    }

    [Fact]
    public void REF_GET_PLUS_ONE_a_reference_leaves_no_outstanding_pins()
    {
        var get = Anon(Profiles.Linux618).Do(Get(1, A, 1));
        Assert.Equal(0, get.State.Folios.Single(f => f.Key == "r1.f0").OutstandingPins);
    }

    [Fact]
    public void PIN_PLACEHOLDER_PLUS_ONE_without_pin_vmstat_nothing_is_counted_or_cited()
    {
        var r = Anon(Profiles.Linux56).Do(Pin(1, A, 1));
        Assert.False(r.Exercised("VMSTAT-ACQ-PER-ENTRY"));
        Assert.Equal(0, r.State.Acquired);
        r.Do(Get(2, A, 1)).Do(new Release(2, ReleaseFn.PutPage, 0, 1));
        Assert.False(r.Exercised("VMSTAT-GET-INVISIBLE"));
    }

    [Fact]
    public void VMSTAT_GET_INVISIBLE_put_page_of_a_reference_cites_it_and_not_the_misuse()
    {
        var r = Anon(Profiles.Linux618).Do(Get(1, A, 1)).Do(new Release(1, ReleaseFn.PutPage, 0, 1));
        Assert.True(r.Exercised("VMSTAT-GET-INVISIBLE"));
        Assert.False(r.Exercised("REL-MISUSE-PUT-PINNED"));
        r.Vmstat();
        Assert.Contains("VMSTAT-GET-INVISIBLE", r.RulesOf("nr_foll_pin_released"));
        Assert.DoesNotContain("REL-MISUSE-PUT-PINNED", r.RulesOf("nr_foll_pin_released"));
    }

    [Fact]
    public void REL_MISUSE_PUT_PINNED_put_page_of_a_pin_cites_the_misuse_not_get_invisible()
    {
        var r = Anon(Profiles.Linux618).Do(Pin(1, A, 1)).Do(new Release(1, ReleaseFn.PutPage, 0, 1));
        Assert.False(r.Exercised("VMSTAT-GET-INVISIBLE"));
        r.Inspect("r1.f0");
        Assert.Contains("REL-MISUSE-PUT-PINNED", r.RulesOf("refcount"));
        r.Vmstat();
        Assert.Contains("REL-MISUSE-PUT-PINNED", r.RulesOf("nr_foll_pin_released"));
        Assert.DoesNotContain("VMSTAT-GET-INVISIBLE", r.RulesOf("nr_foll_pin_released"));
    }

    [Fact]
    public void REL_UNPIN_PAGES_BATCH_the_release_cause_is_cited_on_the_refcount()
    {
        var r = Anon(Profiles.Linux618).Do(Pin(1, A, 1)).Do(new Release(1, ReleaseFn.UnpinUserPages, 0, 1));
        r.Inspect("r1.f0");
        Assert.Contains("REL-UNPIN-PAGES-BATCH", r.RulesOf("refcount"));
    }

    [Fact]
    public void ZERO_WRITE_FAULT_the_fault_cause_is_cited_on_the_faulted_page()
    {
        var r = Zero(Profiles.Linux618).Do(new Gup(1, EntryPoint.PinUserPages, A + (ulong)Sizes.PageSize, 1, Foll.Write, true));
        r.Inspect("r1.f1");
        Assert.Contains("ZERO-WRITE-FAULT", r.RulesOf("refcount"));
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
}
