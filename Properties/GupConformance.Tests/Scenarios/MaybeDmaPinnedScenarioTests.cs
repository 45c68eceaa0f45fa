using GupConformance.Spec;
using static GupConformance.Tests.ModelRun;

namespace GupConformance.Tests.Scenarios;

/// <summary>
/// Scenarios for folio_maybe_dma_pinned() (MDP-*): no false negatives, the bias threshold, the exact count, the
/// unsigned reading after a wrap. The model's scenarios drive GupModel.Step directly and assert on the checks'
/// allowed values and on the next state: hand-derived from shared/reference/linux-gup-semantics.md, or written to
/// kill a mutant that survived Stryker.NET (stryker/RESULTS.md), ordered by rule in catalogue order.
/// </summary>
public sealed partial class MaybeDmaPinnedScenarioTests
{
    [Fact]
    public void MDP_NO_FALSE_NEGATIVE_a_pinned_folio_is_checked_to_read_true()
    {
        var r = Anon(Profiles.Linux618).Do(Pin(1, A, 1)).Inspect("r1.f0");
        var checks = r.Last.Checks.Where(k => k.Field == "maybe_dma_pinned").ToList();
        Assert.Equal(2, checks.Count);
        Assert.Contains(checks, k => k.Allowed.SequenceEqual(["true"]) && k.Rules.Contains("MDP-NO-FALSE-NEGATIVE"));
        Assert.True(r.Exercised("MDP-NO-FALSE-NEGATIVE"));
    }

    [Fact]
    public void MDP_NO_FALSE_NEGATIVE_is_not_checked_without_pins()
    {
        var r = Anon(Profiles.Linux618, startRefcount: 2000).Inspect("r1.f0");
        Assert.Equal("true", r.V("maybe_dma_pinned"));
        Assert.Single(r.Last.Checks, k => k.Field == "maybe_dma_pinned");
        Assert.False(r.Exercised("MDP-NO-FALSE-NEGATIVE"));
    }

    [Fact]
    public void MDP_BIAS_THRESHOLD_1023_refs_do_not_look_pinned_and_1024_do()
    {
        var r = Anon(Profiles.Linux618, startRefcount: 1023).Inspect("r1.f0");
        Assert.Equal("false", r.V("maybe_dma_pinned"));
        Assert.Contains("MDP-BIAS-THRESHOLD", r.RulesOf("maybe_dma_pinned"));
        r.Do(Get(1, A, 1)).Inspect("r1.f0");
        Assert.Equal("1024", r.V("refcount"));
        Assert.Equal("true", r.V("maybe_dma_pinned"));
        Assert.True(r.Exercised("MDP-BIAS-THRESHOLD"));
    }

    [Fact]
    public void MDP_BIAS_THRESHOLD_a_zero_refcount_is_not_a_wrap()
    {
        var r = Anon(Profiles.Linux618, startRefcount: 0).Inspect("r1.f0");
        Assert.Equal("false", r.V("maybe_dma_pinned"));
        Assert.DoesNotContain("MDP-UNSIGNED-AFTER-WRAP", r.RulesOf("maybe_dma_pinned"));
    }

    [Fact]
    public void MDP_EXACT_many_refs_on_an_exact_folio_do_not_look_pinned()
    {
        var r = Anon(Profiles.Linux57, order: 2, startRefcount: 5000).Inspect("r1.f0");
        Assert.Equal("false", r.V("maybe_dma_pinned"));
        Assert.Contains("MDP-EXACT", r.RulesOf("maybe_dma_pinned"));
        r.Do(Pin(1, A, 1)).Inspect("r1.f0");
        Assert.Equal("true", r.V("maybe_dma_pinned"));
        Assert.True(r.Exercised("MDP-EXACT"));
    }

    [Fact]
    public void MDP_UNSIGNED_AFTER_WRAP_OVF_NO_SATURATION_a_pin_at_2147482625_wraps_and_still_reads_pinned()
    {
        var r = Anon(Profiles.Linux618, startRefcount: 2147482625).Do(Pin(1, A, 1));
        Assert.Equal("1", r.V("result"));
        Assert.True(r.Exercised("OVF-NO-SATURATION"));
        r.Inspect("r1.f0");
        Assert.Equal("-2147483647", r.V("refcount"));
        Assert.Equal("true", r.V("maybe_dma_pinned"));
        Assert.Contains("MDP-UNSIGNED-AFTER-WRAP", r.RulesOf("maybe_dma_pinned"));
        Assert.Contains("OVF-NO-SATURATION", r.RulesOf("refcount"));
    }
}
