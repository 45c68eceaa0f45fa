using GupConformance.Spec;
using static GupConformance.Tests.ModelRun;
using static GupConformance.Tests.Scenarios.ScenarioSupport;

namespace GupConformance.Tests.Scenarios;

/// <summary>
/// The *_remote calls' locked argument (API-LOCKED-MUST-BE-SET, API-LOCKED-LONGTERM-LEGACY), read in 6.12.118
/// mm/gup.c is_valid_gup_args() and 6.1.192 mm/gup.c __get_user_pages_remote() / __get_user_pages_locked(); each
/// scenario is replayed on the reference implementation.
/// </summary>
public sealed partial class ValidationScenarioTests
{
    private static Gup Remote(int call, EntryPoint e, ulong start, Foll flags, int? locked) => new(call, e, start, 1, flags, Locked: locked);

    [Fact]
    public void API_LOCKED_MUST_BE_SET_a_locked_pointer_at_0_is_refused_before_anything_is_pinned_or_marked_from_6_3()
    {
        var r = Anon(Profiles.Linux612Stable, folios: 2);

        // pin_user_pages_remote() answers 0 for invalid arguments from v6.3, get_user_pages_remote() -EINVAL.
        r.Do(Remote(1, EntryPoint.PinUserPagesRemote, A, Foll.None, locked: 0));
        Assert.Equal("0", r.V("result"));
        Assert.Equal("API-LOCKED-MUST-BE-SET", r.RulesOf("result")[0]);
        r.Do(Remote(2, EntryPoint.GetUserPagesRemote, A, Foll.None, locked: 0));
        Assert.Equal("-EINVAL", r.V("result"));

        // is_valid_gup_args() refuses before __get_user_pages_locked() marks the mm or takes anything.
        r.Vmstat();
        Assert.Equal("0", r.V("nr_foll_pin_acquired"));
        r.Do(new InspectMm(0));
        Assert.Equal("false", r.V("has_pinned"));
        r.Inspect("r1.f0");
        Assert.Equal("1", r.V("refcount"));

        // *locked == 1 is a caller holding mmap_lock: the call walks as with NULL.
        r.Do(Remote(3, EntryPoint.PinUserPagesRemote, A, Foll.None, locked: 1));
        Assert.Equal("1", r.V("result"));
        r.Inspect("r1.f0");
        Assert.Equal("1025", r.V("refcount"));

        // Before v6.3 the same *locked == 0 is a BUG_ON() in __get_user_pages_locked(): not a result the contract has.
        Assert.NotNull(Anon(Profiles.Get("linux-6.1.y")).Invalid(Remote(1, EntryPoint.PinUserPagesRemote, A, Foll.None, locked: 0)));
        AssertReferenceAgrees("linux-6.12.118", new MapRegion(1, RegionKind.Anon, A, 2),
            Remote(1, EntryPoint.PinUserPagesRemote, A, Foll.None, 0), Remote(2, EntryPoint.GetUserPagesRemote, A, Foll.None, 0),
            new ReadVmstat(), new InspectMm(0), new InspectFolio("r1.f0"), Remote(3, EntryPoint.PinUserPagesRemote, A, Foll.None, 1),
            new InspectFolio("r1.f0"));
    }

    [Theory]
    [InlineData("linux-6.1.y", "-EINVAL")]
    [InlineData("linux-5.19", "-EINVAL")]
    [InlineData("linux-6.2", "-EINVAL")]
    [InlineData("linux-6.12.118", "1")]
    public void API_LOCKED_LONGTERM_LEGACY_a_long_term_remote_pin_with_a_locked_pointer_is_refused_up_to_6_2(string profile, string result)
    {
        var r = Anon(Profiles.Get(profile), folios: 2);
        r.Do(Remote(1, EntryPoint.PinUserPagesRemote, A, Foll.LongTerm, locked: 1));
        Assert.Equal(result, r.V("result"));
        if (result == "-EINVAL")
        {
            Assert.Equal("API-LOCKED-LONGTERM-LEGACY", r.RulesOf("result")[0]);
        }

        // Without the pointer the same long-term pin is walked in every era; a locked pointer without FOLL_LONGTERM too.
        r.Do(Remote(2, EntryPoint.PinUserPagesRemote, A, Foll.LongTerm, locked: null));
        Assert.Equal("1", r.V("result"));
        r.Do(Remote(3, EntryPoint.PinUserPagesRemote, A + 4096, Foll.None, locked: 1));
        Assert.Equal("1", r.V("result"));
        AssertReferenceAgrees(profile, new MapRegion(1, RegionKind.Anon, A, 2),
            Remote(1, EntryPoint.PinUserPagesRemote, A, Foll.LongTerm, 1), Remote(2, EntryPoint.PinUserPagesRemote, A, Foll.LongTerm, null),
            Remote(3, EntryPoint.PinUserPagesRemote, A + 4096, Foll.None, 1), new ReadVmstat(), new InspectFolio("r1.f0"));
    }
}
