using System.Globalization;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using GupConformance.Spec;
using Microsoft.FSharp.Core;

namespace GupConformance.Engine;

/// <summary>Options of the conformance property (<see cref="GupProperty.ConformsTo"/>).</summary>
public sealed record GupPropertyOptions
{
    /// <summary>The longest sequence; FsCheck's size picks the length up to it (see <see cref="GupArb"/>).</summary>
    public int MaxLength { get; init; } = RunOptions.DefaultLength;

    /// <summary>How long one call into the implementation may take before the sequence fails as a time-out.</summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromMilliseconds(RunOptions.DefaultTimeoutMs);

    public GeneratorWeights? Weights { get; init; }

    /// <summary>The name reports give the implementation (the factory's name when null).</summary>
    public string? ImplementationId { get; init; }
}

/// <summary>
/// Conformance as an FsCheck property. <c>[Property(MaxTest = 500)] public Property My_port_conforms() =&gt;
/// GupProperty.ConformsTo(new MyFactory(), Profiles.Get("linux-6.18"));</c> is a whole conformance test: every test
/// is one generated sequence (<see cref="GupArb"/>) run on a fresh implementation instance and compared with the model
/// after every step. A sequence fails on an observation outside what the model allows for a rule the manifest does not
/// declare as an expected divergence, on an exception or on a time-out; FsCheck then shrinks it with the suite's
/// shrinker and its failure message carries, under "Label of failing property", the suite's counterexample report of
/// the shrunk sequence: every step with the model's change, the observed against the allowed values, the violated rules
/// with their hints. FsCheck.Xunit's settings mean what they always mean: MaxTest sequences, Replay, Verbose (prints
/// each sequence), QuietOnSuccess, StartSize/EndSize (bound the length). Tests may run in parallel (each evaluation
/// has its own executor).
/// <para>
/// What one property cannot judge is the run as a whole (a rule no sequence exercised, a declared divergence that
/// never showed): FsCheck does not tell a property which test is its last. <see cref="Check"/> judges both.
/// </para>
/// </summary>
public static class GupProperty
{
    /// <summary>Every generated sequence under <paramref name="profile"/> conforms (the factory must claim the profile).</summary>
    public static Property ConformsTo(IImplementationFactory factory, Profile profile, GupPropertyOptions? options = null)
        => new SequenceCheck(factory, profile, options ?? new GupPropertyOptions(), tally: null).Property();

    /// <summary>One sequence conforms: for properties that draw their sequences themselves from <see cref="GupArb"/>.</summary>
    public static Property Conforms(IImplementationFactory factory, GupSequence sequence, GupPropertyOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(sequence);
        return new SequenceCheck(factory, sequence.Profile, options ?? new GupPropertyOptions(), tally: null).Judge(sequence);
    }

    /// <summary>
    /// A whole conformance check through FsCheck, as the xunit base class runs it: <see cref="RunOptions.Sequences"/>
    /// tests of <see cref="RunOptions.Length"/> actions from FsCheck's replay seed of <see cref="RunOptions.Seed"/>
    /// (<see cref="ConformanceRun.FsCheckRnd"/>), then the run-level verdicts: conformant only when FsCheck found no
    /// failing sequence and every rule is Pass, Not applicable or a declared divergence that showed.
    /// </summary>
    public static ConformanceCheck Check(IImplementationFactory factory, Profile profile, RunOptions? options = null)
    {
        options ??= new RunOptions();
        if (options.Sequences <= 0 || options.Length <= 0)
        {
            throw new ArgumentException("sequences and length must be positive", nameof(options));
        }

        var tally = new RunTally();
        var propertyOptions = new GupPropertyOptions
        {
            MaxLength = options.Length,
            CommandTimeout = options.CommandTimeout,
            Weights = options.Weights,
            ImplementationId = options.ImplementationId,
        };
        var check = new SequenceCheck(factory, profile, propertyOptions, tally);
        var runner = new CapturingRunner();
        var config = Config.Quick
            .WithMaxTest(options.Sequences)
            .WithStartSize(options.Length)
            .WithEndSize(options.Length)
            .WithReplay(FSharpOption<Replay>.Some(new Replay(ConformanceRun.FsCheckRnd(options.Seed), FSharpOption<int>.None)))
            .WithQuietOnSuccess(true)
            .WithRunner(runner);
        FsCheck.Check.One(config, check.Property());
        var result = runner.Result ?? throw new InvalidOperationException("FsCheck finished without a result");

        var seedText = options.Seed.ToString(CultureInfo.InvariantCulture);
        var replay = $"replay: the same RunOptions (Seed = {seedText}, Sequences = {options.Sequences.ToString(CultureInfo.InvariantCulture)}, Length = {options.Length.ToString(CultureInfo.InvariantCulture)})";
        var name = check.ImplementationId;
        if (!result.IsPassed)
        {
            var text = $"implementation '{name}' does not conform to profile {profile.Id} (run seed {seedText}; {replay}):\n"
                + Runner.onFinishedToString(string.Empty, result);
            return new ConformanceCheck(false, text, result, []);
        }

        var verdicts = ConformanceRun.Verdicts(profile, check.Manifest, tally.Exercised, tally.Unexpected, tally.Expected);
        var problems = check.Manifest.Divergences
            .Where(d => Rules.All.All(r => !string.Equals(r.Id, d.RuleId, StringComparison.Ordinal)))
            .Select(d => $"the manifest declares an expected divergence from unknown rule '{d.RuleId}'")
            .ToList();
        var failed = verdicts.Where(v => v.Outcome == Outcome.Fail).ToList();
        if (failed.Count == 0 && problems.Count == 0)
        {
            return new ConformanceCheck(true, $"implementation '{name}' conforms to profile {profile.Id}: {Runner.onFinishedToString(string.Empty, result).Trim()}", result, verdicts);
        }

        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"implementation '{name}' under profile {profile.Id}: every one of {options.Sequences} sequences agreed with the model, but the run is not conformant (run seed {seedText}; {replay}):\n");
        foreach (var v in failed)
        {
            sb.Append(CultureInfo.InvariantCulture, $"  {v.Rule.Id} [{ReportWriter.LevelText(v.Rule.Level)}]: {v.Note}\n    If this fails, {v.Rule.IfFails}\n");
        }

        foreach (var p in problems)
        {
            sb.Append("  ").Append(p).Append('\n');
        }

        return new ConformanceCheck(false, sb.ToString(), result, verdicts);
    }

    /// <summary>The failure of a sequence result: unexpected rule ids, or the kind of crash, time-out or model error; empty when it passed.</summary>
    internal static HashSet<string> Failure(SequenceResult r, IReadOnlySet<string> declared) => r.Status switch
    {
        SequenceStatus.Passed => [],
        SequenceStatus.Diverged => r.ViolatedRules.Where(id => !declared.Contains(id)).ToHashSet(StringComparer.Ordinal),
        SequenceStatus.TimedOut => ["timeout"],
        SequenceStatus.Crashed => ["crash:" + r.ExceptionType],
        SequenceStatus.ModelError => ["model-error:" + r.ExceptionType],
        _ => ["invalid"],
    };

    /// <summary>Checks sequences of one implementation under one profile.</summary>
    private sealed class SequenceCheck
    {
        private readonly IImplementationFactory _factory;
        private readonly Profile _profile;
        private readonly GupPropertyOptions _options;
        private readonly RunTally? _tally;
        private readonly Facet _facets;
        private readonly HashSet<string> _declared;

        public SequenceCheck(IImplementationFactory factory, Profile profile, GupPropertyOptions options, RunTally? tally)
        {
            ArgumentNullException.ThrowIfNull(factory);
            ArgumentNullException.ThrowIfNull(profile);
            if (options.MaxLength <= 0)
            {
                throw new ArgumentException("MaxLength must be positive", nameof(options));
            }

            Manifest = factory.ManifestFor(profile)
                ?? throw new ArgumentException($"implementation '{factory.Name}' does not claim profile '{profile.Id}'", nameof(profile));
            _factory = factory;
            _profile = profile;
            _options = options;
            _tally = tally;
            _facets = Manifest.Facets & profile.Facets;
            _declared = Manifest.Divergences.Select(d => d.RuleId).ToHashSet(StringComparer.Ordinal);
            ImplementationId = options.ImplementationId ?? factory.Name;
        }

        public CapabilityManifest Manifest { get; }

        public string ImplementationId { get; }

        public Property Property() => Prop.ForAll(
            GupArb.Sequences(_profile, _facets, new GupArbOptions { MaxLength = _options.MaxLength, Weights = _options.Weights }),
            (Func<GupSequence, Property>)Judge);

        public Property Judge(GupSequence seq)
        {
            if (!ReferenceEquals(seq.Profile, _profile) && !string.Equals(seq.Profile.Id, _profile.Id, StringComparison.Ordinal))
            {
                throw new ArgumentException($"the sequence was generated for profile {seq.Profile.Id}, not {_profile.Id}", nameof(seq));
            }

            // An executor per evaluation: FsCheck may evaluate tests in parallel (Parallelism), and its worker thread ends with it.
            using var executor = new SequenceExecutor(_factory, _profile, _facets, _options.CommandTimeout);
            var r = executor.Execute(seq.Commands, stepped: seq.TakeStepped());
            _tally?.Add(r, _declared);
            var failure = Failure(r, _declared);
            if (failure.Count == 0)
            {
                seq.FailedAction = null;
                return true.Classify(r.Status == SequenceStatus.Diverged, "a declared expected divergence");
            }

            seq.FailedAction = r.FailedAction;
            var traced = executor.Execute(seq.Commands, trace: true);
            return false.Label(Report(seq, traced, failure));
        }

        /// <summary>The suite's counterexample report of a failing sequence, with how to replay it under FsCheck.</summary>
        private string Report(GupSequence seq, SequenceResult r, HashSet<string> failure)
        {
            const string Replay = "rerun the property with the seed FsCheck prints above, e.g. [Property(Replay = \"(seed,gamma)\")], "
                + "or at the failing step with \"(seed,gamma,size)\"";
            var c = Counterexample.Of(r, seq.Commands, _declared, 1, ImplementationId, _profile.Id, 0, Replay, seq.OriginalLength, 0) with
            {
                SequenceSeed = seq.Seed,
                Reproduced = Failure(r, _declared).Overlaps(failure),
            };

            // The run-level seed line means nothing here: FsCheck's seed is the replay seed, the generator seed names the sequence.
            var lines = ReportWriter.RenderCounterexample(c).Split('\n')
                .Select(line => line.StartsWith("  Seed: ", StringComparison.Ordinal)
                    ? $"  Sequence: generator seed 0x{seq.Seed.ToString("x16", CultureInfo.InvariantCulture)}, {seq.Count.ToString(CultureInfo.InvariantCulture)} of its {seq.OriginalLength.ToString(CultureInfo.InvariantCulture)} actions left after shrinking"
                    : line);
            return "GupConformance " + string.Join('\n', lines).TrimEnd('\n');
        }
    }

    /// <summary>Per-rule counts over every evaluated sequence, for the run-level verdicts of <see cref="Check"/>.</summary>
    private sealed class RunTally
    {
        private readonly Lock _lock = new();
        private readonly CommandTally _commands = new();

        /// <summary>Per rule, the commands that exercised it (read once the check is done).</summary>
        public Dictionary<string, long> Exercised => _commands.Rules;

        public Dictionary<string, long> Unexpected { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, long> Expected { get; } = new(StringComparer.Ordinal);

        public void Add(SequenceResult r, HashSet<string> declared)
        {
            lock (_lock)
            {
                _commands.Add(r.CommandCounts);

                if (r.Status == SequenceStatus.Diverged)
                {
                    foreach (var id in r.ViolatedRules)
                    {
                        var d = declared.Contains(id) ? Expected : Unexpected;
                        d[id] = d.GetValueOrDefault(id) + 1;
                    }
                }
            }
        }
    }

    /// <summary>Keeps FsCheck's result and prints nothing: the check's message carries FsCheck's text.</summary>
    private sealed class CapturingRunner : IRunner
    {
        public TestResult? Result { get; private set; }

        public void OnStartFixture(Type t)
        {
        }

        public void OnArguments(int ntest, Microsoft.FSharp.Collections.FSharpList<object> args, FSharpFunc<int, FSharpFunc<Microsoft.FSharp.Collections.FSharpList<object>, string>> every)
        {
        }

        public void OnShrink(Microsoft.FSharp.Collections.FSharpList<object> args, FSharpFunc<Microsoft.FSharp.Collections.FSharpList<object>, string> everyShrink)
        {
        }

        public void OnFinished(string name, TestResult testResult) => Result = testResult;
    }
}

/// <summary>
/// The outcome of <see cref="GupProperty.Check"/>: the verdict, the text to show (FsCheck's own failure text with the
/// counterexample report, or the rules that failed the run), FsCheck's result, and the rule verdicts (empty when FsCheck
/// found a failing sequence).
/// </summary>
public sealed record ConformanceCheck(bool Conformant, string Message, TestResult FsCheckResult, IReadOnlyList<RuleVerdict> Verdicts);
