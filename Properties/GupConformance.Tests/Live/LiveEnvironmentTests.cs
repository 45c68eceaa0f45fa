using System.Text.Json;
using GupConformance.Engine.Live;
using GupConformance.Oracles.Live;
using GupConformance.Spec;
using GupConformance.Spec.Live;

namespace GupConformance.Tests.Live;

/// <summary>
/// The machine facts the live model takes from the environment probe instead of assuming them: here, whether a read
/// fault maps the zero page. Pure tests (no kernel): the model's numbers with the fact flipped, and whole runs
/// against a simulated kernel built from a recorded environment.
/// </summary>
public sealed class LiveEnvironmentTests
{
    /// <summary>The probe of a 6.18 machine that maps the zero page, as recorded in Live/recorded-environment-linux-6.18.json.</summary>
    private static LiveEnvironment Recorded()
    {
        var env = JsonSerializer.Deserialize<LiveEnvironment>(File.ReadAllText(RepoPaths.Of("Properties", "GupConformance.Tests", "Live", "recorded-environment-linux-6.18.json")));
        Assert.NotNull(env);
        Assert.True(env.ZeroPageOnRead);
        return env;
    }

    /// <summary>The same machine booted so that a read fault maps a fresh page (e.g. pvm_no_zero_page=1).</summary>
    private static LiveEnvironment NoZeroPage() => Recorded() with { ZeroPageOnRead = false };

    private static IReadOnlyDictionary<string, string> Expect(LiveEnvironment env, params LiveCommand[] commands)
    {
        var s = LiveModel.Init(LiveProfile.Linux618, env);
        LiveOutcome? last = null;
        foreach (var c in commands)
        {
            Assert.Null(LiveModel.Precondition(s, c));
            last = LiveModel.Step(s, c);
            s = last.Next;
        }

        return last!.Checks.ToDictionary(c => c.Field, c => string.Join("|", c.Allowed), StringComparer.Ordinal);
    }

    [Fact]
    public void LIVE_FAULT_STATE_a_read_fault_maps_a_fresh_exclusive_page_where_the_kernel_maps_no_zero_page()
    {
        LiveCommand[] read = [new LiveMap(0, LiveRegionKind.Small, 8), new LiveTouch(0, 2, 3, Write: false)];
        Assert.Equal("-2z3-3", Expect(Recorded(), read)["state.r0"]);
        Assert.Equal("-2x3-3", Expect(NoZeroPage(), read)["state.r0"]);
        Assert.Equal("-2p3-3", Expect(NoZeroPage(), read)["layout.r0"]);
    }

    [Fact]
    public void LIVE_DIO_ZERO_PAGE_without_a_zero_page_a_dio_write_from_untouched_memory_pins_every_page()
    {
        LiveCommand[] write = [new LiveMap(0, LiveRegionKind.Small, 8), new LiveDirectIo(true, [new LiveIov(0, 0, 8 * 4096)])];
        var with = Expect(Recorded(), write);
        Assert.Equal("0", with["dacq"]);
        Assert.Equal("z8", with["state.r0"]);

        var without = Expect(NoZeroPage(), write);
        Assert.Equal("8", without["dacq"]);
        Assert.Equal("8", without["drel"]);
        Assert.Equal("x8", without["state.r0"]);
        Assert.DoesNotContain("LIVE-DIO-ZERO-PAGE", LiveModel.Step(LiveModel.Step(LiveModel.Init(LiveProfile.Linux618, NoZeroPage()), write[0]).Next, write[1]).Exercised);
    }

    [Fact]
    public void LIVE_FORK_SHARE_a_read_faulted_page_is_an_anonymous_page_fork_shares_where_there_is_no_zero_page()
    {
        // Without a zero page the read gives the VMA an anon_vma, so fork copies the page table entry (shared frame);
        // with the zero page and no anon_vma the child's page table stays empty.
        LiveCommand[] seq = [new LiveMap(0, LiveRegionKind.Small, 2), new LiveTouch(0, 0, 1, Write: false), new LiveFork()];
        Assert.Equal("-2", Expect(Recorded(), seq)["fork.r0"]);
        var without = Expect(NoZeroPage(), seq);
        Assert.Equal("S1-1", without["fork.r0"]);
        Assert.Equal("s1-1", without["state.r0"]);
    }

    [Fact]
    public void Without_a_zero_page_only_the_zero_page_rule_is_not_judgeable_and_with_one_nothing_is()
    {
        Assert.Empty(LiveModel.NotJudgeable(Recorded()));
        var na = LiveModel.NotJudgeable(NoZeroPage());
        Assert.Equal(["LIVE-DIO-ZERO-PAGE"], na.Keys);
        Assert.Contains("no zero page", na["LIVE-DIO-ZERO-PAGE"], StringComparison.Ordinal);

        var small = new LiveEnvironment("6.18.0", true, null, HasThp: false, HasMthp64: false, HugetlbPool: 0, new Dictionary<string, string>());
        Assert.Equal(["LIVE-FORK-LARGE-WHOLE", "LIVE-URING-COALESCE"], LiveModel.NotJudgeable(small).Keys);
        Assert.All(LiveModel.NotJudgeable(small).Keys.Concat(na.Keys), id => Assert.NotNull(LiveRules.Find(id)));
    }

    [Fact]
    public void A_run_with_the_zero_page_fact_flipped_reports_the_zero_page_rule_not_applicable_and_judges_every_other_rule()
    {
        var env = NoZeroPage();
        using var kernel = new SimulatedLiveKernel(env);
        var result = new LiveConformanceRun(kernel, LiveProfile.Linux618).Run(new LiveRunOptions { Sequences = 160, Length = 60, Seed = 11 });

        Assert.Equal(LiveVerdict.Pass, result.Verdict);
        Assert.StartsWith("Not applicable — this kernel maps no zero page", result.RuleVerdict("LIVE-DIO-ZERO-PAGE"), StringComparison.Ordinal);
        Assert.Equal(0, result.RuleCounts.GetValueOrDefault("LIVE-DIO-ZERO-PAGE"));
        foreach (var rule in LiveRules.All.Where(r => r.Id != "LIVE-DIO-ZERO-PAGE"))
        {
            Assert.True(result.RuleVerdict(rule.Id) == "Pass", $"{rule.Id}: {result.RuleVerdict(rule.Id)}\n{result.Render()}");
        }

        var text = result.Render();
        Assert.Contains("zero page on read faults no", text, StringComparison.Ordinal);
        Assert.Contains("LIVE-DIO-ZERO-PAGE           Not applicable — this kernel maps no zero page", text, StringComparison.Ordinal);
        Assert.Contains("probed THP enabled: madvise", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void A_model_told_the_wrong_zero_page_fact_disagrees_with_the_kernel_at_the_first_read(bool kernelMapsZeroPage, bool modelAssumesZeroPage)
    {
        // The machine's fact decides: the same sequences judged with the other fact fail on the page state, which is
        // what the live run did on a machine without a zero page before the probe existed ("observed x, allowed z").
        using var kernel = new SimulatedLiveKernel(Recorded() with { ZeroPageOnRead = kernelMapsZeroPage });
        var told = new ToldLiveEnvironment(kernel, Recorded() with { ZeroPageOnRead = modelAssumesZeroPage });
        var result = new LiveConformanceRun(told, LiveProfile.Linux618).Run(new LiveRunOptions { Sequences = 40, Length = 40, Seed = 3 });

        Assert.Equal(LiveVerdict.Fail, result.Verdict);
        var c = Assert.Single(result.Counterexamples);
        Assert.Contains("LIVE-FAULT-STATE", c.ViolatedRules);
        var mismatch = c.Steps.SelectMany(s => s.Mismatches).First(m => m.Field.StartsWith("state.", StringComparison.Ordinal));
        Assert.Contains(kernelMapsZeroPage ? "z" : "x", mismatch.Observed, StringComparison.Ordinal);
        Assert.True(c.Shrunk.Count <= 3, result.Render());
    }
}
