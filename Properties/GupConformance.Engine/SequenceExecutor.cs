using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using GupConformance.Oracles;
using GupConformance.Spec;

namespace GupConformance.Engine;

/// <summary>How the execution of one sequence ended.</summary>
public enum SequenceStatus
{
    /// <summary>Every observation matched the model.</summary>
    Passed,

    /// <summary>An observation differed from what the model allows.</summary>
    Diverged,

    /// <summary>The implementation threw (from Create, Execute or Dispose).</summary>
    Crashed,

    /// <summary>The implementation did not return within the per-command time limit.</summary>
    TimedOut,

    /// <summary>The model threw on a command its precondition accepted: a bug of the model, not the implementation.</summary>
    ModelError,

    /// <summary>A command failed the model's precondition (never for generated sequences).</summary>
    Invalid,
}

/// <summary>One field that did not match: <see cref="Observed"/> is null when the implementation did not report it.</summary>
public sealed record FieldMismatch(string Command, string Field, string? Observed, IReadOnlyList<string> Allowed, IReadOnlyList<string> Rules);

/// <summary>One action of a traced execution: what was done and how the model's state changed.</summary>
public sealed record StepTrace(int Action, string Command, string Change, IReadOnlyList<string> StateChanges, IReadOnlyList<string> Exercised)
{
    /// <summary>The implementation's observation of the action itself, as canonical fields (null when it returned none).</summary>
    public IReadOnlyDictionary<string, string>? Observed { get; init; }
}

/// <summary>The result of executing one sequence against one fresh implementation instance and the model.</summary>
public sealed class SequenceResult
{
    public required SequenceStatus Status { get; init; }

    /// <summary>Actions (sequence commands) executed, the failing one included.</summary>
    public required int ActionsExecuted { get; init; }

    /// <summary>Commands sent to the implementation, the implicit inspections included.</summary>
    public required long CommandsExecuted { get; init; }

    /// <summary>Index of the action at (or after) which the run stopped, when it did not pass.</summary>
    public int? FailedAction { get; init; }

    /// <summary>The command being executed when it stopped (an action or one of its inspections).</summary>
    public string? FailedCommand { get; init; }

    public IReadOnlyList<FieldMismatch> Mismatches { get; init; } = [];

    /// <summary>The rule ids of all mismatches, distinct, in the order their checks failed: the first failing check's
    /// rules first (its first rule is the cause), then those of the checks that failed after it.</summary>
    public IReadOnlyList<string> ViolatedRules { get; init; } = [];

    /// <summary>The rule broken first: chosen among the first failing check's rules (<see cref="RuleScopes.Cause"/>).</summary>
    public string? Cause { get; init; }

    /// <summary>Rules a failing count's difference fits as well as <see cref="Cause"/> (two changes of the step that
    /// either could have been the one left out): the count alone cannot tell them apart.</summary>
    public IReadOnlyList<string> CauseAlsoFits { get; init; } = [];

    /// <summary>Exception or time-out text, or the invalid command's reason.</summary>
    public string? Message { get; init; }

    /// <summary>Exception type name for crashes and model errors.</summary>
    public string? ExceptionType { get; init; }

    /// <summary>
    /// How many commands ran, per command kind and list of exercised rules. A run adds these to its totals directly
    /// (<see cref="CommandTally"/>, which also gives one sequence's counts per rule and kind).
    /// </summary>
    public required IReadOnlyList<CommandCount> CommandCounts { get; init; }

    /// <summary>The traced actions (only with tracing on).</summary>
    public IReadOnlyList<StepTrace> Trace { get; init; } = [];

    public bool Passed => Status == SequenceStatus.Passed;
}

/// <summary>
/// Runs sequences against fresh implementation instances and the model. For every command: step the model, execute
/// on the implementation, compare every <see cref="FieldCheck"/>; after every action that is not a query, inspect
/// every folio the model knows and read the vmstat counters (where the profile has them), comparing those too. Stops
/// at the first action with a divergence. The whole sequence runs on a guarded worker (<see cref="GuardedInvoker"/>)
/// that times every call into the implementation; texts (commands, traces) are rendered only for a failing sequence.
/// </summary>
public sealed class SequenceExecutor : IDisposable
{
    private readonly IImplementationFactory _factory;
    private readonly Profile _profile;
    private readonly Facet _facets;
    private readonly TimeSpan _timeout;
    private readonly GuardedInvoker _invoker = new();
    private readonly Dictionary<string, InspectFolio> _inspections = new(StringComparer.Ordinal);
    private readonly ReadVmstat _vmstat = new();

    /// <summary>MMF_HAS_PINNED of both address spaces, inspected after every action when the facet is claimed.</summary>
    private static readonly InspectMm[] MmInspections = [new(0), new(1)];

    public SequenceExecutor(IImplementationFactory factory, Profile profile, Facet facets, TimeSpan timeout)
    {
        _factory = factory;
        _profile = profile;
        _facets = facets & profile.Facets;
        _timeout = timeout;
    }

    public void Dispose() => _invoker.Dispose();

    /// <summary>
    /// Runs <paramref name="actions"/> on a fresh implementation instance. <paramref name="stepped"/> may hold the model's
    /// outcomes of the actions as the generator computed them (see <see cref="SequenceGenerator.Generate(ulong, int, out StepOutcome[])"/>):
    /// the model is pure, so they are used instead of stepping it again while the run follows the same states.
    /// <paramref name="meanwhile"/> runs on the calling thread while the guarded worker runs the sequence (see
    /// <see cref="GuardedInvoker.Run{T}"/>). <paramref name="afterwards"/> runs once with the result: on the worker when the
    /// sequence finished there, on the calling thread when it was abandoned after a time-out (the abandoned worker never
    /// reaches it).
    /// </summary>
    public SequenceResult Execute(IReadOnlyList<Command> actions, bool trace = false, IReadOnlyList<StepOutcome>? stepped = null, Action? meanwhile = null, Action<SequenceResult>? afterwards = null)
    {
        var run = new Run(this, actions, trace, stepped);
        var result = _invoker.Run<SequenceResult>(afterwards is null ? run.Execute : () =>
        {
            var r = run.Execute();
            afterwards(r);
            return r;
        }, _timeout, meanwhile);
        if (!_invoker.TimedOut)
        {
            return result!;
        }

        var abandoned = run.TimedOut();
        afterwards?.Invoke(abandoned);
        return abandoned;
    }

    /// <summary>The inspection of one folio (one command object per folio key, reused).</summary>
    private InspectFolio Inspection(string key)
    {
        if (!_inspections.TryGetValue(key, out var c))
        {
            c = new InspectFolio(key);
            _inspections[key] = c;
        }

        return c;
    }

    private sealed class Run
    {
        private readonly SequenceExecutor _x;
        private readonly IReadOnlyList<Command> _actions;
        private readonly bool _trace;
        private readonly IReadOnlyList<StepOutcome>? _stepped;
        // Per command kind and exercised list (by reference), how many commands: inspections share their remembered
        // outcome's list, so a sequence's per-rule counts are added up once per distinct list (CommandTally), not per
        // command.
        // A default-length sequence makes 100-200 distinct pairs (every action and every inspection it changed), so the
        // table starts at a size that holds them instead of growing through six copies.
        private readonly Dictionary<(string Kind, IReadOnlyList<string> Exercised), long> _counted = new(128, SameKindAndList.Instance);
        private readonly List<StepTrace> _steps = [];
        private readonly List<FieldMismatch> _mismatches = [];

        // The check that failed first (null when the first mismatch was an unknown folio): asked, once the cause is
        // chosen, whether the count's difference fits other rules just as well.
        private FieldCheck? _firstFailed;
        private long _commands;
        private IGupImplementation? _impl;

        // The brackets of the calls into the implementation (GuardedInvoker), taken on the worker as the sequence starts.
        private GuardedInvoker.CallBrackets _calls;

        // Per folio the model knows: the rules of the action that first made it appear, so that an implementation that
        // does not know the folio is charged to the behaviour that should have created it.
        private readonly Dictionary<string, IReadOnlyList<string>> _creators = new(StringComparer.Ordinal);

        // What the action just made expects: its exercised rules decide a divergence's cause, and its rules are what a
        // folio first seen after it is credited with (_creators). And the folio list last credited: a list an earlier
        // action already credited has no folio new to _creators.
        private Expectation _actionExpected = new([], []);
        private IReadOnlyList<string>? _credited;

        // An inspection the implementation could not answer at all (it crashed or broke the protocol) after the action
        // had already diverged: the action's own divergence is still the result, with this as its note.
        private string? _lostInspection;

        // What the worker is calling into the implementation for (read by the caller only after a time-out).
        private int _callActions;
        private int _callAction;
        private Command? _callCommand;
        private string? _callWhat;
        private SequenceResult? _walked;

        public Run(SequenceExecutor x, IReadOnlyList<Command> actions, bool trace, IReadOnlyList<StepOutcome>? stepped)
        {
            _x = x;
            _actions = actions;
            _trace = trace;
            _stepped = stepped;
        }

        private Profile P => _x._profile;

        public SequenceResult Execute()
        {
            IGupImplementation? created = null;
            Exception? error = null;
            _calls = GuardedInvoker.BracketsOfThisThread();
            Calling(0, -1, null, "create the implementation instance");
            _calls.Enter();
            try
            {
                created = _x._factory.Create(P);
            }
            catch (Exception e)
            {
                error = e;
            }

            _calls.Leave();
            if (error is not null || created is null)
            {
                return Broken(false, error, 0, null, "create the implementation instance", -1, error is null ? "the factory returned null" : null);
            }

            _impl = created;
            var result = Walk();
            _walked = result;
            Calling(_actions.Count, _actions.Count - 1, null, "dispose the implementation instance");
            _calls.Enter();
            try
            {
                _impl.Dispose();
            }
            catch (Exception e)
            {
                error = e;
            }

            _calls.Leave();
            if (result.Passed && error is not null)
            {
                return Broken(false, error, _actions.Count, null, "dispose the implementation instance", _actions.Count - 1, null);
            }

            return result;
        }

        /// <summary>The result of a sequence abandoned while the implementation was running the call last announced.</summary>
        /// <summary>A hung Dispose after a failing walk leaves the walk's failure standing.</summary>
        public SequenceResult TimedOut()
        {
            if (_walked is { Passed: false } walked)
            {
                return walked;
            }

            var hung = Broken(true, null, _callActions, _callCommand, _callWhat, _callAction, null);

            // A hang in an inspection after the action had diverged: the divergence comes first.
            return _callCommand is { IsQuery: true } && _callAction >= 0 && _callAction < _actions.Count
                ? KeepActionDivergence(hung, _callAction, _actions[_callAction])
                : hung;
        }

        private void Calling(int actions, int action, Command? command, string? what)
        {
            _callActions = actions;
            _callAction = action;
            _callCommand = command;
            _callWhat = what;
        }

        private SequenceResult Walk()
        {
            var state = GupModel.Init(P);
            for (var i = 0; i < _actions.Count; i++)
            {
                var cmd = _actions[i];
                var before = state;
                var step = StepOne(ref state, cmd, i, isAction: true);
                if (step is not null)
                {
                    return step;
                }

                if (!cmd.IsQuery)
                {
                    var keys = state.FolioKeys;
                    if (!ReferenceEquals(keys, _credited))
                    {
                        // The list is the state layout's, which states with the same regions and late folios share and which is
                        // never changed: the same list has only folios already credited, and TryAdd would keep them as they are.
                        var rules = ActionRules(_actionExpected);
                        for (var k = 0; k < keys.Count; k++)
                        {
                            _creators.TryAdd(keys[k], rules);
                        }

                        _credited = keys;
                    }

                    for (var k = 0; k < keys.Count; k++)
                    {
                        var r = StepOne(ref state, _x.Inspection(keys[k]), i, isAction: false);
                        if (r is not null)
                        {
                            return KeepActionDivergence(r, i, cmd);
                        }
                    }

                    if (P.HasPinVmstat)
                    {
                        var r = StepOne(ref state, _x._vmstat, i, isAction: false);
                        if (r is not null)
                        {
                            return KeepActionDivergence(r, i, cmd);
                        }
                    }

                    // MMF_HAS_PINNED of both address spaces (StepOne skips them unless RemoteMm is claimed).
                    for (var m = 0; P.HasMmPinnedFlag && m < MmInspections.Length; m++)
                    {
                        var r = StepOne(ref state, MmInspections[m], i, isAction: false);
                        if (r is not null)
                        {
                            return KeepActionDivergence(r, i, cmd);
                        }
                    }
                }

                if (_trace)
                {
                    var last = _steps[^1];
                    _steps[^1] = last with { StateChanges = DescribeDiff(before, state) };
                }

                if (_mismatches.Count > 0)
                {
                    return Result(SequenceStatus.Diverged, i + 1, i, Render(cmd), null, null);
                }
            }

            return Result(SequenceStatus.Passed, _actions.Count, null, null, null, null);
        }

        /// <summary>Steps the model and the implementation on one command; returns a result only when the run must stop at once.</summary>
        private SequenceResult? StepOne(ref ModelState state, Command cmd, int action, bool isAction)
        {
            if (!isAction && (cmd.Needs & _x._facets) == 0)
            {
                return null;
            }

            // An action's outcome (its next state); for an inspection, which leaves the state as it is, only what the model
            // expects of it (GupModel.Expect makes no outcome object for it).
            StepOutcome? outcome = null;
            Expectation expected;
            if (isAction && Stepped(state, action) is { } known)
            {
                outcome = known;
                expected = known.Expected;
            }
            else
            {
                try
                {
                    if (!isAction)
                    {
                        // An inspection that does not apply here (no such folio, no counters in this era) is not made.
                        if (GupModel.Expect(state, cmd) is not { } answered)
                        {
                            return null;
                        }

                        expected = answered;
                    }
                    else if (GupModel.Precondition(state, cmd) is { } why)
                    {
                        return Result(SequenceStatus.Invalid, action + 1, action, Render(cmd), $"the model's precondition refuses it: {why}", null);
                    }
                    else
                    {
                        outcome = GupModel.Step(state, cmd);
                        expected = outcome.Expected;
                    }
                }
                catch (Exception e)
                {
                    return Result(SequenceStatus.ModelError, action + 1, action, Render(cmd), $"the model threw {e.GetType().Name}: {e.Message}", e.GetType().Name);
                }
            }

            _commands++;
            ref var counted = ref CollectionsMarshal.GetValueRefOrAddDefault(_counted, (CommandText.Kind(cmd), expected.Exercised), out _);
            counted++;

            if (_trace && outcome is not null)
            {
                _steps.Add(new StepTrace(action, Render(cmd), outcome.Change, [], outcome.Exercised));
            }

            var impl = _impl!;
            if (outcome is not null && !cmd.IsQuery && impl is Plugins.IPrefetchingImplementation prefetch)
            {
                prefetch.Expect(cmd, Inspections(outcome.Next));
            }

            Calling(action + 1, action, cmd, null);
            Observation? observed = null;
            Exception? error = null;
            _calls.Enter();
            try
            {
                observed = impl.Execute(cmd);
            }
            catch (Exception e)
            {
                error = e;
            }

            _calls.Leave();
            if (error is not null)
            {
                if (!isAction && cmd is InspectFolio inspect && !LostTheProcess(error))
                {
                    // The implementation answered, but does not know a folio the model knows: a divergence of the
                    // behaviour that should have created it, not a crash.
                    _mismatches.Add(new FieldMismatch(Render(cmd), "folio", $"(unknown to the implementation: {Plugins.Untrusted.Printable(error.Message)})",
                        [Known], _creators.GetValueOrDefault(inspect.Folio) is { Count: > 0 } created ? created : ["CORE-NO-COLLATERAL"]));
                    return null;
                }

                return Broken(false, error, action + 1, cmd, null, action, null);
            }

            if (_trace && isAction)
            {
                _steps[^1] = _steps[^1] with { Observed = observed?.Fields() };
            }

            if (isAction)
            {
                _actionExpected = expected;
            }

            var checks = expected.Checks;
            for (var c = 0; c < checks.Count; c++)
            {
                var check = checks[c];
                if (!check.Accepts(observed))
                {
                    var value = observed?.Field(check.Field);
                    if (_mismatches.Count == 0)
                    {
                        _firstFailed = check;
                    }

                    _mismatches.Add(new FieldMismatch(Render(cmd), check.Field, value, check.Allowed, check.RulesFor(value)));
                }
            }

            if (outcome is not null)
            {
                state = outcome.Next;
            }

            return null;
        }

        private string Render(Command cmd) => CommandText.Render(cmd, P);

        /// <summary>What an inspection of a folio the model knows is allowed to show about its existence.</summary>
        private const string Known = "(known)";

        /// <summary>The rules an action answers for: those it exercised, else those its checks cite.</summary>
        private static IReadOnlyList<string> ActionRules(Expectation expected)
        {
            if (expected.Exercised.Count > 0)
            {
                return expected.Exercised;
            }

            var rules = new List<string>();
            foreach (var check in expected.Checks)
            {
                foreach (var id in check.Rules)
                {
                    if (!rules.Contains(id, StringComparer.Ordinal))
                    {
                        rules.Add(id);
                    }
                }
            }

            return rules;
        }

        /// <summary>True when the error means the implementation can no longer answer anything (its process died, hung
        /// or broke the protocol), as opposed to an answer that it does not know what it was asked about.</summary>
        private static bool LostTheProcess(Exception e) => e is Plugins.ProcessProtocolException p
            && p.Fault is not (Plugins.ProtocolFault.ImplementationError or Plugins.ProtocolFault.UnknownCommand);

        /// <summary>
        /// An inspection that stopped the run after the action had already diverged: the action's divergence is what
        /// the developer must see first, so it stays the result and the lost inspection becomes its note.
        /// </summary>
        private SequenceResult KeepActionDivergence(SequenceResult stopped, int action, Command cmd)
        {
            if (_mismatches.Count == 0 || stopped.Status is not (SequenceStatus.Crashed or SequenceStatus.TimedOut))
            {
                return stopped;
            }

            _lostInspection = $"after the divergence, {stopped.FailedCommand}: {stopped.Message}";
            return Result(SequenceStatus.Diverged, action + 1, action, Render(cmd), null, null);
        }

        /// <summary>The generator's outcome of action <paramref name="action"/>, if the run is in the state the generator stepped it from.</summary>
        private StepOutcome? Stepped(ModelState state, int action)
        {
            if (_stepped is null || action >= _stepped.Count)
            {
                return null;
            }

            // Action 0 starts from Init (pure, so the generator's initial state equals ours); later ones from the state
            // the generator's previous outcome left, which the run holds as the very same object while it follows it.
            return action == 0 || ReferenceEquals(state, _stepped[action - 1].Next) ? _stepped[action] : null;
        }

        /// <summary>The inspections <see cref="Walk"/> makes after an action that left the model in <paramref name="state"/>.</summary>
        private List<Command> Inspections(ModelState state)
        {
            var list = new List<Command>();
            if ((Facet.Core & _x._facets) != 0)
            {
                list.AddRange(state.FolioKeys.Select(k => (Command)_x.Inspection(k)));
                if (P.HasPinVmstat)
                {
                    list.Add(_x._vmstat);
                }
            }

            if ((Facet.RemoteMm & _x._facets) != 0 && P.HasMmPinnedFlag)
            {
                list.AddRange(MmInspections);
            }

            return list;
        }

        private SequenceResult Broken(bool timedOut, Exception? e, int actions, Command? command, string? what, int failedAction, string? message)
        {
            // A command that is itself the failed action is named once; anything else says what the engine was doing.
            var isTheAction = command is not null && failedAction >= 0 && failedAction < _actions.Count && ReferenceEquals(command, _actions[failedAction]);
            what ??= Render(command!);
            var where = isTheAction || (failedAction >= 0 && failedAction < _actions.Count && string.Equals(what, Render(_actions[failedAction]), StringComparison.Ordinal))
                ? string.Empty
                : $" (while trying to {what})";
            var text = message ?? (timedOut
                ? $"timed out after {((long)_x._timeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture)} ms{where}"
                : $"the implementation threw {e?.GetType().Name}: {e?.Message}{where}");
            return Result(timedOut ? SequenceStatus.TimedOut : SequenceStatus.Crashed, actions, failedAction < 0 ? null : failedAction, what, text,
                timedOut ? null : (e as Plugins.INamedFailure)?.FailureName ?? e?.GetType().Name ?? "null");
        }

        private SequenceResult Result(SequenceStatus status, int actions, int? failedAction, string? failedCommand, string? message, string? exceptionType)
        {
            var cause = status == SequenceStatus.Diverged && _mismatches.Count > 0
                ? RuleScopes.Cause(_mismatches[0].Rules, _actionExpected.Exercised, _mismatches[0].Observed, _mismatches[0].Allowed, _mismatches[0].Command)
                : null;
            return new()
            {
                Status = status,
                ActionsExecuted = actions,
                CommandsExecuted = _commands,
                FailedAction = failedAction,
                FailedCommand = failedCommand,
                Mismatches = status == SequenceStatus.Diverged ? [.. _mismatches] : [],
                ViolatedRules = status == SequenceStatus.Diverged ? Violated() : [],
                Cause = cause,
                CauseAlsoFits = cause is not null && _firstFailed is { } first ? first.EquallyFitting(_mismatches[0].Observed, cause) : [],
                Message = message ?? (status == SequenceStatus.Diverged ? _lostInspection : null),
                ExceptionType = exceptionType,
                CommandCounts = Counted(),
                Trace = [.. _steps],
            };
        }

        private CommandCount[] Counted()
        {
            var counts = new CommandCount[_counted.Count];
            var i = 0;
            foreach (var ((kind, exercised), n) in _counted)
            {
                counts[i++] = new CommandCount(kind, exercised, n);
            }

            return counts;
        }

        /// <summary>The violated rules, the cause first, then in the order their checks failed.</summary>
        private List<string> Violated()
        {
            var cause = RuleScopes.Cause(_mismatches[0].Rules, _actionExpected.Exercised, _mismatches[0].Observed, _mismatches[0].Allowed, _mismatches[0].Command);
            var list = new List<string> { cause };
            foreach (var m in _mismatches)
            {
                foreach (var id in m.Rules)
                {
                    if (!list.Contains(id, StringComparer.Ordinal))
                    {
                        list.Add(id);
                    }
                }
            }

            return list;
        }

        /// <summary>Keys of <see cref="_counted"/>: the same kind text and the very same exercised list.</summary>
        private sealed class SameKindAndList : IEqualityComparer<(string Kind, IReadOnlyList<string> Exercised)>
        {
            public static readonly SameKindAndList Instance = new();

            public bool Equals((string Kind, IReadOnlyList<string> Exercised) x, (string Kind, IReadOnlyList<string> Exercised) y)
                => ReferenceEquals(x.Exercised, y.Exercised) && string.Equals(x.Kind, y.Kind, StringComparison.Ordinal);

            // By reference, both: inspections share their remembered list, and a kind is one of CommandText's own
            // strings; hashing the kind's text for every command cost more. (Were a kind's text in another object, its
            // commands would only be counted in an entry of their own.)
            public int GetHashCode((string Kind, IReadOnlyList<string> Exercised) k) =>
                HashCode.Combine(RuntimeHelpers.GetHashCode(k.Exercised), RuntimeHelpers.GetHashCode(k.Kind));
        }

        private static List<string> DescribeDiff(ModelState before, ModelState after)
        {
            IReadOnlyList<(string Key, string? Before, string? After)> changes;
            try
            {
                changes = after.DescribeChanges(before);
            }
            catch (Exception)
            {
                return [];
            }

            return [.. changes.Select(c => c switch
            {
                { Before: { } va, After: { } vb } => $"{c.Key}: {va} -> {vb}",
                { Before: { } va } => $"{c.Key}: {va} -> (gone)",
                _ => $"{c.Key}: (new) {c.After}",
            })];
        }
    }
}

/// <summary>Commands of one kind that exercised the very same list of rules (<see cref="SequenceResult.CommandCounts"/>).</summary>
public readonly record struct CommandCount(string Kind, IReadOnlyList<string> Exercised, long Commands);

/// <summary>Commands per kind, and per rule the commands that exercised it, in all and per kind: the sums of <see cref="CommandCount"/>s.</summary>
public sealed class CommandTally
{
    // A run adds every sequence's counts on its own thread, one per rule of every distinct exercised list, so the rules
    // are numbered as they are first met and counted in arrays: one lookup of the number per rule instead of two
    // dictionary updates. The dictionaries below are made from the arrays when asked for, in first-met order (overall,
    // and per kind its own), as they were when they were updated directly.
    //
    // An exercised list's rule numbers are remembered by the list's contents (Numbers), so a rule's number is looked up
    // only the first time a list of new contents comes.
    private readonly Dictionary<string, int> _ruleNo = new(StringComparer.Ordinal);
    private readonly List<string> _ruleIds = [];
    private long[] _rules = new long[64];
    private readonly Dictionary<string, PerKind> _byKind = new(StringComparer.Ordinal);
    private readonly Dictionary<IReadOnlyList<string>, int[]> _listNumbers = new(SameRules.Instance);
    private (Dictionary<string, long> Rules, Dictionary<string, Dictionary<string, long>> ByKind)? _made;

    // The lists' rule numbers stop being remembered past this many contents (lists of new contents made for every
    // command would otherwise make the table grow without end); they are then worked out again.
    private const int Remembered = 4096;

    public Dictionary<string, long> Rules => Made().Rules;

    /// <summary>Per command kind, the commands counted, in the order the kinds were first met.</summary>
    public Dictionary<string, long> Kinds => _byKind.ToDictionary(kv => kv.Key, kv => kv.Value.Commands, StringComparer.Ordinal);

    public Dictionary<string, Dictionary<string, long>> ByKind => Made().ByKind;

    public void Add(IReadOnlyList<CommandCount> counts)
    {
        _made = null;
        for (var c = 0; c < counts.Count; c++)
        {
            var (kind, exercised, n) = counts[c];
            ref var perKind = ref CollectionsMarshal.GetValueRefOrAddDefault(_byKind, kind, out _);
            perKind ??= new PerKind();
            perKind.Commands += n;
            var numbers = Numbers(exercised);
            for (var e = 0; e < numbers.Length; e++)
            {
                _rules[numbers[e]] += n;
                perKind.Add(numbers[e], n);
            }
        }
    }

    /// <summary>The rule numbers of an exercised list, remembered by its contents: a run's tens of thousands of lists
    /// have a few hundred contents, so most are met again (one lookup instead of one per rule).</summary>
    private int[] Numbers(IReadOnlyList<string> exercised)
    {
        if (_listNumbers.TryGetValue(exercised, out var known))
        {
            return known;
        }

        var numbers = new int[exercised.Count];
        for (var e = 0; e < numbers.Length; e++)
        {
            numbers[e] = Number(exercised[e]);
        }

        if (_listNumbers.Count < Remembered)
        {
            // A copy: the key must not change, and the caller's list is not this tally's.
            _listNumbers[exercised.ToArray()] = numbers;
        }

        return numbers;
    }

    /// <summary>
    /// Lists of the very same rule id objects in the same order, compared and hashed by reference (no text is hashed):
    /// the ids are nearly always the catalogue's own strings, and a list whose ids are other objects with the same text
    /// is only remembered in an entry of its own (its numbers, looked up by text, are the same).
    /// </summary>
    private sealed class SameRules : IEqualityComparer<IReadOnlyList<string>>
    {
        public static readonly SameRules Instance = new();

        public bool Equals(IReadOnlyList<string>? x, IReadOnlyList<string>? y)
        {
            if (ReferenceEquals(x, y))
            {
                return true;
            }

            if (x is null || y is null || x.Count != y.Count)
            {
                return false;
            }

            if (Span(x, out var xs) && Span(y, out var ys))
            {
                for (var i = 0; i < xs.Length; i++)
                {
                    if (!ReferenceEquals(xs[i], ys[i]))
                    {
                        return false;
                    }
                }

                return true;
            }

            for (var i = 0; i < x.Count; i++)
            {
                if (!ReferenceEquals(x[i], y[i]))
                {
                    return false;
                }
            }

            return true;
        }

        public int GetHashCode(IReadOnlyList<string> rules)
        {
            var h = new HashCode();
            if (Span(rules, out var span))
            {
                foreach (var id in span)
                {
                    h.Add(RuntimeHelpers.GetHashCode(id));
                }
            }
            else
            {
                for (var i = 0; i < rules.Count; i++)
                {
                    h.Add(RuntimeHelpers.GetHashCode(rules[i]));
                }
            }

            return h.ToHashCode();
        }

        // The lists come as the model's List<string> and are kept as arrays: read as spans, an id costs a load instead of
        // an interface call (hashing the lists was 14% of the run thread's samples).
        private static bool Span(IReadOnlyList<string> list, out ReadOnlySpan<string> span)
        {
            switch (list)
            {
                case string[] a:
                    span = a;
                    return true;
                case List<string> l:
                    span = CollectionsMarshal.AsSpan(l);
                    return true;
                default:
                    span = default;
                    return false;
            }
        }
    }

    private int Number(string rule)
    {
        ref var no = ref CollectionsMarshal.GetValueRefOrAddDefault(_ruleNo, rule, out var exists);
        if (!exists)
        {
            no = _ruleIds.Count;
            _ruleIds.Add(rule);
            if (no == _rules.Length)
            {
                Array.Resize(ref _rules, no * 2);
            }
        }

        return no;
    }

    private (Dictionary<string, long> Rules, Dictionary<string, Dictionary<string, long>> ByKind) Made()
    {
        if (_made is { } made)
        {
            return made;
        }

        var rules = new Dictionary<string, long>(_ruleIds.Count, StringComparer.Ordinal);
        for (var no = 0; no < _ruleIds.Count; no++)
        {
            rules[_ruleIds[no]] = _rules[no];
        }

        var byKind = new Dictionary<string, Dictionary<string, long>>(_byKind.Count, StringComparer.Ordinal);
        foreach (var (kind, counts) in _byKind)
        {
            byKind[kind] = counts.ToDictionary(_ruleIds);
        }

        _made = (rules, byKind);
        return (rules, byKind);
    }

    /// <summary>One kind's commands, its count per rule number, and the numbers in the order the kind first met them.</summary>
    private sealed class PerKind
    {
        public long Commands { get; set; }

        private readonly List<int> _order = [];
        private long[] _counts = new long[64];

        public void Add(int no, long n)
        {
            if (no >= _counts.Length)
            {
                Array.Resize(ref _counts, Math.Max(no + 1, _counts.Length * 2));
            }

            if (_counts[no] == 0)
            {
                _order.Add(no);
            }

            _counts[no] += n;
        }

        public Dictionary<string, long> ToDictionary(List<string> ids)
        {
            var d = new Dictionary<string, long>(_order.Count, StringComparer.Ordinal);
            foreach (var no in _order)
            {
                d[ids[no]] = _counts[no];
            }

            return d;
        }
    }
}
