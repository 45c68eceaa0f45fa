using GupConformance.Spec;

namespace GupConformance.Engine;

/// <summary>A rule's verdict in one run.</summary>
public enum Outcome
{
    Pass,
    Fail,
    NotApplicable,
    ExpectedDivergence,
}

/// <summary>One rule's verdict: its outcome, how often it was exercised and violated, and why.</summary>
public sealed record RuleVerdict(Rule Rule, Outcome Outcome, long Exercised, long Violations, string Note);

/// <summary>What kind of failure a counterexample shows.</summary>
public enum FailureKind
{
    /// <summary>An observation outside what the model allows, for a rule not declared as an expected divergence.</summary>
    Divergence,

    /// <summary>The implementation threw.</summary>
    Crash,

    /// <summary>The implementation did not return within the per-command time limit.</summary>
    Timeout,

    /// <summary>The model threw on a valid command: a bug of the model.</summary>
    ModelError,

    /// <summary>A command the model refused reached the executor (an engine bug).</summary>
    Invalid,
}

/// <summary>The failure kind of a failing sequence's status: one mapping for runs, replays and FsCheck properties.</summary>
internal static class FailureKinds
{
    public static FailureKind Of(SequenceStatus status) => status switch
    {
        SequenceStatus.Crashed => FailureKind.Crash,
        SequenceStatus.TimedOut => FailureKind.Timeout,
        SequenceStatus.ModelError => FailureKind.ModelError,
        SequenceStatus.Invalid => FailureKind.Invalid,
        _ => FailureKind.Divergence,
    };
}

/// <summary>Options of a conformance run.</summary>
public sealed record RunOptions
{
    public const ulong DefaultSeed = 1;
    public const int DefaultSequences = 200;
    public const int DefaultLength = 40;
    public const int DefaultTimeoutMs = 5000;

    /// <summary>The run seed: it fixes FsCheck's random stream, hence every sequence seed and the whole report.</summary>
    public ulong Seed { get; init; } = DefaultSeed;

    /// <summary>How many sequences to run (shrinking runs are extra).</summary>
    public int Sequences { get; init; } = DefaultSequences;

    /// <summary>Actions per sequence (fixed; FsCheck's size does not change it).</summary>
    public int Length { get; init; } = DefaultLength;

    /// <summary>How long one call into the implementation may take before the run gives up on it.</summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromMilliseconds(DefaultTimeoutMs);

    /// <summary>Called after every counted sequence and while shrinking (on the running thread).</summary>
    public Action<RunProgress>? Progress { get; init; }

    /// <summary>How many distinct failures are shrunk and reported as counterexamples.</summary>
    public int MaxCounterexamples { get; init; } = 3;

    /// <summary>How many candidate executions one shrink may use.</summary>
    public int MaxShrinkRuns { get; init; } = 1500;

    /// <summary>How long one shrink may take; past it the shortest failing sequence found so far is reported, marked
    /// as cut short (an implementation whose every answer is slow or huge cannot keep the run going for ever).</summary>
    public TimeSpan MaxShrinkTime { get; init; } = TimeSpan.FromSeconds(60);

    public GeneratorWeights? Weights { get; init; }

    /// <summary>Stop once the first failure has been shrunk (and refined, see <see cref="ShrinkAttempts"/>).</summary>
    public bool StopAtFirstFailure { get; init; }

    /// <summary>How many failing sequences showing the same failure are shrunk at most; the shortest counterexample is
    /// kept. Fewer are when <see cref="ConformanceRun.RefinePatience"/> shrinks in a row have found nothing shorter.</summary>
    public int ShrinkAttempts { get; init; } = 6;

    /// <summary>The runner's name for the implementation (its --impl value), for the replay command line.</summary>
    public string? ImplementationId { get; init; }

    /// <summary>
    /// The regression corpus folder (see <see cref="RegressionCorpus"/>): its traces for this profile are replayed
    /// before any generation, and every new counterexample is written there as a trace. Null: no corpus.
    /// </summary>
    public string? CorpusDirectory { get; init; }

    /// <summary>Run only this shard's share of the sequences (<see cref="RunShard"/>); null: all of them.</summary>
    public RunShard? Shard { get; init; }
}

/// <summary>Progress of a run.</summary>
public sealed record RunProgress(string ProfileId, int SequencesDone, int SequencesTotal, int FailingSequences, bool Shrinking, TimeSpan Elapsed);

/// <summary>A minimal failing sequence with everything needed to understand and replay it.</summary>
public sealed record Counterexample
{
    /// <summary>
    /// The counterexample of <paramref name="commands"/> as run <paramref name="r"/> saw it: its kind, steps, mismatches,
    /// the rules it violated (those the manifest does not <paramref name="declared"/> as expected divergences kept apart)
    /// and their cause. Runs, trace replay and FsCheck properties add where it came from.
    /// </summary>
    public static Counterexample Of(SequenceResult r, IReadOnlyList<Command> commands, IReadOnlySet<string> declared, int number,
        string implementation, string profileId, ulong runSeed, string replayCommand, int originalLength, int shrinkRuns)
    {
        ArgumentNullException.ThrowIfNull(r);
        ArgumentNullException.ThrowIfNull(declared);
        return new Counterexample
        {
            Number = number,
            Implementation = implementation,
            ProfileId = profileId,
            RunSeed = runSeed,
            ReplayCommand = replayCommand,
            Kind = FailureKinds.Of(r.Status),
            OriginalLength = originalLength,
            ShrinkRuns = shrinkRuns,
            Commands = commands,
            Steps = r.Trace,
            FailedAction = r.FailedAction,
            FailedCommand = r.FailedCommand,
            Mismatches = r.Mismatches,
            ViolatedRules = r.ViolatedRules,
            UnexpectedRules = [.. r.ViolatedRules.Where(id => !declared.Contains(id))],
            Message = r.Message,
            Cause = r.Cause,
            CauseAlsoFits = r.CauseAlsoFits,
        };
    }

    public required int Number { get; init; }

    public required string Implementation { get; init; }

    public required string ProfileId { get; init; }

    public required ulong RunSeed { get; init; }

    /// <summary>The seed the generator built the original (unshrunk) sequence from.</summary>
    public ulong? SequenceSeed { get; init; }

    public required string ReplayCommand { get; init; }

    public required FailureKind Kind { get; init; }

    public required int OriginalLength { get; init; }

    public required int ShrinkRuns { get; init; }

    /// <summary>Why shrinking stopped before it had tried every candidate (its run or time budget), or null when it
    /// finished: then the counterexample is the shortest found, not necessarily minimal.</summary>
    public string? ShrinkCutShort { get; init; }

    public required IReadOnlyList<Command> Commands { get; init; }

    /// <summary>The actions with the model's change at each (up to and including the failing one).</summary>
    public required IReadOnlyList<StepTrace> Steps { get; init; }

    public int? FailedAction { get; init; }

    public string? FailedCommand { get; init; }

    public IReadOnlyList<FieldMismatch> Mismatches { get; init; } = [];

    /// <summary>Every rule id a mismatch names, in the order their checks failed (the cause first).</summary>
    public IReadOnlyList<string> ViolatedRules { get; init; } = [];

    /// <summary>The violated rules not declared as expected divergences, in the same order.</summary>
    public IReadOnlyList<string> UnexpectedRules { get; init; } = [];

    /// <summary>
    /// The rule broken first: the first rule of the first check that failed at the divergent step, skipping declared
    /// expected divergences. Every other violated rule failed after it, as a consequence or beside it.
    /// </summary>
    public string? Cause
    {
        get => _cause is not null && (UnexpectedRules.Count == 0 || UnexpectedRules.Contains(_cause, StringComparer.Ordinal))
            ? _cause
            : UnexpectedRules.Count > 0 ? UnexpectedRules[0] : ViolatedRules.Count > 0 ? ViolatedRules[0] : null;
        init => _cause = value;
    }

    private readonly string? _cause;

    /// <summary>Rules the first failing count's difference fits as well as <see cref="Cause"/> (a tie the count cannot
    /// break); empty unless the cause is the one the run chose.</summary>
    public IReadOnlyList<string> CauseAlsoFits
    {
        get => string.Equals(_cause, Cause, StringComparison.Ordinal) ? _alsoFits : [];
        init => _alsoFits = value;
    }

    private readonly IReadOnlyList<string> _alsoFits = [];

    /// <summary>The violated rules after the cause, in the order their checks failed.</summary>
    public IReadOnlyList<string> Consequences => [.. ViolatedRules.Where(id => !string.Equals(id, Cause, StringComparison.Ordinal))];

    public string? Message { get; init; }

    /// <summary>False when the minimal sequence no longer failed when replayed for the report (a flaky implementation):
    /// the counterexample then shows the failure as it was first seen, and <see cref="NotReproducedNote"/> says so.</summary>
    public bool Reproduced { get; init; } = true;

    /// <summary>For a failure that did not happen again: what was seen once and what the re-run did.</summary>
    public string? NotReproducedNote { get; init; }

    /// <summary>The corpus trace this counterexample was replayed from (null: found by generation).</summary>
    public string? FromTrace { get; init; }

    /// <summary>The trace file this counterexample was written to (null: no corpus).</summary>
    public string? TracePath { get; init; }

    /// <summary>The command line that replays <see cref="TracePath"/> (or <see cref="FromTrace"/>), if any.</summary>
    public string? TraceReplayCommand => (TracePath ?? FromTrace) is { } path ? RegressionCorpus.ReplayCommand(path) : null;
}

/// <summary>One edge-case target of a run and how many generated sequences reached it.</summary>
public sealed record EdgeCoverage(string Label, Coverage.EdgeFamily Family, long Sequences);

/// <summary>Everything a run found.</summary>
public sealed record RunResult
{
    public required string Implementation { get; init; }

    public required Profile Profile { get; init; }

    public required CapabilityManifest Manifest { get; init; }

    public required RunOptions Options { get; init; }

    /// <summary>The replay command line for the whole run.</summary>
    public required string ReplayCommand { get; init; }

    /// <summary>One verdict per catalogue rule, in catalogue order.</summary>
    public required IReadOnlyList<RuleVerdict> Verdicts { get; init; }

    /// <summary>Per rule id (ordinal order): steps that exercised it, over the counted sequences.</summary>
    public required IReadOnlyDictionary<string, long> ExercisedByRule { get; init; }

    /// <summary>Per command kind: commands executed (implicit inspections included).</summary>
    public required IReadOnlyDictionary<string, long> CommandsByKind { get; init; }

    /// <summary>Per command kind, per rule id: exercise counts.</summary>
    public required IReadOnlyDictionary<string, IReadOnlyDictionary<string, long>> ExercisedByKind { get; init; }

    public required IReadOnlyList<Counterexample> Counterexamples { get; init; }

    /// <summary>Failures not tied to a rule: crashes, time-outs, model errors, manifest problems.</summary>
    public required IReadOnlyList<string> Problems { get; init; }

    public required int SequencesRun { get; init; }

    /// <summary>Sequences that failed (unexpectedly) among those run.</summary>
    public required int FailingSequences { get; init; }

    /// <summary>Sequences that ended in a declared expected divergence.</summary>
    public required int ExpectedDivergenceSequences { get; init; }

    public required long CommandsExecuted { get; init; }

    /// <summary>Extra executions spent shrinking.</summary>
    public required long ShrinkRuns { get; init; }

    public required TimeSpan Elapsed { get; init; }

    /// <summary>
    /// The edge cases of the generator's coverage steering (<see cref="Coverage.EdgeCases"/>): every target of the
    /// profile and facets, in target order, with the generated sequences that reached it (0: never).
    /// </summary>
    public IReadOnlyList<EdgeCoverage> EdgeCases { get; init; } = [];

    /// <summary>Corpus traces replayed before generation (not counted in <see cref="SequencesRun"/>).</summary>
    public int CorpusReplayed { get; init; }

    /// <summary>Things the user should fix that say nothing about the implementation (e.g. a damaged corpus file that
    /// was skipped): reported, never part of the verdict.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>Every failing sequence of the stream that was run, in stream order (for shards and their merge).</summary>
    public IReadOnlyList<FailingSequence> Failures { get; init; } = [];

    /// <summary>Per counterexample (same order): the stream position it was found at (-1: corpus) and its target failure.</summary>
    public IReadOnlyList<CounterexampleOrigin> CounterexampleOrigins { get; init; } = [];

    /// <summary>Failures tied to no rule, by kind ("timeout", "crash:T", ...): sequences that showed them.</summary>
    public IReadOnlyDictionary<string, long> ProblemCounts { get; init; } = new SortedDictionary<string, long>(StringComparer.Ordinal);

    public bool Conformant => Problems.Count == 0 && Verdicts.All(v => v.Outcome != Outcome.Fail);

    public int Count(Outcome o) => Verdicts.Count(v => v.Outcome == o);
}
