using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using FsCheck;
using FsCheck.Fluent;
using GupConformance.Spec;
using Microsoft.FSharp.Collections;
using Microsoft.FSharp.Core;

namespace GupConformance.Engine;

/// <summary>
/// A conformance run of one implementation under one profile.
/// <para>
/// Seeds and replay: the run seed (<see cref="RunOptions.Seed"/>) becomes FsCheck's replay seed
/// (<see cref="FsCheckRnd"/>). FsCheck's generator draws one 64-bit sequence seed per test (size-independent,
/// from four <c>Gen.Choose(0, 0xFFFF)</c>), and <see cref="SequenceGenerator"/> turns it into a fixed-length
/// sequence with its own xoshiro256** PRNG. So (implementation, profile, seed, sequences, length) fix every
/// sequence, every shrink and the whole report: rerunning the printed command line replays it byte for byte.
/// </para>
/// <para>
/// The property is "the sequence does not fail": an observation outside the model's allowed values for a rule
/// that the manifest does not declare as an expected divergence, an exception, or a time-out. A failure whose
/// kind was already captured is counted but does not falsify (so the run goes on covering); a new one falsifies,
/// FsCheck shrinks it with <see cref="Shrinker"/> (a candidate counts as failing only if it fails with at least
/// one of the originally violated rule ids, or the same crash/time-out), and the last failing input the property
/// saw is re-run with tracing into a <see cref="Counterexample"/>. The run then resumes right after the failing sequence
/// in the same stream (FsCheck is started again from the run seed and the sequences already run are skipped without
/// being generated again), until the budget is spent. So sequence i of a run is the same whatever failed before it,
/// which is what makes a share of the run well-defined (<see cref="RunShard"/>): every shard generates the whole
/// stream (coverage steering makes a sequence depend on those before it) and executes only its own positions.
/// </para>
/// <para>
/// The sequences are generated in order, each while the one before it is checked (<see cref="SequenceStream"/>, from the
/// seeds the same FsCheck configuration draws): on two cores, the run's thread generates sequence i + 1 while the
/// guarded worker checks sequence i and then counts it.
/// </para>
/// </summary>
public static partial class ConformanceRun
{
    /// <summary>
    /// A failure's counterexample is refined (another failing sequence showing it shrunk, the shorter kept) until
    /// <see cref="RunOptions.ShrinkAttempts"/> sequences have been shrunk for it, or until this many shrinks in a row
    /// found nothing shorter. The first shrink is the minimum in most runs: over the kill matrix (80 bugs, 20 seeds
    /// each, six attempts) no counterexample got shorter after four fruitless shrinks in a row, and stopping there
    /// saves one shrink in six where the first was already the shortest.
    /// </summary>
    public const int RefinePatience = 4;

    public static RunResult Run(IImplementationFactory factory, Profile profile, RunOptions options)
    {
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Sequences <= 0 || options.Length <= 0)
        {
            throw new ArgumentException("sequences and length must be positive", nameof(options));
        }

        var manifest = factory.ManifestFor(profile)
            ?? throw new ArgumentException($"implementation '{factory.Name}' does not claim profile '{profile.Id}'", nameof(profile));
        using var session = new Session(factory, profile, manifest, options);
        return session.Run();
    }

    /// <summary>What decides the sequence seeds FsCheck draws for a run: the run seed replayed, one test per sequence.</summary>
    internal static Config SeedConfig(RunOptions options) => Config.Quick
        .WithMaxTest(options.Sequences)
        .WithReplay(FSharpOption<Replay>.Some(new Replay(FsCheckRnd(options.Seed), FSharpOption<int>.None)));

    /// <summary>FsCheck's SplitMix state for a run seed: the seed itself, and an odd gamma derived from it.</summary>
    public static Rnd FsCheckRnd(ulong seed) => new(seed, Prng.Derive(seed, 0x67616D6D61) | 1);

    /// <summary>The replay command line for a run (the implementation id quoted as one shell word: a process plugin's is a path).</summary>
    public static string ReplayCommand(string implementation, Profile profile, RunOptions options)
    {
        static string N(long v) => v.ToString(CultureInfo.InvariantCulture);
        var s = $"gupconformance --profile {profile.Id} --impl {RegressionCorpus.Quote(implementation)} --seed {options.Seed.ToString(CultureInfo.InvariantCulture)} --sequences {N(options.Sequences)} --length {N(options.Length)}";
        var ms = (long)options.CommandTimeout.TotalMilliseconds;
        s = ms == RunOptions.DefaultTimeoutMs ? s : s + $" --timeout-ms {N(ms)}";
        return options.Shard is { } shard ? s + " --shard " + shard : s;
    }

    /// <summary>How the report words a failure tied to no rule ("timeout", "crash:T", "model-error:T", "invalid").</summary>
    public static string DescribeProblem(string kind) => Session.Describe(kind);

    /// <summary>The verdict of every catalogue rule from the run's counts.</summary>
    public static IReadOnlyList<RuleVerdict> Verdicts(
        Profile profile,
        CapabilityManifest manifest,
        IReadOnlyDictionary<string, long> exercised,
        IReadOnlyDictionary<string, long> unexpected,
        IReadOnlyDictionary<string, long> expected)
    {
        var facets = manifest.Facets & profile.Facets;
        var declared = manifest.Divergences.GroupBy(d => d.RuleId, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var list = new List<RuleVerdict>();
        foreach (var rule in Rules.All)
        {
            var ex = exercised.GetValueOrDefault(rule.Id);
            var bad = unexpected.GetValueOrDefault(rule.Id);
            var exp = expected.GetValueOrDefault(rule.Id);
            RuleVerdict v;
            if (bad > 0)
            {
                // A divergence fails the rule even where it should not apply: the run must not look conformant.
                var why = !rule.AppliesTo(profile) ? $" (though not in profile {profile.Id})"
                    : (rule.Facet & facets) != rule.Facet ? $" (though facet {rule.Facet} is not declared)" : string.Empty;
                v = new(rule, Outcome.Fail, ex, bad + exp, $"violated in {bad.ToString(CultureInfo.InvariantCulture)} sequence(s){why}");
            }
            else if (!rule.AppliesTo(profile))
            {
                v = new(rule, Outcome.NotApplicable, ex, bad + exp, $"not in profile {profile.Id}");
            }
            else if ((rule.Facet & facets) != rule.Facet)
            {
                v = new(rule, Outcome.NotApplicable, ex, bad + exp, $"needs facet {rule.Facet}");
            }
            else if (declared.TryGetValue(rule.Id, out var d))
            {
                v = exp > 0
                    ? new(rule, Outcome.ExpectedDivergence, ex, exp, $"declared: {d.Reason}")
                    : ex == 0
                        ? new(rule, Outcome.Fail, ex, 0, "never exercised (a divergence is declared for it)")
                        : new(rule, Outcome.Fail, ex, 0, $"expected divergence disappeared (declared: {d.Reason})");
            }
            else if (ex == 0)
            {
                v = new(rule, Outcome.Fail, 0, 0, "never exercised");
            }
            else
            {
                v = new(rule, Outcome.Pass, ex, 0, string.Empty);
            }

            list.Add(v);
        }

        return list;
    }

    private sealed partial class Session : IDisposable
    {
        private readonly IImplementationFactory _factory;
        private readonly Profile _profile;
        private readonly CapabilityManifest _manifest;
        private readonly RunOptions _options;
        private readonly Facet _facets;
        private readonly HashSet<string> _declared;
        private readonly SequenceGenerator _generator;
        private readonly Shrinker _shrinker;
        private readonly SequenceExecutor _executor;
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly string _implId;

        private readonly CommandTally _tally = new();
        private readonly Dictionary<string, long> _unexpected = new(StringComparer.Ordinal);
        private readonly Dictionary<string, long> _expected = new(StringComparer.Ordinal);
        private readonly List<string> _problems = [];
        private readonly List<string> _warnings = [];
        private readonly Dictionary<string, long> _problemCounts = new(StringComparer.Ordinal);
        private readonly HashSet<string> _captured = new(StringComparer.Ordinal);
        private readonly List<Counterexample> _counterexamples = [];
        private readonly ConditionalWeakTable<Command[], SequenceInfo> _info = [];
        private readonly Coverage.EdgeTally _edges;
        private SequenceStream? _stream;

        // While the worker checks a sequence, this thread generates the next one; the worker then counts the sequence it
        // checked (SequenceExecutor.Execute's afterwards). Counting went to the worker when, measured before the benchmark
        // waited for tiered compilation, generation looked the longer half; measured settled, counting on this thread
        // instead (in the next sequence's meanwhile) made no difference (mean 82.2 against 79.7 ms), so it stayed.
        private readonly Action _prefetch;
        private readonly Action<SequenceResult> _count;

        private int _done;
        private int _failing;
        private int _expectedSequences;
        private long _commands;
        private long _shrinkRuns;

        // Per FsCheck round.
        private int _countedThisRound;
        private bool _shrinking;
        private HashSet<string>? _target;
        private Command[]? _lastFailing;
        private int _originalLength;
        private int _roundShrinkRuns;
        private TimeSpan _roundShrinkStart;
        private string? _roundCutShort;

        // Each counterexample's target (the failure it stands for), how many failing sequences were shrunk for it, and how
        // many of the last shrinks in a row found nothing shorter than the counterexample kept.
        private readonly List<HashSet<string>> _targets = [];
        private readonly List<int> _attempts = [];
        private readonly List<int> _fruitless = [];
        private int _refining = -1;

        private bool Refined(int i) => _attempts[i] >= _options.ShrinkAttempts || _fruitless[i] >= RefinePatience;

        // The run's sequence stream: position of the next generated sequence in this round, the first position not yet
        // run, sequences generated but not yet run (by position), and every failing sequence run.
        private int _position;
        private int _resume;
        private int _roundFailedAt = -1;
        private readonly Dictionary<int, Command[]> _pending = [];
        private int _generatedUpTo = -1;
        private readonly List<FailingSequence> _failures = [];
        private readonly List<(int Position, IReadOnlyList<string> Target)> _origins = [];

        /// <summary>The value a skipped position gives FsCheck: already run, or another shard's.</summary>
        private static readonly Command[] NotMine = [];

        public Session(IImplementationFactory factory, Profile profile, CapabilityManifest manifest, RunOptions options)
        {
            _factory = factory;
            _profile = profile;
            _manifest = manifest;
            _options = options;
            _facets = manifest.Facets & profile.Facets;
            _declared = manifest.Divergences.Select(d => d.RuleId).ToHashSet(StringComparer.Ordinal);
            var weights = options.Weights ?? GeneratorWeights.Default;
            if (manifest.MaxFolioOrder < weights.MaxOrder)
            {
                weights = weights with { MaxOrder = manifest.MaxFolioOrder };
            }

            // Two tallies of the same labels: the generator's steers (it generates a sequence ahead of the run),
            // the run's counts the sequences the run took, for the report.
            var targets = Coverage.EdgeCases.Targets(profile, _facets);
            _edges = new Coverage.EdgeTally(targets);
            _generator = new SequenceGenerator(profile, _facets, weights, new Coverage.EdgeTally(targets));
            _shrinker = new Shrinker(profile, _facets);
            _executor = new SequenceExecutor(factory, profile, _facets, options.CommandTimeout);
            _implId = options.ImplementationId ?? factory.Name;
            _prefetch = () => _stream?.Prefetch();
            _count = Count;
        }

        public void Dispose()
        {
            _executor.Dispose();
        }

        public RunResult Run()
        {
            foreach (var d in _manifest.Divergences)
            {
                if (Rules.All.All(r => !string.Equals(r.Id, d.RuleId, StringComparison.Ordinal)))
                {
                    _problems.Add($"the manifest declares an expected divergence from unknown rule '{d.RuleId}'");
                }
            }

            // The corpus belongs to the first shard, so that the shards together replay it once, like the whole run.
            if (_options.Shard is not { Index: > 1 })
            {
                ReplayCorpus();
            }

            var arb = Arbitrary();
            while (_resume < _options.Sequences)
            {
                BeginRound();
                Check.One(RoundConfig(), Prop.ForAll(arb, (Func<Command[], bool>)Property));
                _done += _countedThisRound;
                if (_lastFailing is not null)
                {
                    Capture(_lastFailing);
                    if (_options.StopAtFirstFailure && Refined(0))
                    {
                        break;
                    }
                }
                else
                {
                    // FsCheck ran every test it was given without a falsification.
                    break;
                }

                if (_roundFailedAt < _resume)
                {
                    break; // cannot happen: a falsified sequence always has its position; never loop for ever on it
                }

                _resume = _roundFailedAt + 1;
            }

            WriteTraces();
            var verdicts = Verdicts(_profile, _manifest, _tally.Rules, _unexpected, _expected);
            foreach (var id in _unexpected.Keys.Where(id => Rules.All.All(r => !string.Equals(r.Id, id, StringComparison.Ordinal))).Order(StringComparer.Ordinal))
            {
                _problems.Add($"a check names rule '{id}', which is not in the catalogue (violated in {_unexpected[id].ToString(CultureInfo.InvariantCulture)} sequence(s))");
            }

            foreach (var (key, n) in _problemCounts.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                _problems.Add($"{Describe(key)} in {n.ToString(CultureInfo.InvariantCulture)} sequence(s)");
            }

            return new RunResult
            {
                Implementation = _implId,
                Profile = _profile,
                Manifest = _manifest,
                Options = _options,
                ReplayCommand = ReplayCommand(_implId, _profile, _options),
                Verdicts = verdicts,
                ExercisedByRule = new SortedDictionary<string, long>(_tally.Rules, StringComparer.Ordinal),
                CommandsByKind = new SortedDictionary<string, long>(_tally.Kinds, StringComparer.Ordinal),
                ExercisedByKind = new SortedDictionary<string, IReadOnlyDictionary<string, long>>(
                    _tally.ByKind.ToDictionary(kv => kv.Key, kv => (IReadOnlyDictionary<string, long>)new SortedDictionary<string, long>(kv.Value, StringComparer.Ordinal)),
                    StringComparer.Ordinal),
                Counterexamples = _counterexamples,
                Problems = _problems,
                Warnings = _warnings,
                SequencesRun = _done,
                FailingSequences = _failing,
                ExpectedDivergenceSequences = _expectedSequences,
                CommandsExecuted = _commands,
                ShrinkRuns = _shrinkRuns,
                Elapsed = _clock.Elapsed,
                CorpusReplayed = _corpusReplayed,
                EdgeCases = [.. _edges.Targets.Select(t => new EdgeCoverage(t.Label, t.Family, _edges.Sequences.GetValueOrDefault(t.Label)))],
                Failures = _failures,
                CounterexampleOrigins = [.. _origins.Select(o => new CounterexampleOrigin(o.Position, o.Target))],
                ProblemCounts = new SortedDictionary<string, long>(_problemCounts, StringComparer.Ordinal),
            };
        }

        /// <summary>Every round's FsCheck configuration: <see cref="SeedConfig"/>, silent.</summary>
        private Config RoundConfig() => SeedConfig(_options)
            .WithQuietOnSuccess(true)
            .WithRunner(SilentRunner.Instance)
            .WithName($"{_profile.Id}/{_implId}");

        internal static string Describe(string signature) => signature switch
        {
            "timeout" => "the implementation timed out",
            "invalid" => "the engine produced a command the model refuses",
            _ when signature.StartsWith("crash:", StringComparison.Ordinal) => $"the implementation threw {signature[6..]}",
            _ when signature.StartsWith("model-error:", StringComparison.Ordinal) => $"the model threw {signature[12..]} (a model bug)",
            _ => signature,
        };

        private Arbitrary<Command[]> Arbitrary()
        {
            var sequences = GupArb.SeedGen.Select(seed =>
            {
                // FsCheck still draws the seed of a skipped position, which keeps the stream where it was.
                var position = _position++;
                if (position < _resume)
                {
                    return NotMine;
                }

                if (position <= _generatedUpTo)
                {
                    return _pending.Remove(position, out var kept) ? kept : NotMine;
                }

                // Every shard generates every sequence: steering makes each depend on what the earlier ones reached.
                // They are generated one after the other, each while the one before it is checked (SequenceStream).
                _generatedUpTo = position;
                _stream ??= new SequenceStream(_generator, RoundConfig(), _options.Length);
                var (_, _, cmds, stepped, labels, _) = _stream.Take(position, seed);
                _edges.Add(labels);
                if (_options.Shard is { } shard && !shard.Owns(position))
                {
                    return NotMine;
                }

                _info.AddOrUpdate(cmds, new SequenceInfo(seed) { Stepped = stepped, Position = position });
                _pending[position] = cmds;
                return cmds;
            });
            return Arb.From(sequences, Shrink);
        }

        private IEnumerable<Command[]> Shrink(Command[] cmds)
        {
            _info.TryGetValue(cmds, out var info);
            foreach (var candidate in _shrinker.Candidates(cmds, info?.Result?.FailedAction))
            {
                _info.AddOrUpdate(candidate, new SequenceInfo(info?.Seed));
                yield return candidate;
            }
        }

        private void BeginRound()
        {
            _position = 0;
            _roundFailedAt = -1;
            _countedThisRound = 0;
            _shrinking = false;
            _target = null;
            _lastFailing = null;
            _originalLength = 0;
            _roundShrinkRuns = 0;
            _roundCutShort = null;
            _refining = -1;
        }

        /// <summary>The failure signature: unexpected rule ids, or the crash/time-out/model-error kind; empty = no failure.</summary>
        private HashSet<string> Signature(SequenceResult r) => r.Status switch
        {
            SequenceStatus.Passed => [],
            SequenceStatus.Diverged => r.ViolatedRules.Where(id => !_declared.Contains(id)).ToHashSet(StringComparer.Ordinal),
            SequenceStatus.TimedOut => ["timeout"],
            SequenceStatus.Crashed => ["crash:" + r.ExceptionType],
            SequenceStatus.ModelError => ["model-error:" + r.ExceptionType],
            _ => ["invalid"],
        };

        private bool Property(Command[] cmds)
        {
            if (_shrinking)
            {
                if (_roundShrinkRuns >= _options.MaxShrinkRuns)
                {
                    _roundCutShort ??= $"after {_options.MaxShrinkRuns.ToString(CultureInfo.InvariantCulture)} runs (its run budget)";
                    return true;
                }

                if (_clock.Elapsed - _roundShrinkStart >= _options.MaxShrinkTime)
                {
                    _roundCutShort ??= $"after {_options.MaxShrinkTime.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s (its time budget)";
                    return true;
                }

                _roundShrinkRuns++;
                _shrinkRuns++;
                if (_roundShrinkRuns % 25 == 0)
                {
                    Report(shrinking: true);
                }

                var c = _executor.Execute(cmds);
                var sig = Signature(c);
                if (sig.Overlaps(_target!))
                {
                    _lastFailing = cmds;
                    Remember(cmds, c);
                    return false;
                }

                return true;
            }

            if (ReferenceEquals(cmds, NotMine))
            {
                return true;
            }

            _info.TryGetValue(cmds, out var origin);
            var position = origin?.Position ?? -1;
            _pending.Remove(position);
            var (r, signature) = ExecuteAndTally(cmds);
            _countedThisRound++;

            if (signature.Count == 0)
            {
                if (r.Status == SequenceStatus.Diverged)
                {
                    _expectedSequences++;
                }

                Report(shrinking: false);
                return true;
            }

            _failing++;
            _failures.Add(new FailingSequence(position, origin?.Seed, [.. signature.Order(StringComparer.Ordinal)]));
            foreach (var key in signature.Where(k => k.Contains(':', StringComparison.Ordinal) || k is "timeout" or "invalid"))
            {
                Bump(_problemCounts, key);
            }

            Report(shrinking: false);
            // A shard captures every failure new to it: which of them the whole run would have kept is the merge's to say.
            var cap = _options.Shard is null ? _options.MaxCounterexamples : int.MaxValue;
            if (_counterexamples.Count >= cap || signature.IsSubsetOf(_captured)
                || (_options.StopAtFirstFailure && _counterexamples.Count > 0))
            {
                // A failure already captured: deletion-only shrinking finds a minimum of the sequence's own shape, so a
                // few more failing sequences of other shapes are shrunk too and the shortest counterexample is kept.
                var idx = _targets.FindIndex(t => t.Overlaps(signature));
                if (idx < 0 || Refined(idx))
                {
                    return true;
                }

                _attempts[idx]++;
                _refining = idx;
                _roundFailedAt = position;
                _shrinking = true;
                _roundShrinkStart = _clock.Elapsed;
                _target = _targets[idx];
                _lastFailing = cmds;
                _originalLength = cmds.Length;
                Remember(cmds, r);
                return false;
            }

            _shrinking = true;
            _roundFailedAt = position;
            _roundShrinkStart = _clock.Elapsed;
            // Shrink toward what is new: a candidate must keep failing with a rule (or crash kind) not captured yet.
            _target = signature.Except(_captured, StringComparer.Ordinal).ToHashSet(StringComparer.Ordinal);
            _lastFailing = cmds;
            _originalLength = cmds.Length;
            Remember(cmds, r);
            return false;
        }

        /// <summary>Runs one sequence and tallies it: commands and exercised rules, and violated rules as expected or not.</summary>
        private (SequenceResult Result, HashSet<string> Signature) ExecuteAndTally(Command[] cmds)
        {
            // The generator's model outcomes serve this one execution; shrinking and tracing step the model afresh.
            IReadOnlyList<Oracles.StepOutcome>? stepped = null;
            if (_info.TryGetValue(cmds, out var info))
            {
                stepped = info.Stepped;
                info.Stepped = null;
            }

            var r = _executor.Execute(cmds, stepped: stepped, meanwhile: _prefetch, afterwards: _count);
            if (r.Status == SequenceStatus.Diverged)
            {
                foreach (var id in r.ViolatedRules)
                {
                    Bump(_declared.Contains(id) ? _expected : _unexpected, id);
                }
            }

            return (r, Signature(r));
        }

        private void Remember(Command[] cmds, SequenceResult r)
        {
            _info.TryGetValue(cmds, out var info);
            _info.AddOrUpdate(cmds, new SequenceInfo(info?.Seed) { Result = r });
        }

        private void Count(SequenceResult r)
        {
            _commands += r.CommandsExecuted;
            _tally.Add(r.CommandCounts);
        }

        private void Capture(Command[] minimal)
        {
            if (_refining >= 0)
            {
                var existing = _counterexamples[_refining];
                _fruitless[_refining]++;
                if (minimal.Length < existing.Commands.Count)
                {
                    var better = Build(minimal, existing.Number);
                    if (better.Reproduced)
                    {
                        _counterexamples[_refining] = better;
                        _fruitless[_refining] = 0;
                    }
                }

                return;
            }

            _captured.UnionWith(_target ?? []);
            _origins.Add((_roundFailedAt, [.. (_target ?? []).Order(StringComparer.Ordinal)]));
            _targets.Add(_target is null ? [] : [.. _target]);
            _attempts.Add(1);
            _fruitless.Add(0);
            _counterexamples.Add(Build(minimal, _counterexamples.Count + 1));
        }

        private Counterexample Build(Command[] minimal, int number)
        {
            _info.TryGetValue(minimal, out var info);
            var r = _executor.Execute(minimal, trace: true);
            var reproduced = Signature(r).Overlaps(_target ?? []);
            string? note = null;
            if (!reproduced && info?.Result is { Passed: false } seen)
            {
                // A failure that did not happen again (a time-out under load, a flaky implementation): report it as it
                // was seen, with the re-run's steps, and say plainly that it did not reproduce.
                note = $"not reproduced: {Seen(seen)} once, {(r.Passed ? "passed" : "failed otherwise")} when re-run for this report";
                r = new SequenceResult
                {
                    Status = seen.Status,
                    ActionsExecuted = seen.ActionsExecuted,
                    CommandsExecuted = seen.CommandsExecuted,
                    FailedAction = seen.FailedAction,
                    FailedCommand = seen.FailedCommand,
                    Mismatches = seen.Mismatches,
                    ViolatedRules = seen.ViolatedRules,
                    Cause = seen.Cause,
                    Message = seen.Message,
                    ExceptionType = seen.ExceptionType,
                    CommandCounts = seen.CommandCounts,
                    Trace = r.Trace,
                };
            }

            return Counterexample.Of(r, minimal, _declared, number, _implId, _profile.Id, _options.Seed, ReplayCommand(_implId, _profile, _options),
                _originalLength, _roundShrinkRuns) with
            {
                SequenceSeed = info?.Seed,
                ShrinkCutShort = _roundCutShort,
                Reproduced = reproduced,
                NotReproducedNote = note,
            };
        }

        private static string Seen(SequenceResult seen)
        {
            var at = seen.FailedAction is { } a ? $" at step {a.ToString(CultureInfo.InvariantCulture)}" : string.Empty;
            return seen.Status switch
            {
                SequenceStatus.TimedOut => "timed out" + at,
                SequenceStatus.Crashed => "crashed" + at,
                SequenceStatus.Diverged => $"diverged{at} ({string.Join(", ", seen.ViolatedRules)})",
                _ => seen.Status.ToString().ToLowerInvariant() + at,
            };
        }

        private void Report(bool shrinking) => _options.Progress?.Invoke(new RunProgress(
            _profile.Id, _done + _countedThisRound, _options.Sequences, _failing, shrinking, _clock.Elapsed));

        private static void Bump(Dictionary<string, long> d, string key) => Add(d, key, 1);

        private static void Add(Dictionary<string, long> d, string key, long n)
        {
            d.TryGetValue(key, out var v);
            d[key] = v + n;
        }
    }

    private sealed record SequenceInfo(ulong? Seed)
    {
        /// <summary>The sequence's position in the run's stream (-1: a shrink candidate or a corpus trace).</summary>
        public int Position { get; init; } = -1;

        public SequenceResult? Result { get; init; }

        /// <summary>The model's outcomes the generator computed for the sequence, until its first execution.</summary>
        public IReadOnlyList<Oracles.StepOutcome>? Stepped { get; set; }
    }

    /// <summary>An FsCheck runner that prints nothing: the engine reports for itself.</summary>
    private sealed class SilentRunner : IRunner
    {
        public static readonly SilentRunner Instance = new();

        public void OnStartFixture(Type t)
        {
        }

        public void OnArguments(int ntest, FSharpList<object> args, FSharpFunc<int, FSharpFunc<FSharpList<object>, string>> every)
        {
        }

        public void OnShrink(FSharpList<object> args, FSharpFunc<FSharpList<object>, string> everyShrink)
        {
        }

        public void OnFinished(string name, TestResult testResult)
        {
        }
    }
}
