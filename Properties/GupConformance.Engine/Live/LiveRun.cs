using System.Diagnostics;
using System.Globalization;
using System.Text;
using GupConformance.Oracles.Live;
using GupConformance.Spec;
using GupConformance.Spec.Live;

namespace GupConformance.Engine.Live;

/// <summary>Options of a live run. The defaults are the full live run (≥ 10,000 commands, well under two minutes).</summary>
public sealed record LiveRunOptions
{
    public ulong Seed { get; init; } = 0x6A7E_2026;

    public int Sequences { get; init; } = 200;

    public int Length { get; init; } = 60;

    /// <summary>Stop generating new sequences after this long (the run reports how far it got).</summary>
    public TimeSpan Budget { get; init; } = TimeSpan.FromSeconds(100);

    /// <summary>Candidate executions the shrinker may spend.</summary>
    public int ShrinkBudget { get; init; } = 250;

    /// <summary>Re-executions a failing sequence must fail again before it counts (absorbs other processes' pins).</summary>
    public int Confirmations { get; init; } = 2;

    /// <summary>Stop at the first disagreement (after shrinking it).</summary>
    public bool StopAtFirstFailure { get; init; } = true;

    /// <summary>Set when the run is interrupted (a signal): the run stops where it is and reports Interrupted.</summary>
    public CancellationToken Cancel { get; init; }

    /// <summary>Told "sequence I of N" every <see cref="ProgressEvery"/> sequences (the runner prints it on stderr).</summary>
    public Action<string>? Progress { get; init; }

    public int ProgressEvery { get; init; } = 10;
}

public enum LiveVerdict
{
    Pass,
    Fail,
    NotApplicable,

    /// <summary>Stopped by a signal before it finished: nothing is judged.</summary>
    Interrupted,
}

/// <summary>One step of a counterexample: the command, the model's change, and any mismatching fields.</summary>
public sealed record LiveStepReport(int Index, string Command, string Change, IReadOnlyList<FieldMismatch> Mismatches)
{
    /// <summary>What the kernel showed for the step (every field the fixture reported).</summary>
    public IReadOnlyDictionary<string, string> Observed { get; init; } = new Dictionary<string, string>();
}

public sealed record LiveCounterexample(
    IReadOnlyList<LiveCommand> Original,
    IReadOnlyList<LiveCommand> Shrunk,
    IReadOnlyList<LiveStepReport> Steps,
    IReadOnlyList<string> ViolatedRules,
    int ShrinkRuns,
    bool Reproduced = true);

/// <summary>The outcome of a live run.</summary>
public sealed class LiveRunResult
{
    /// <summary>The options the run was made with (its seed and budget: what replays it).</summary>
    public LiveRunOptions Options { get; init; } = new();

    public required LiveVerdict Verdict { get; set; }

    public required string ProfileId { get; init; }

    public required LiveEnvironment Environment { get; init; }

    public string? Reason { get; init; }

    public long Commands { get; set; }

    public int SequencesRun { get; set; }

    public TimeSpan Elapsed { get; set; }

    public long ChecksCompared { get; set; }

    public Dictionary<string, long> KindCounts { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, long> RuleCounts { get; } = new(StringComparer.Ordinal);

    /// <summary>Per observable (result, dacq, drel, vmpin, base, state, layout, fork, threshold, slots): comparisons made.</summary>
    public Dictionary<string, long> ObservableCounts { get; } = new(StringComparer.Ordinal);

    public List<LiveCounterexample> Counterexamples { get; } = [];

    /// <summary>What the threshold searches found (e.g. "k1022,lru1", "none"), with how often.</summary>
    public Dictionary<string, long> ThresholdsObserved { get; } = new(StringComparer.Ordinal);

    /// <summary>Disagreements that did not happen again when the same sequence was re-executed (machine noise).</summary>
    public List<LiveCounterexample> Unconfirmed { get; } = [];

    /// <summary>Global acquired − released before the run, and after it (must be equal).</summary>
    public long OutstandingBefore { get; set; }

    public long OutstandingAfter { get; set; }

    /// <summary>Sequences after which acquired − released was not back at the baseline.</summary>
    public int CleanupLeaks { get; set; }

    public List<string> Notes { get; } = [];

    /// <summary>Rules this machine cannot judge (<see cref="LiveModel.NotJudgeable"/>), with the reason.</summary>
    public IReadOnlyDictionary<string, string> NotJudgeable { get; init; } = new Dictionary<string, string>();

    public bool Passed => Verdict == LiveVerdict.Pass;

    /// <summary>One rule's verdict in this run: Fail, Pass, Not applicable (with the reason) or Not exercised.</summary>
    public string RuleVerdict(string id) =>
        Counterexamples.Any(c => c.ViolatedRules.Contains(id)) ? "Fail"
        : NotJudgeable.TryGetValue(id, out var why) ? "Not applicable — " + why
        : RuleCounts.GetValueOrDefault(id) > 0 ? "Pass"
        : "Not exercised";

    public string Render()
    {
        static string N(long v) => v.ToString("N0", CultureInfo.InvariantCulture);
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"LiveKernel run — kernel {Environment.KernelRelease}, live profile {ProfileId}, suite {SuiteVersion.Value}");
        if (Verdict == LiveVerdict.NotApplicable)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"Verdict: Not applicable — {Reason}");
            return sb.ToString();
        }

        sb.AppendLine(CultureInfo.InvariantCulture, $"Verdict: {Verdict}{(Reason is null ? string.Empty : " — " + Reason)}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"Commands executed: {N(Commands)} in {N(SequencesRun)} sequences, {Elapsed.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture)} s; observations compared: {N(ChecksCompared)}; disagreements: {N(Counterexamples.Count)} (not reproduced: {N(Unconfirmed.Count)})");
        sb.AppendLine(CultureInfo.InvariantCulture, $"Environment: THP {(Environment.HasThp ? "yes" : "no")}, 64 KiB mTHP {(Environment.HasMthp64 ? "yes" : "no")}, hugetlb pool {Environment.HugetlbPool.ToString(CultureInfo.InvariantCulture)}, zero page on read faults {(Environment.ZeroPageOnRead ? "yes" : "no")}");
        foreach (var (what, value) in Environment.Probes)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"  probed {what}: {value}");
        }

        foreach (var (what, why) in Environment.Missing.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"  Not applicable: {what} — {why}");
        }

        sb.AppendLine(CultureInfo.InvariantCulture, $"acquired − released: {N(OutstandingBefore)} before, {N(OutstandingAfter)} after; sequences leaving pins behind: {CleanupLeaks.ToString(CultureInfo.InvariantCulture)}");
        sb.AppendLine("Commands by kind:");
        foreach (var (k, v) in KindCounts.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"  {k,-18} {N(v),10}");
        }

        sb.AppendLine("Observables checked:");
        foreach (var (k, v) in ObservableCounts.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"  {k,-18} {N(v),10}");
        }

        if (ThresholdsObserved.Count > 0)
        {
            sb.AppendLine("Bias threshold searches (smallest k of plain references at which fork copies; model: k1022,lru1 or k1021,lru0 once the mm has pinned, none otherwise):");
            foreach (var (k, v) in ThresholdsObserved.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                sb.AppendLine(CultureInfo.InvariantCulture, $"  {k,-18} {N(v),10}");
            }
        }

        sb.AppendLine("Rules (times exercised):");
        foreach (var rule in LiveRules.All)
        {
            var n = RuleCounts.GetValueOrDefault(rule.Id);
            var verdict = RuleVerdict(rule.Id);
            sb.AppendLine(verdict.StartsWith("Not applicable", StringComparison.Ordinal)
                ? $"  {rule.Id,-28} {verdict}"
                : string.Create(CultureInfo.InvariantCulture, $"  {rule.Id,-28} {verdict,-14} {N(n),10}"));
        }

        foreach (var c in Counterexamples)
        {
            sb.AppendLine();
            sb.AppendLine(CultureInfo.InvariantCulture, $"Counterexample{(c.Reproduced ? string.Empty : " (NOT REPRODUCED on re-execution: shown as first observed)")} ({c.Original.Count.ToString(CultureInfo.InvariantCulture)} commands shrunk to {c.Shrunk.Count.ToString(CultureInfo.InvariantCulture)} in {c.ShrinkRuns.ToString(CultureInfo.InvariantCulture)} runs), violating {string.Join(", ", c.ViolatedRules)}:");
            foreach (var s in c.Steps)
            {
                sb.AppendLine(CultureInfo.InvariantCulture, $"  {s.Index.ToString(CultureInfo.InvariantCulture),3}. {s.Command}");
                sb.AppendLine(CultureInfo.InvariantCulture, $"       model: {s.Change}");
                foreach (var m in s.Mismatches)
                {
                    sb.AppendLine(CultureInfo.InvariantCulture, $"       MISMATCH {m.Field}: observed {m.Observed ?? Oracles.FieldCheck.Absent}, allowed {string.Join(" | ", m.Allowed)} [{string.Join(", ", m.Rules)}]");
                }
            }

            foreach (var id in c.ViolatedRules)
            {
                if (LiveRules.Find(id) is { } rule)
                {
                    sb.AppendLine(CultureInfo.InvariantCulture, $"  {id}: if this fails, check {rule.IfFails}");
                }
            }
        }

        foreach (var c in Unconfirmed)
        {
            sb.AppendLine();
            sb.AppendLine(CultureInfo.InvariantCulture, $"Disagreement NOT reproduced on {c.ShrinkRuns.ToString(CultureInfo.InvariantCulture)} re-executions (not counted; something else on the machine?), violating {string.Join(", ", c.ViolatedRules)}:");
            foreach (var s in c.Steps.Where(s => s.Mismatches.Count > 0))
            {
                sb.AppendLine(CultureInfo.InvariantCulture, $"  {s.Index.ToString(CultureInfo.InvariantCulture),3}. {s.Command}");
                foreach (var m in s.Mismatches)
                {
                    sb.AppendLine(CultureInfo.InvariantCulture, $"       MISMATCH {m.Field}: observed {m.Observed ?? Oracles.FieldCheck.Absent}, allowed {string.Join(" | ", m.Allowed)}");
                }
            }
        }

        foreach (var n in Notes)
        {
            sb.AppendLine(n);
        }

        return sb.ToString();
    }
}

/// <summary>
/// The live run: generated sequences of live commands, executed serially on the running kernel (the counters are
/// global) and step by step against <see cref="LiveModel"/>; a disagreement is shrunk (ddmin) on the kernel.
/// </summary>
public sealed class LiveConformanceRun(ILiveKernelFactory factory, LiveProfile? profile = null)
{
    private readonly LiveProfile? _profile = profile ?? LiveProfile.ForKernel(factory.Environment.KernelRelease);

    public LiveRunResult Run(LiveRunOptions options)
    {
        var env = factory.Environment;
        if (!env.Available || _profile is null)
        {
            return new LiveRunResult
            {
                Verdict = LiveVerdict.NotApplicable,
                ProfileId = _profile?.Id ?? "(none)",
                Environment = env,
                Reason = env.NotApplicableReason ?? $"no live profile matches kernel {env.KernelRelease} (live profiles cover 6.4 and 6.5+)",
            };
        }

        var result = new LiveRunResult { Verdict = LiveVerdict.Pass, ProfileId = _profile.Id, Environment = env, NotJudgeable = LiveModel.NotJudgeable(env), Options = options };
        var clock = Stopwatch.StartNew();
        try
        {
            RunSequences(options, result, clock);
        }
        catch (Exception e) when (e is OperationCanceledException or InvalidOperationException or IOException or TimeoutException && Interrupted(options.Cancel))
        {
            // The helper was ended under a command by the interrupt: not an observation of the kernel.
        }

        if (options.Cancel.IsCancellationRequested)
        {
            result.Verdict = LiveVerdict.Interrupted;
            result.Elapsed = clock.Elapsed;
            result.Notes.Add($"Interrupted after {result.SequencesRun.ToString(CultureInfo.InvariantCulture)} sequences: nothing is judged.");
            return result;
        }

        result.OutstandingAfter = factory.OutstandingPins();
        if (result.OutstandingAfter != result.OutstandingBefore || result.CleanupLeaks > 0)
        {
            result.Verdict = LiveVerdict.Fail;
            result.Notes.Add("acquired − released did not return to its value before the run");
        }

        result.Elapsed = clock.Elapsed;
        return result;
    }

    /// <summary>
    /// Whether a failing helper is explained by an interrupt. Ctrl+C reaches the whole process group at once, so the
    /// helper may die of it a moment before the runner's own handler has marked the run interrupted: wait briefly.
    /// </summary>
    private static bool Interrupted(CancellationToken cancel) => cancel.CanBeCanceled && cancel.WaitHandle.WaitOne(TimeSpan.FromSeconds(2));

    private void RunSequences(LiveRunOptions options, LiveRunResult result, Stopwatch clock)
    {
        var env = factory.Environment;
        result.OutstandingBefore = factory.OutstandingPins();
        var generator = new LiveGenerator(_profile!, env);
        for (var i = 0; i < options.Sequences && clock.Elapsed < options.Budget && !options.Cancel.IsCancellationRequested; i++)
        {
            var rng = new Prng(Prng.Derive(options.Seed, (ulong)i));
            var actions = generator.Generate(rng, options.Length, allowThreshold: i % 8 == 0);
            var outcome = Execute(actions, result);
            result.SequencesRun++;
            if (options.Progress is { } progress && options.ProgressEvery > 0 && result.SequencesRun % options.ProgressEvery == 0)
            {
                progress($"live: sequence {result.SequencesRun.ToString(CultureInfo.InvariantCulture)} of {options.Sequences.ToString(CultureInfo.InvariantCulture)}, {result.Commands.ToString(CultureInfo.InvariantCulture)} commands");
            }

            if (!WaitForBaseline(result.OutstandingBefore))
            {
                result.CleanupLeaks++;
            }

            if (outcome.FailedAt is { } failedAt && !Reproduces(actions, options.Confirmations))
            {
                // Something else on the machine (another process pinning, a transient reference) made one execution
                // disagree; the same sequence agreed on re-execution. Reported, not counted as a disagreement.
                result.Unconfirmed.Add(new LiveCounterexample(actions, actions.Take(failedAt + 1).ToList(), outcome.Steps, outcome.Violated, options.Confirmations, Reproduced: false));
                continue;
            }

            if (outcome.FailedAt is { } failedAt2)
            {
                result.Verdict = LiveVerdict.Fail;
                result.Counterexamples.Add(Shrink(actions, failedAt2, outcome.Violated, options.ShrinkBudget, outcome.Steps));
                if (options.StopAtFirstFailure)
                {
                    break;
                }
            }
        }

        if (result.SequencesRun < options.Sequences && result.Verdict != LiveVerdict.Fail && !options.Cancel.IsCancellationRequested && clock.Elapsed >= options.Budget)
        {
            // Said in the report: how far a run gets depends on the machine's speed, so the same seed on a slower
            // machine (a VM under TCG) runs fewer of the same sequences.
            result.Notes.Add($"The time budget ({options.Budget.TotalSeconds.ToString("0", CultureInfo.InvariantCulture)} s, --time-budget) ended the run after {result.SequencesRun.ToString(CultureInfo.InvariantCulture)} of {options.Sequences.ToString(CultureInfo.InvariantCulture)} sequences; the others were not run.");
        }
    }

    /// <summary>True when every one of <paramref name="times"/> re-executions disagrees again.</summary>
    private bool Reproduces(IReadOnlyList<LiveCommand> actions, int times)
    {
        for (var i = 0; i < times; i++)
        {
            if (Execute(actions, null).FailedAt is null)
            {
                return false;
            }
        }

        return true;
    }

    private bool WaitForBaseline(long baseline)
    {
        for (var i = 0; i < 200; i++)
        {
            if (factory.OutstandingPins() == baseline)
            {
                return true;
            }

            Thread.Sleep(5);
        }

        return false;
    }

    private sealed record Outcome(int? FailedAt, IReadOnlyList<string> Violated, IReadOnlyList<LiveStepReport> Steps, IReadOnlyList<IReadOnlyDictionary<string, string>> Observed);

    /// <summary>Executes one given sequence (it must be valid for the model) and returns, per step, the observation and
    /// the mismatches; <c>FailedAt</c> is the first step the model does not allow.</summary>
    public (int? FailedAt, IReadOnlyList<string> Violated, IReadOnlyList<LiveStepReport> Steps, IReadOnlyList<IReadOnlyDictionary<string, string>> Observed) ExecuteSequence(IReadOnlyList<LiveCommand> actions)
    {
        if (_profile is null || !factory.Environment.Available)
        {
            throw new InvalidOperationException("live kernel not applicable");
        }

        if (!IsValid(actions))
        {
            throw new ArgumentException("the model refuses this sequence", nameof(actions));
        }

        var o = Execute(actions, null);
        return (o.FailedAt, o.Violated, o.Steps, o.Observed);
    }

    /// <summary>Runs one sequence on a fresh session; stops at the first step whose observation the model does not allow.</summary>
    private Outcome Execute(IReadOnlyList<LiveCommand> actions, LiveRunResult? stats)
    {
        var state = LiveModel.Init(_profile!, factory.Environment);
        var steps = new List<LiveStepReport>();
        var observations = new List<IReadOnlyDictionary<string, string>>();
        using var session = factory.Create();
        for (var i = 0; i < actions.Count; i++)
        {
            var cmd = actions[i];
            var outcome = LiveModel.Step(state, cmd);
            var observed = session.Execute(cmd);
            observations.Add(observed);
            var mismatches = new List<FieldMismatch>();
            foreach (var check in outcome.Checks)
            {
                var value = observed.GetValueOrDefault(check.Field);
                if (stats is not null)
                {
                    var key = check.Field.Split('.')[0];
                    stats.ObservableCounts[key] = stats.ObservableCounts.GetValueOrDefault(key) + 1;
                    stats.ChecksCompared++;
                }

                if (!check.Accepts(value))
                {
                    mismatches.Add(new FieldMismatch(cmd.ToString(), check.Field, value, check.Allowed, check.Rules));
                }
            }

            if (stats is not null)
            {
                if (cmd is LiveThreshold && observed.TryGetValue("threshold", out var th))
                {
                    stats.ThresholdsObserved[th] = stats.ThresholdsObserved.GetValueOrDefault(th) + 1;
                }

                stats.Commands++;
                var kind = Kind(cmd);
                stats.KindCounts[kind] = stats.KindCounts.GetValueOrDefault(kind) + 1;
                foreach (var r in outcome.Exercised)
                {
                    stats.RuleCounts[r] = stats.RuleCounts.GetValueOrDefault(r) + 1;
                }
            }

            steps.Add(new LiveStepReport(i, cmd.ToString(), outcome.Change, mismatches) { Observed = observed });
            if (mismatches.Count > 0)
            {
                return new Outcome(i, [.. mismatches.SelectMany(m => m.Rules).Distinct().Order(StringComparer.Ordinal)], steps, observations);
            }

            state = outcome.Next;
        }

        return new Outcome(null, [], steps, observations);
    }

    public static string Kind(LiveCommand c) => c switch
    {
        LiveMap m => "map-" + m.Kind.ToString().ToLowerInvariant(),
        LiveTouch t => t.Write ? "touch-write" : "touch-read",
        LiveUnmap => "munmap",
        LiveRingSetup => "ring-setup",
        LiveRingClose => "ring-close",
        LiveRegister => "uring-register",
        LiveUnregister => "uring-unregister",
        LiveDirectIo d => d.Write ? "dio-write" : "dio-read",
        LiveBufferedIo b => b.Write ? "buffered-write" : "buffered-read",
        LivePipeOpen => "pipe-open",
        LiveVmsplice => "vmsplice",
        LivePipeClose => "pipe-close",
        LiveProcessVm p => p.Write ? "process_vm_writev" : "process_vm_readv",
        LiveFork => "fork",
        LiveThreshold => "fork-threshold",
        LiveInspect => "inspect",
        _ => c.GetType().Name,
    };

    /// <summary>True when the model accepts every command in order from its initial state.</summary>
    public bool IsValid(IReadOnlyList<LiveCommand> actions)
    {
        var state = LiveModel.Init(_profile!, factory.Environment);
        foreach (var a in actions)
        {
            if (LiveModel.Precondition(state, a) is not null)
            {
                return false;
            }

            state = LiveModel.Step(state, a).Next;
        }

        return true;
    }

    /// <summary>ddmin-style chunk removal, each candidate executed on the kernel; keeps candidates that still disagree
    /// on one of the originally violated rules.</summary>
    public LiveCounterexample Shrink(IReadOnlyList<LiveCommand> original, int failedAt, IReadOnlyList<string> violated, int budget, IReadOnlyList<LiveStepReport>? originalSteps = null)
    {
        var current = original.Take(failedAt + 1).ToList();
        var runs = 0;
        var last = Execute(current, null);
        runs++;
        if (last.FailedAt is null)
        {
            current = [.. original];
            last = Execute(current, null);
            runs++;
        }

        if (last.FailedAt is null)
        {
            // Not reproduced: report the original failing execution as it was observed.
            return new LiveCounterexample(original, original.Take(failedAt + 1).ToList(), originalSteps ?? last.Steps, violated, runs, Reproduced: false);
        }

        var progress = true;
        while (progress && runs < budget)
        {
            progress = false;
            for (var chunk = Math.Max(1, current.Count / 2); chunk >= 1 && !progress; chunk /= 2)
            {
                for (var start = 0; start + chunk <= current.Count && runs < budget; start += chunk)
                {
                    var candidate = current.Take(start).Concat(current.Skip(start + chunk)).ToList();
                    if (candidate.Count == 0 || !IsValid(candidate))
                    {
                        continue;
                    }

                    var o = Execute(candidate, null);
                    runs++;
                    if (o.FailedAt is { } k && o.Violated.Intersect(violated).Any())
                    {
                        current = candidate.Take(k + 1).ToList();
                        last = o;
                        progress = true;
                        break;
                    }
                }

                if (chunk == 1)
                {
                    break;
                }
            }
        }

        return new LiveCounterexample(original, current, last.Steps, last.Violated.Count > 0 ? last.Violated : violated, runs);
    }
}
