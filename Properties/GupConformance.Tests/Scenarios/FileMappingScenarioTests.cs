using GupConformance.Spec;
using static GupConformance.Tests.ModelRun;
using static GupConformance.Tests.Scenarios.ScenarioSupport;

namespace GupConformance.Tests.Scenarios;

/// <summary>
/// Scenarios for shared file mappings (FILE-*): a write lookup dirties a clean file page once. The model's scenarios
/// drive GupModel.Step directly and assert on the checks' allowed values and on the next state: hand-derived from
/// shared/reference/linux-gup-semantics.md, or written to kill a mutant that survived Stryker.NET
/// (stryker/RESULTS.md), ordered by rule in catalogue order. Scenarios found by running the model against real
/// kernels have their own section.
/// </summary>
public sealed partial class FileMappingScenarioTests
{
    // ---- From the runs on real kernels (6.1.192 and 6.12.118, Fixtures/Kernel) --------------------------------------

    // Each the shrunk counterexample of a run of the model against a real kernel that showed the model wrong or
    // missing something, with the kernel text it rests on.

    [Theory]
    [InlineData("linux-5.7")]
    [InlineData("linux-6.12.118")]
    public void FILE_WRITE_FAULT_DIRTY_a_write_lookup_dirties_a_clean_file_page_once(string profile)
    {
        // 6.12 kernel: map r2 file; get_user_pages(FOLL_WRITE) → inspect r2.f0: dirty observed true.
        var r = FileRegion(Profiles.Get(profile)).Do(Get(1, A, 1, Foll.Write));
        Assert.True(r.Exercised("FILE-WRITE-FAULT-DIRTY"));
        r.Inspect("r1.f0");
        Assert.Equal("true", r.V("dirty"));
        Assert.Contains("FILE-WRITE-FAULT-DIRTY", r.RulesOf("dirty"));
        r.Inspect("r1.f1");
        Assert.Equal("false", r.V("dirty"));

        // The PTE is writable now: a second write lookup faults nothing.
        r.Do(Get(2, A, 1, Foll.Write));
        Assert.False(r.Exercised("FILE-WRITE-FAULT-DIRTY"));
    }

    [Fact]
    public void FILE_WRITE_FAULT_DIRTY_neither_a_read_lookup_nor_a_refused_long_term_write_pin_dirties()
    {
        var r = FileRegion(Profiles.Linux612Stable).Do(Get(1, A, 1)).Do(Pin(2, A, 1, Foll.Write | Foll.LongTerm));
        Assert.Equal("-EFAULT", r.V("result"));
        Assert.True(r.Exercised("API-LONGTERM-FILE-WRITE"));
        r.Inspect("r1.f0");
        Assert.Equal("false", r.V("dirty"));
    }
}
