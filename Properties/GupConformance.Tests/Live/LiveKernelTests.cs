using System.Text.Json;
using GupConformance.Engine.Live;
using GupConformance.Fixtures.LiveKernel;
using GupConformance.Oracles.Live;
using GupConformance.Spec;
using GupConformance.Spec.Live;

namespace GupConformance.Tests.Live;

/// <summary>The live tests that run on the kernel take turns (they share the machine's global pin counters and its
/// settings); the live lock would serialise them anyway, but a test waiting for it would see its time pass.</summary>
[CollectionDefinition(Name)]
public sealed class LiveKernelCollection
{
    public const string Name = "LiveKernel";
}

/// <summary>
/// The LiveKernel fixture against the running kernel (skipped, with the reason, where it is not applicable), and the
/// live model's numbers from the measured tables of linux-live-observability.md (everywhere).
/// </summary>
[Collection(LiveKernelCollection.Name)]
public sealed class LiveKernelTests
{
    private static readonly LiveEnvironment FullMachine = new("6.18.0", true, null, HasThp: true, HasMthp64: true, HugetlbPool: 4, new Dictionary<string, string>());

    private static (LiveState State, IReadOnlyDictionary<string, string> Expected) Model(LiveProfile profile, params LiveCommand[] commands)
    {
        var s = LiveModel.Init(profile, FullMachine);
        LiveOutcome? last = null;
        foreach (var c in commands)
        {
            Assert.Null(LiveModel.Precondition(s, c));
            last = LiveModel.Step(s, c);
            s = last.Next;
        }

        return (s, last!.Checks.ToDictionary(c => c.Field, c => string.Join("|", c.Allowed), StringComparer.Ordinal));
    }

    [Theory]
    [InlineData(0, 1, "1", "0", "2048")]
    [InlineData(0, 3, "3", "2", "2048")]
    [InlineData(0, 512, "512", "511", "2048")]
    [InlineData(0, 513, "513", "511", "4096")]
    [InlineData(100, 513, "513", "511", "4096")]
    [InlineData(0, 1024, "1024", "1022", "4096")]
    [InlineData(511, 2, "2", "0", "4096")]
    public void Model_io_uring_on_thp_matches_the_measured_table(int offsetPages, int pages, string acq, string rel, string vmpin)
    {
        var (_, e) = Model(LiveProfile.Linux618,
            new LiveMap(0, LiveRegionKind.Thp, 1024), new LiveRingSetup(0),
            new LiveRegister(0, [new LiveIov(0, offsetPages * 4096L, pages * 4096L)]));
        Assert.Equal(acq, e["dacq"]);
        Assert.Equal(rel, e["drel"]);
        Assert.Equal(vmpin, e["vmpin"]);
    }

    [Theory]
    [InlineData(1, "1", "0", "64")]
    [InlineData(3, "3", "2", "64")]
    [InlineData(16, "16", "15", "64")]
    [InlineData(17, "17", "15", "128")]
    [InlineData(40, "40", "37", "192")]
    public void Model_io_uring_on_64k_mthp_matches_the_measured_table(int pages, string acq, string rel, string vmpin)
    {
        var (_, e) = Model(LiveProfile.Linux618,
            new LiveMap(0, LiveRegionKind.Mthp64, 48), new LiveRingSetup(0), new LiveRegister(0, [new LiveIov(0, 0, pages * 4096L)]));
        Assert.Equal(acq, e["dacq"]);
        Assert.Equal(rel, e["drel"]);
        Assert.Equal(vmpin, e["vmpin"]);
    }

    /// <summary>
    /// The counterexample the 6.12.118 guest gave (seed 1): iovec 0 ends in the 64 KiB folio at pages 48..63 of an
    /// mTHP region after charging folio 32..47, iovec 1 lies in folio 32..47 again. 6.12 charges that folio once for
    /// the whole call (headpage_already_acct() searches the buffer registered before: 156 kB); 6.13+ charges it again
    /// (the table is installed after the loop: 220 kB). Iovec 2's 7 small pages cost 28 kB either way.
    /// </summary>
    [Theory]
    [InlineData("linux-6.12.y", "156")]
    [InlineData("linux-6.1.y", "156")]
    [InlineData("linux-5.15", "156")]
    [InlineData("linux-6.18", "220")]
    public void LIVE_URING_VMPIN_a_folio_charged_by_an_earlier_iovec_is_charged_again_only_from_6_13(string profileId, string vmpin)
    {
        var profile = LiveProfile.Find(profileId)!;
        var (_, e) = Model(profile, new LiveMap(23, LiveRegionKind.Small, 20), new LiveMap(51, LiveRegionKind.Mthp64, 96), new LiveRingSetup(11),
            new LiveRegister(11, [new LiveIov(51, 147456, 81920), new LiveIov(51, 135168, 12288), new LiveIov(23, 21984, 27168)]));
        Assert.Equal(vmpin, e["vmpin"]);
        Assert.Equal("30", e["dacq"]);
    }

    [Theory]
    [InlineData("6.12.118", "linux-6.12.y")]
    [InlineData("6.1.192", "linux-6.1.y")]
    [InlineData("6.13.2", "linux-6.18")]
    [InlineData("6.18.44-fc", "linux-6.18")]
    [InlineData("6.8.0-40-generic", "linux-6.8")]
    [InlineData("6.4.16", "linux-6.4")]
    [InlineData("5.15.0", null)]
    public void The_live_profile_of_a_kernel_is_chosen_from_its_release(string release, string? profileId) =>
        Assert.Equal(profileId, LiveProfile.ForKernel(release)?.Id);

    [Fact]
    public void Model_small_pages_overlaps_and_partial_failure()
    {
        // Same 5 pages as two iovecs: acq 10, VmPin 40 kB; 20 bytes straddling a page boundary pin 2 pages.
        var (_, e) = Model(LiveProfile.Linux618, new LiveMap(0, LiveRegionKind.Small, 8), new LiveTouch(0, 0, 8, true), new LiveRingSetup(0),
            new LiveRegister(0, [new LiveIov(0, 0, 5 * 4096), new LiveIov(0, 0, 5 * 4096), new LiveIov(0, 4086, 20)]));
        Assert.Equal("12", e["dacq"]);
        Assert.Equal("0", e["drel"]);
        Assert.Equal("48", e["vmpin"]);

        // 2 mapped pages then the guard: -EFAULT, 2 / 2.
        (_, e) = Model(LiveProfile.Linux618, new LiveMap(0, LiveRegionKind.Small, 2), new LiveTouch(0, 0, 2, true), new LiveRingSetup(0),
            new LiveRegister(0, [new LiveIov(0, 0, 4 * 4096)]));
        Assert.Equal("-14", e["result"]);
        Assert.Equal("2", e["dacq"]);
        Assert.Equal("2", e["drel"]);
        Assert.Equal("0", e["vmpin"]);
    }

    [Fact]
    public void Model_dio_zero_page_and_eras()
    {
        LiveCommand[] seq = [new LiveMap(0, LiveRegionKind.Small, 8), new LiveDirectIo(true, [new LiveIov(0, 0, 8 * 4096)])];
        Assert.Equal("0", Model(LiveProfile.Linux618, seq).Expected["dacq"]);
        Assert.Equal("8", Model(LiveProfile.Linux618 with { ZeroPagePinned = true }, seq).Expected["dacq"]);

        LiveCommand[] read = [new LiveMap(0, LiveRegionKind.Small, 8), new LiveDirectIo(false, [new LiveIov(0, 0, 4096), new LiveIov(0, 0, 4096), new LiveIov(0, 4096, 2 * 4096)])];
        Assert.Equal("4", Model(LiveProfile.Linux618, read).Expected["drel"]);
        Assert.Equal("0", Model(LiveProfile.Linux64, read).Expected["drel"]);
    }

    [Fact]
    public void Model_fork_copies_pinned_pages_and_shares_the_rest()
    {
        var (s, e) = Model(LiveProfile.Linux618, new LiveMap(0, LiveRegionKind.Small, 4), new LiveTouch(0, 0, 4, true), new LiveRingSetup(0),
            new LiveRegister(0, [new LiveIov(0, 0, 4096)]), new LiveFork());
        Assert.Equal("C1S3", e["fork.r0"]);
        Assert.Equal("x1s3", e["state.r0"]);
        Assert.True(s.HasPinned);

        (_, e) = Model(LiveProfile.Linux618, new LiveMap(0, LiveRegionKind.Mthp64, 48), new LiveRingSetup(0),
            new LiveRegister(0, [new LiveIov(0, 20 * 4096, 4096)]), new LiveFork());
        Assert.Equal("S16C16S16", e["fork.r0"]);

        (_, e) = Model(LiveProfile.Linux618, new LiveMap(0, LiveRegionKind.Small, 1), new LiveThreshold());
        Assert.Equal("none", e["threshold"]);
        (_, e) = Model(LiveProfile.Linux618, new LiveMap(0, LiveRegionKind.Small, 1), new LiveDirectIo(false, [new LiveIov(0, 0, 4096)]), new LiveThreshold());
        Assert.Equal("k1022,lru1|k1021,lru0", e["threshold"]);
    }

    [Theory]
    [InlineData("linux-6.18", "C2")]
    [InlineData("linux-5.15", "S1C1")]
    public void LIVE_FORK_BIAS_THRESHOLD_fork_counts_its_own_reference_only_in_eras_that_take_it_before_the_check(string profileId, string forkMap)
    {
        // A written small page with 1022 plain references (vmsplice: four pipes of 256, 256, 256 and 254 slots), in an
        // mm that has pinned (one io_uring registration of its neighbour). 6.1+ copy_present_pte() takes fork's own
        // reference first: 1 + 1 + 1022 = 1024, maybe pinned, copied. 5.15 checks first: 1 + 1022 = 1023, shared. The
        // registered neighbour is pinned and copied in both.
        var profile = LiveProfile.Find(profileId)!;
        var commands = new List<LiveCommand> { new LiveMap(0, LiveRegionKind.Small, 2), new LiveTouch(0, 0, 2, true), new LiveRingSetup(0), new LiveRegister(0, [new LiveIov(0, 4096, 4096)]) };
        var refs = 0;
        for (var pipe = 0; pipe < 4; pipe++)
        {
            commands.Add(new LivePipeOpen(pipe, 256));
            for (var inPipe = 0; inPipe < 256 && refs < 1022; inPipe += 2, refs += 2)
            {
                commands.Add(new LiveVmsplice(pipe, [new LiveIov(0, 0, 1), new LiveIov(0, 1, 1)]));
            }
        }

        commands.Add(new LiveFork());
        Assert.Equal(1022, refs);
        var (_, e) = Model(profile, [.. commands]);
        Assert.Equal(forkMap, e["fork.r0"]);
    }

    [Theory]
    [InlineData("linux-6.18", "k1022,lru1|k1021,lru0")]
    [InlineData("linux-6.4", "none")]
    public void LIVE_FORK_HAS_PINNED_a_direct_io_that_takes_references_leaves_the_mm_unmarked(string profileId, string threshold)
    {
        // Up to 6.4 DIO takes FOLL_GET references (iov_iter_get_pages2() in __bio_iov_iter_get_pages()), which never
        // sets MMF_HAS_PINNED; from 6.5 it pins, and the pin sets it.
        var (s, e) = Model(LiveProfile.Find(profileId)!, new LiveMap(0, LiveRegionKind.Small, 1), new LiveTouch(0, 0, 1, true),
            new LiveDirectIo(false, [new LiveIov(0, 0, 4096)]), new LiveThreshold());
        Assert.Equal(threshold, e["threshold"]);
        Assert.Equal(profileId == "linux-6.18", s.HasPinned);
    }

    /// <summary>The live rules are the last part of the one catalogue (Spec/RULES.md, kept current by CatalogueTests),
    /// with ids unique across both parts.</summary>
    [Fact]
    public void The_live_rules_are_in_the_one_catalogue()
    {
        var ids = Rules.All.Select(r => r.Id).Concat(LiveRules.All.Select(r => r.Id)).ToList();
        Assert.Equal(ids.Count, ids.Distinct(StringComparer.Ordinal).Count());
        var catalogue = CatalogueDocument.RenderRules();
        Assert.All(LiveRules.All, r => Assert.Contains($"\n### {r.Id}\n", catalogue, StringComparison.Ordinal));
    }

    [Fact]
    public void Every_rule_the_live_model_names_is_in_the_live_catalogue()
    {
        var text = File.ReadAllText(RepoPaths.Of("Oracles", "Live", "LiveModel.cs"));
        var ids = System.Text.RegularExpressions.Regex.Matches(text, "\"(LIVE-[A-Z0-9-]+)\"").Select(m => m.Groups[1].Value).Distinct();
        Assert.All(ids, id => Assert.NotNull(LiveRules.Find(id)));
    }

    [Fact]
    public void Live_commands_need_the_live_facet_and_round_trip_as_json()
    {
        Assert.Equal(Facet.None, Facet.All & Facet.Live);
        Command[] commands =
        [
            new LiveMap(1, LiveRegionKind.Thp, 512), new LiveRegister(2, [new LiveIov(1, 0, 4096), new LiveIov(-1, 0, 1)]),
            new LiveDirectIo(true, [new LiveIov(1, 512, 1024)]), new LiveFork(), new LiveThreshold(), new LiveVmsplice(0, [new LiveIov(1, 0, 1)]),
        ];
        foreach (var c in commands)
        {
            Assert.Equal(Facet.Live, c.Needs);
            var json = JsonSerializer.Serialize(c);
            Assert.Equal(c, JsonSerializer.Deserialize<Command>(json));
        }
    }

    [Fact]
    public void Generated_live_sequences_are_valid_for_the_model()
    {
        var gen = new LiveGenerator(LiveProfile.Linux618, FullMachine);
        var run = new LiveConformanceRun(new NoKernel(FullMachine), LiveProfile.Linux618);
        for (ulong i = 0; i < 30; i++)
        {
            var seq = gen.Generate(new Engine.Prng(i), 60, allowThreshold: true);
            Assert.Equal(60, seq.Length);
            Assert.True(run.IsValid(seq));
        }
    }

    [Fact]
    public void Without_root_the_live_run_is_not_applicable_with_the_reason()
    {
        using var factory = new LiveKernelFactory(assumeNotRoot: true);
        var result = new LiveConformanceRun(factory).Run(new LiveRunOptions());
        Assert.Equal(LiveVerdict.NotApplicable, result.Verdict);
        Assert.Contains("not root", result.Reason, StringComparison.Ordinal);
        Assert.Contains("Not applicable", result.Render(), StringComparison.Ordinal);
    }

    [Fact]
    public void Without_the_helper_the_live_run_is_not_applicable_with_the_reason()
    {
        using var factory = new LiveKernelFactory(helperPath: "/nonexistent/livehelper");
        var result = new LiveConformanceRun(factory).Run(new LiveRunOptions());
        Assert.Equal(LiveVerdict.NotApplicable, result.Verdict);
        Assert.NotNull(result.Reason);
    }

    private static LiveKernelFactory LiveOrSkip()
    {
        var factory = new LiveKernelFactory();
        if (!factory.Environment.Available)
        {
            var why = factory.Environment.NotApplicableReason;
            factory.Dispose();
            Skip.If(true, $"live kernel not applicable: {why}");
        }

        return factory;
    }

    private static readonly string[] Knobs = ["/proc/sys/vm/nr_hugepages", "/sys/kernel/mm/transparent_hugepage/hugepages-64kB/enabled"];

    private static string Read(string path) => File.Exists(path) ? File.ReadAllText(path).Trim() : "(absent)";

    [SkippableFact]
    public void Live_run_agrees_with_the_model_and_cleans_up()
    {
        var before = Knobs.Select(Read).ToArray();
        LiveRunResult result;
        string? dataFile;
        using (var factory = LiveOrSkip())
        {
            dataFile = factory.DataFile;
            // A fixed number of sequences, no time budget: on a loaded machine the run takes longer, it does not get shorter.
            result = new LiveConformanceRun(factory).Run(new LiveRunOptions { Sequences = 20, Length = 60, Budget = TimeSpan.FromMinutes(10) });
            factory.Dispose();
            Assert.All(factory.CleanupReport, line => Assert.DoesNotContain("FAILED", line, StringComparison.Ordinal));
        }

        Assert.True(result.Passed, result.Render());
        Assert.Empty(result.Counterexamples);
        Assert.True(result.Commands >= 1000, result.Render());
        Assert.Equal(result.OutstandingBefore, result.OutstandingAfter);
        Assert.Equal(0, result.CleanupLeaks);
        Assert.Equal(before, Knobs.Select(Read).ToArray());
        Assert.NotNull(dataFile);
        Assert.False(File.Exists(dataFile));
        foreach (var kind in new[] { "uring-register", "dio-read", "dio-write", "vmsplice", "fork", "process_vm_readv", "buffered-read" })
        {
            Assert.True(result.KindCounts.GetValueOrDefault(kind) > 0, $"{kind} never ran");
        }
    }

    [SkippableFact]
    public void The_bias_threshold_is_found_where_the_model_predicts()
    {
        using var factory = LiveOrSkip();
        var run = new LiveConformanceRun(factory);

        // Never pinned: nothing is ever copied.
        var never = run.ExecuteSequence([new LiveThreshold()]);
        Assert.Null(never.FailedAt);
        Assert.Equal("none", never.Observed[0]["threshold"]);

        // After one O_DIRECT read MMF_HAS_PINNED is set: copy at 2 + k + b >= 1024.
        var pinned = run.ExecuteSequence([new LiveMap(0, LiveRegionKind.Small, 1), new LiveDirectIo(false, [new LiveIov(0, 0, 4096)]), new LiveThreshold()]);
        Assert.Null(pinned.FailedAt);
        Assert.Contains(pinned.Observed[2]["threshold"], new[] { "k1022,lru1", "k1021,lru0" });

        // ... but a forked child of that process has not pinned: MMF_HAS_PINNED is not inherited.
        var child = run.ExecuteSequence([new LiveMap(0, LiveRegionKind.Small, 1), new LiveDirectIo(false, [new LiveIov(0, 0, 4096)]), new LiveThreshold(InChild: true)]);
        Assert.Null(child.FailedAt);
        Assert.Equal("none", child.Observed[2]["threshold"]);
    }

    [SkippableTheory]
    [InlineData("zero-page-pinned", "LIVE-DIO-ZERO-PAGE")]
    [InlineData("rfc-2022-dio-write-refs", "LIVE-DIO-PIN")]
    [InlineData("fork-check-before-child-ref", "LIVE-FORK-BIAS-THRESHOLD")]
    public void A_model_of_the_wrong_era_is_caught_with_a_shrunk_counterexample(string seeded, string rule)
    {
        var wrong = seeded switch
        {
            "zero-page-pinned" => LiveProfile.Linux618 with { Id = seeded, ZeroPagePinned = true },
            "rfc-2022-dio-write-refs" => LiveProfile.Rfc2022,
            _ => LiveProfile.Linux618 with { Id = seeded, ForkTakesRefBeforeCheck = false },
        };
        using var factory = LiveOrSkip();
        if (seeded == "zero-page-pinned" && !factory.Environment.ZeroPageOnRead)
        {
            factory.Dispose();
            Skip.If(true, "this machine's kernel maps no zero page on read faults (probed), so whether the zero page is pinned cannot be seen here");
        }

        var result = new LiveConformanceRun(factory, wrong).Run(new LiveRunOptions { Sequences = 60, Length = 40, Seed = 7 });
        Assert.Equal(LiveVerdict.Fail, result.Verdict);
        var c = Assert.Single(result.Counterexamples);
        Assert.True(c.Reproduced, result.Render());
        Assert.Contains(rule, c.ViolatedRules);
        Assert.True(c.Shrunk.Count <= 4, result.Render());
        Assert.True(c.Shrunk.Count < c.Original.Count || c.Original.Count <= 4, result.Render());
        Assert.Equal(result.OutstandingBefore, result.OutstandingAfter);
    }

    /// <summary>A factory that only answers the model's questions (for pure tests of the generator).</summary>
    private sealed class NoKernel(LiveEnvironment env) : ILiveKernelFactory
    {
        public LiveEnvironment Environment => env;

        public IReadOnlyList<string> CleanupReport => [];

        public ILiveKernel Create() => throw new NotSupportedException();

        public long OutstandingPins() => 0;

        public void Dispose()
        {
        }
    }
}
