using GupConformance.Engine;
using GupConformance.Fixtures;
using GupConformance.Fixtures.Broken;
using GupConformance.Spec;

namespace GupConformance.Tests.Snapshots;

/// <summary>
/// Reviewed verdicts: the rendered catalogue, the per-profile rule applicability, the reference implementation's
/// report under every profile and the counterexample reports (and one reproducer) of representative broken
/// implementations are committed as .verified snapshots beside this file, so a change of a rule, the model, the
/// generator or the renderer shows up as a diff to review (README: "Reviewing snapshot changes").
/// </summary>
public sealed class ReportSnapshotTests
{
    /// <summary>The fixed budget of the counterexample snapshots: small, so all of them take a few seconds.</summary>
    public static readonly RunOptions Budget = new() { Seed = 20251121, Sequences = 40, Length = 30 };

    /// <summary>The reference reports use the default budget: a smaller one leaves rules unexercised (a Fail).</summary>
    public static readonly RunOptions ReferenceBudget = new() { Seed = 20251121 };

    /// <summary>Representative broken implementations, each under a profile where it is wrong.</summary>
    public static readonly (string Name, string Profile)[] BrokenCases =
    [
        ("broken-pin-bias-adds-refs", "linux-6.18"),
        ("broken-api-get-accepts-pin", "linux-6.8"),
        ("broken-bio-same-page-keeps-duplicate", "linux-6.5"),
        ("broken-ovf-no-sign-check", "linux-5.7"),
    ];

    public static TheoryData<string> ProfileIds => [.. Profiles.All.Select(p => p.Id)];

    public static TheoryData<string, string> Broken
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (var (name, profile) in BrokenCases)
            {
                data.Add(name, profile);
            }

            return data;
        }
    }

    /// <summary>The first counterexample of a broken implementation under a profile, with the fixed budget.</summary>
    public static RunResult RunBroken(string name, string profile, RunOptions? options = null)
    {
        var broken = BrokenImplementations.Find(name) ?? throw new InvalidOperationException($"no broken implementation {name}");
        return ConformanceRun.Run(broken.Factory, Profiles.Get(profile), (options ?? Budget) with { StopAtFirstFailure = true, MaxCounterexamples = 1 });
    }

    [Fact]
    public void Rule_catalogue() => SnapshotAssert.Matches(CatalogueDocument.RenderRules(), "md");

    [Fact]
    public void Rule_applicability_per_profile() => SnapshotAssert.Matches(CoverageView.RenderApplicability(), "md");

    [Theory]
    [MemberData(nameof(ProfileIds))]
    public void Reference_report(string profile)
    {
        var result = ConformanceRun.Run(new KernelStyleFactory(), Profiles.Get(profile), ReferenceBudget with { ImplementationId = "reference" });
        Assert.True(result.Conformant, MarkdownReport.Render(result));
        SnapshotAssert.Matches(MarkdownReport.Render(result), "md", $"profile={profile}");
    }

    [Fact]
    public void Reference_report_json()
    {
        var result = ConformanceRun.Run(new KernelStyleFactory(), Profiles.Default, ReferenceBudget with { ImplementationId = "reference" });
        SnapshotAssert.Matches(JsonReport.Render(result), "json");
    }

    [Fact]
    public void Broken_report_junit()
    {
        // One suite per run, one case per rule: the failing rule carries the counterexample, the rules outside the
        // profile are skipped with the reason, and the counts on the suite add up.
        var (impl, profile) = BrokenCases[0];
        var result = RunBroken(impl, profile);
        var xml = JUnitReport.Render([result]);
        var doc = System.Xml.Linq.XDocument.Parse(xml);
        var suite = Assert.Single(doc.Root!.Elements("testsuite"));
        var cases = suite.Elements("testcase").ToList();
        Assert.Equal(result.Verdicts.Count, cases.Count);
        Assert.Equal(result.Count(Outcome.Fail), cases.Count(c => c.Element("failure") is not null));
        Assert.Equal(result.Count(Outcome.NotApplicable), cases.Count(c => c.Element("skipped") is not null));
        Assert.Equal(cases.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), (string?)suite.Attribute("tests"));
        var failing = cases.Single(c => ((string)c.Attribute("name")!).StartsWith("PIN-BIAS-SMALL:", StringComparison.Ordinal));
        Assert.Contains("Counterexample #1", failing.Element("failure")!.Value, StringComparison.Ordinal);
        SnapshotAssert.Matches(xml, "xml", $"impl={impl}_profile={profile}");
    }

    [Theory]
    [MemberData(nameof(Broken))]
    public void Broken_counterexample(string impl, string profile)
    {
        var result = RunBroken(impl, profile);
        Assert.NotEmpty(result.Counterexamples);
        SnapshotAssert.Matches(MarkdownReport.RenderCounterexample(result.Counterexamples[0], "#"), "md", $"impl={impl}_profile={profile}");
    }

    [Fact]
    public void Broken_reproducer()
    {
        var (impl, profile) = BrokenCases[0];
        var result = RunBroken(impl, profile);
        SnapshotAssert.Matches(ReproducerEmitter.Emit(result.Counterexamples[0]), "cs");
    }
}
