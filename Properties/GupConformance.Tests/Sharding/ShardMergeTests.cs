using System.Text.Json.Nodes;
using GupConformance.Engine;
using GupConformance.Fixtures;
using GupConformance.Fixtures.Broken;
using GupConformance.Runner;
using GupConformance.Spec;

namespace GupConformance.Tests.Sharding;

/// <summary>
/// --shard I/N and the merge of the shards' JSON reports: the shards together run exactly the sequences of the whole
/// run, so their merge is the whole run's report (byte for byte for a conformant implementation, the same failing
/// sequences and rule table for a broken one), and reports of different runs are refused with one line.
/// </summary>
public sealed class ShardMergeTests : IDisposable
{
    private static readonly Profile Latest = Profiles.Get("linux-6.18");

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "gupconformance-shards-" + Guid.NewGuid().ToString("N"));

    public ShardMergeTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Report(IImplementationFactory factory, RunOptions options) =>
        JsonReport.Render(ConformanceRun.Run(factory, Latest, options));

    private static List<(string, string)> Shards(IImplementationFactory factory, RunOptions options, int count) =>
        [.. Enumerable.Range(1, count).Select(i => ($"shard{i}.json", Report(factory, options with { Shard = new RunShard(i, count) })))];

    [Fact]
    public void The_merge_of_four_shards_is_the_whole_run_report_byte_for_byte_for_a_conformant_implementation()
    {
        var options = new RunOptions { Seed = 7, Sequences = 120 };
        var whole = Report(new KernelStyleFactory(), options);
        var merged = ReportMerge.Merge(Shards(new KernelStyleFactory(), options, 4));
        Assert.True(merged.Conformant, merged.Summary);
        Assert.Equal(whole, merged.Json);
    }

    [Fact]
    public void The_merge_of_four_shards_names_the_same_failing_sequences_and_rule_table_as_the_whole_run_for_a_broken_implementation()
    {
        var broken = BrokenImplementations.Find("broken-pin-bias-adds-refs")!.Factory;
        var options = new RunOptions { Seed = 7, Sequences = 60 };
        var whole = JsonNode.Parse(Report(broken, options))!["runs"]![0]!;
        var mergedReport = ReportMerge.Merge(Shards(broken, options, 4));
        Assert.False(mergedReport.Conformant);
        var merged = JsonNode.Parse(mergedReport.Json)!["runs"]![0]!;

        var failing = (JsonArray)whole["failingSequences"]!;
        Assert.True(failing.Count > 1, "the broken implementation should fail more than one sequence");
        Assert.Equal(failing.ToJsonString(), merged["failingSequences"]!.ToJsonString());
        Assert.Equal(whole["rules"]!.ToJsonString(), merged["rules"]!.ToJsonString());
        Assert.Equal(whole["outcomes"]!.ToJsonString(), merged["outcomes"]!.ToJsonString());
        Assert.Equal(whole["problems"]!.ToJsonString(), merged["problems"]!.ToJsonString());
        foreach (var key in new[] { "sequencesRun", "failingSequences", "commandsExecuted", "expectedDivergenceSequences" })
        {
            Assert.Equal((long)whole["totals"]![key]!, (long)merged["totals"]![key]!);
        }

        // The first counterexample stands for the first failing sequence's failure in both.
        var first = ((JsonArray)failing[0]!["failure"]!).Select(x => (string)x!).ToHashSet(StringComparer.Ordinal);
        Assert.True(first.Overlaps(((JsonArray)merged["counterexamples"]![0]!["unexpectedRules"]!).Select(x => (string)x!)));
        Assert.True(first.Overlaps(((JsonArray)whole["counterexamples"]![0]!["unexpectedRules"]!).Select(x => (string)x!)));
    }

    [Fact]
    public void A_share_is_every_Nth_position_and_the_shares_partition_the_run()
    {
        var shards = Enumerable.Range(1, 3).Select(i => new RunShard(i, 3)).ToList();
        for (var p = 0; p < 100; p++)
        {
            Assert.Single(shards, s => s.Owns(p));
        }

        var options = new RunOptions { Seed = 3, Sequences = 31 };
        var run = shards.Sum(s => ConformanceRun.Run(new KernelStyleFactory(), Latest, options with { Shard = s }).SequencesRun);
        Assert.Equal(31, run);
        Assert.Null(RunShard.Parse("0/4", out var error));
        Assert.Equal("--shard must be I/N with 1 <= I <= N (e.g. 2/4), not '0/4'", error);
    }

    [Fact]
    public void Reports_of_different_seeds_profiles_or_suite_versions_a_missing_or_repeated_shard_and_plain_reports_are_refused()
    {
        var options = new RunOptions { Seed = 7, Sequences = 8 };
        var shards = Shards(new KernelStyleFactory(), options, 2);
        var otherSeed = Shards(new KernelStyleFactory(), options with { Seed = 8 }, 2);

        Assert.StartsWith("cannot merge reports of different seeds: shard1.json has 7, shard2.json has 8",
            Refused([shards[0], otherSeed[1]]), StringComparison.Ordinal);
        Assert.Equal("shard 2/2 is missing (given: 1)", Refused([shards[0]]));
        Assert.Equal("shard2.json: shard 2/2 is given twice", Refused([shards[0], shards[1], shards[1]]));
        var renamed = shards[1].Item2.Replace("\"suiteVersion\": \"", "\"suiteVersion\": \"0.", StringComparison.Ordinal);
        Assert.StartsWith("cannot merge reports of different suite versions: ", Refused([shards[0], ("shard2.json", renamed)]), StringComparison.Ordinal);
        var otherProfile = ("shard2.json", JsonReport.Render(ConformanceRun.Run(new KernelStyleFactory(), Profiles.Get("linux-6.5"), options with { Shard = new RunShard(2, 2) })));
        Assert.StartsWith("cannot merge reports of different profiles: ", Refused([shards[0], otherProfile]), StringComparison.Ordinal);
        Assert.Equal("plain.json: not a shard report (run it with --shard I/N)", Refused([("plain.json", Report(new KernelStyleFactory(), options))]));
        Assert.StartsWith("bad.json: not valid JSON", Refused([("bad.json", "{")]), StringComparison.Ordinal);
    }

    [Fact]
    public void The_runner_runs_shards_and_merges_their_reports_into_the_whole_runs_report_and_refuses_bad_input_with_one_line()
    {
        // The default budget and seed, under which ConformanceTests shows the reference conformant under linux-6.5.
        string[] common = ["--profile", "linux-6.5", "--no-corpus"];
        var whole = Path.Combine(_dir, "whole.json");
        Assert.Equal(0, Run([.. common, "--report-json", whole]).Code);
        var parts = new List<string>();
        for (var i = 1; i <= 2; i++)
        {
            var part = Path.Combine(_dir, $"shard{i}.json");
            var (code, stdout, _) = Run([.. common, "--shard", $"{i}/2", "--report-json", part]);
            Assert.Equal(0, code);
            Assert.Contains($"Shard {i}/2: every sequence of this share passed", stdout, StringComparison.Ordinal);
            parts.Add(part);
        }

        var merged = Path.Combine(_dir, "merged.json");
        var (mergeCode, summary, _) = Run(["merge", .. parts, "--report-json", merged]);
        Assert.Equal(0, mergeCode);
        Assert.Contains("Merged 2 shards: CONFORMANT", summary, StringComparison.Ordinal);
        Assert.Equal(File.ReadAllText(whole), File.ReadAllText(merged));

        foreach (var bad in new[] { new[] { "merge", parts[0] }, ["merge"], ["merge", Path.Combine(_dir, "none.json")], ["merge", whole, parts[1]] })
        {
            var (code, _, err) = Run(bad);
            Assert.Equal(2, code);
            Assert.Single(err.Trim().Split('\n'));
            Assert.StartsWith("error: ", err, StringComparison.Ordinal);
        }

        var (shardCode, _, shardErr) = Run([.. common, "--shard", "3/2"]);
        Assert.Equal(2, shardCode);
        Assert.Equal("error: --shard must be I/N with 1 <= I <= N (e.g. 2/4), not '3/2'", shardErr.Trim());
    }

    private static string Refused(List<(string, string)> reports) =>
        Assert.Throws<ReportMergeException>(() => ReportMerge.Merge(reports)).Message;

    private static (int Code, string Out, string Err) Run(string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = Program.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }
}
