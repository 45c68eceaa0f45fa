using System.Xml.Linq;
using GupConformance.Engine.Live;

namespace GupConformance.Tests.Live;

/// <summary>
/// The live runner end to end on this machine's kernel, as a user runs it (root only; skipped with the reason
/// elsewhere): its seed forms, its three report formats, and a counterexample saved as a live trace that --replay runs
/// on the kernel again. The failure comes from judging the kernel by the wrong era (linux-6.4: DIO takes references).
/// </summary>
[Collection(LiveKernelCollection.Name)]
public sealed class LiveRunnerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("gupconformance-live-runner-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [SkippableFact]
    public void A_live_run_accepts_a_hex_seed_and_prints_it_in_its_replay_line()
    {
        LiveInterruptTests.SkipUnlessLiveRunsHere();
        var (code, output) = LiveInterruptTests.RunToEnd("--live", "--seed", "0x10", "--sequences", "1", "--length", "5", "--no-hugetlb", "--no-mthp", "--no-corpus");
        Assert.True(code == 0, output);
        Assert.Contains("Replay: gupconformance --live --seed 16 --sequences 1 --length 5", output, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void A_live_run_writes_Markdown_JSON_and_JUnit_and_its_counterexample_replays_as_a_live_trace()
    {
        LiveInterruptTests.SkipUnlessLiveRunsHere();
        string md = Path.Combine(_dir, "live.md"), json = Path.Combine(_dir, "live.json"), junit = Path.Combine(_dir, "live.xml"), corpus = Path.Combine(_dir, "corpus");

        var (code, output) = LiveInterruptTests.RunToEnd("--live", "--live-profile", "linux-6.4", "--seed", "7", "--sequences", "30",
            "--report-md", md, "--report-json", json, "--report-junit", junit, "--corpus", corpus);

        Assert.True(code == 1, output);
        Assert.Contains("LIVE-DIO-PIN", File.ReadAllText(md), StringComparison.Ordinal);
        using (var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(json)))
        {
            Assert.Empty(Replay.ReportSchemaTests.ValidateAgainst("live-report.schema.json", doc.RootElement));
        }

        Assert.NotEmpty(XDocument.Load(junit).Descendants("failure"));
        var trace = Assert.Single(Directory.GetFiles(corpus, "*" + LiveTraceFile.Extension));
        Assert.Contains($"replay it on this kernel with: gupconformance --replay {trace}", output, StringComparison.Ordinal);

        var (replayCode, replayOut) = LiveInterruptTests.RunToEnd("--replay", trace);
        Assert.True(replayCode == 1, replayOut);
        Assert.Contains("Replay: the recorded disagreement reproduces (LIVE-DIO-PIN)", replayOut, StringComparison.Ordinal);

        // Judged by the kernel's own era, the same commands agree.
        var (rightCode, rightOut) = LiveInterruptTests.RunToEnd("--replay", trace, "--live-profile", "linux-6.18");
        Assert.True(rightCode == 0, rightOut);
        Assert.Contains("Replay: it passes now", rightOut, StringComparison.Ordinal);
    }
}
