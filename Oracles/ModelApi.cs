using GupConformance.Spec;

namespace GupConformance.Oracles;

// The public surface of the reference model. The engine (Properties/) depends on exactly these types;
// change them only together with the engine.

/// <summary>How one entry of a pages array is held by its caller.</summary>
public enum Hold
{
    /// <summary>Only listed (kernel iterators): nothing to release.</summary>
    None,

    /// <summary>A FOLL_GET reference: to be released with put_page().</summary>
    Ref,

    /// <summary>A FOLL_PIN pin (possibly the no-op pin of the zero page): to be released with unpin_user_page*().</summary>
    Pin,
}

/// <summary>A run of consecutive entries of a pages array: pages First.. of one folio, held alike.</summary>
public sealed record EntryRun(string Folio, long First, long Count, Hold Hold, bool Released);

/// <summary>A mapped region as the model sees it.</summary>
public sealed record RegionView(int Region, RegionKind Kind, ulong Start, int Folios, int Order, int Mm = 0, bool Movable = false)
{
    public long Pages => (long)Folios << Order;

    public ulong End => Start + (ulong)(Pages * Sizes.PageSize);
}

/// <summary>An iterator: its kind, direction, the segments still to be consumed (the first possibly partly) and the byte count left.</summary>
public sealed record IterView(int Iter, IterKind Kind, IterDir Dir, long Count, IReadOnlyList<IterSeg> Remaining);

/// <summary>A frame vector's state.</summary>
public sealed record FvView(int Fv, int NrAllocated, long NrFrames, bool GotRef, bool IsPfns);

/// <summary>One folio's state as an implementation would report it, plus what the model knows besides.</summary>
public sealed record FolioView(
    string Key,
    int Order,
    long Refcount,
    long? Pincount,
    bool? MaybeDmaPinned,
    bool? Dirty,
    long OutstandingPins);

/// <summary>
/// Orders the rules of a count check that failed by how far the observed value is from the expected one: the rules whose
/// part in the value (a change left out, made twice, made in the wrong unit, or prevented yet made) accounts for exactly
/// that difference first; null when nothing accounts for it.
/// </summary>
public interface ICountExplainer
{
    IReadOnlyList<string>? Explain(string? observed, string expected, IReadOnlyList<string> rules);

    /// <summary>The rules of the change put first, and those of other changes that account for the difference as well.</summary>
    CountFit? Fit(string? observed, string expected, IReadOnlyList<string> rules);
}

/// <summary>What a count's difference says: the rules of the change that accounts for it (<see cref="Chosen"/>), and
/// those of other changes of the step that account for it in the same way (<see cref="Equally"/>, a tie).</summary>
public sealed record CountFit(IReadOnlyList<string> Chosen, IReadOnlyList<string> Equally);

/// <summary>
/// One comparison: the observation field <see cref="Field"/> must be one of <see cref="Allowed"/>; if it is not,
/// <see cref="Rules"/> are violated. A missing field is a violation too, unless <see cref="Absent"/> is allowed: that is
/// how the model says a field must not be reported (CONTRACT.md: an extraction that returns no bytes has no offset0).
/// </summary>
public sealed record FieldCheck(string Field, IReadOnlyList<string> Allowed, IReadOnlyList<string> Rules)
{
    /// <summary>The allowed value that stands for "the field is not reported".</summary>
    public const string Absent = "(not reported)";

    private readonly string _field = Field;
    private readonly IReadOnlyList<string> _allowed = Allowed;

    // What the check compares, worked out once (a check is asked of many observations): the field's number
    // (Observation.FieldId) and, when the field is a count or a flag and its one allowed value is a number's canonical
    // text (nearly every check), that number, so that an observation is checked by comparing numbers, not texts. Set
    // together with the field and the allowed values, and a plain value, so checks stay equal by value.
    private readonly Compared _compared = Compared.Of(Field, Allowed);

    /// <summary>The observation field compared (a name of <see cref="Observation.FieldNames"/>).</summary>
    public string Field
    {
        get => _field;
        init
        {
            _field = value;
            _compared = Compared.Of(value, _allowed);
        }
    }

    /// <summary>The values the field may have (canonical texts, or <see cref="Absent"/>).</summary>
    public IReadOnlyList<string> Allowed
    {
        get => _allowed;
        init
        {
            _allowed = value;
            _compared = Compared.Of(_field, value);
        }
    }

    private readonly record struct Compared(long Number, int FieldId, bool IsNumber)
    {
        public static Compared Of(string? field, IReadOnlyList<string>? allowed)
        {
            var id = field is null ? -1 : Observation.FieldId(field);
            return allowed is { Count: 1 } && Observation.TryParseNumber(id, allowed[0], out var n) ? new(n, id, true) : new(0, id, false);
        }
    }

    /// <summary>The rules to cite when the implementation does not report the field at all (null: <see cref="Rules"/>):
    /// for a folio a fault or a migration made, what made it comes first.</summary>
    public IReadOnlyList<string>? WhenAbsent { get; init; }

    /// <summary>What weighs the rules of a failing count by the difference observed (null: none recorded).</summary>
    public ICountExplainer? Explainer { get; init; }

    /// <summary>The rules a failing observation cites: what made the value first when it is not reported; for a count,
    /// the rules whose share explains the difference first (<see cref="ICountExplainer"/>).</summary>
    public IReadOnlyList<string> RulesFor(string? observed) => observed is null
        ? WhenAbsent ?? Rules
        : Explainer is { } e && Allowed.Count == 1 ? e.Explain(observed, Allowed[0], Rules) ?? Rules : Rules;

    /// <summary>For a count that failed with <paramref name="observed"/>: the rules other than <paramref name="cause"/>
    /// that the difference fits just as well (empty when the count names one change, or the cause is not the one it
    /// names).</summary>
    public IReadOnlyList<string> EquallyFitting(string? observed, string cause) =>
        observed is not null && Explainer is { } e && Allowed.Count == 1 && e.Fit(observed, Allowed[0], Rules) is { } fit
            && fit.Chosen.Contains(cause, StringComparer.Ordinal)
            ? fit.Equally
            : [];

    /// <summary>
    /// Whether an observation passes: the same answer as <see cref="Accepts(string?)"/> of its field's text (null when
    /// the implementation returned no observation), without making the text of a number or flag.
    /// </summary>
    public bool Accepts(Observation? observed)
    {
        if (_compared.IsNumber)
        {
            // The allowed value is a number: a field that is not reported (or no observation) passes only when
            // "(not reported)" is allowed, which it is not.
            return observed?.Number(_compared.FieldId) == _compared.Number;
        }

        // Text fields (and unusual allowed values): the observed text, made once, against each allowed one.
        return Accepts(observed is null ? null : observed.Field(_compared.FieldId));
    }

    /// <summary>Whether an observed value (null when the implementation did not report the field) passes.</summary>
    public bool Accepts(string? observed)
    {
        // Asked for every field of every observation: an index loop, no enumerator.
        var value = observed ?? Absent;
        for (var i = 0; i < Allowed.Count; i++)
        {
            if (string.Equals(Allowed[i], value, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>
/// What the model expects of a command's observation (its checks) and the rules the command exercised: a
/// <see cref="StepOutcome"/> without the next state, all an executor needs of a query, which leaves the state as it is
/// (<see cref="GupModel.Expect"/>).
/// </summary>
public readonly record struct Expectation(IReadOnlyList<FieldCheck> Checks, IReadOnlyList<string> Exercised);

/// <summary>
/// The model's answer for one command: the next state, the checks the observation must pass, the rule ids whose
/// behaviour this command exercised (the branches taken), and a one-line account of the model's change (written
/// when first read: only traces of failing sequences read it).
/// </summary>
public sealed class StepOutcome
{
    private readonly Func<string>? _account;
    private string? _change;

    public StepOutcome(ModelState next, IReadOnlyList<FieldCheck> checks, IReadOnlyList<string> exercised, string change)
        : this(next, checks, exercised, (Func<string>?)null) => _change = change;

    internal StepOutcome(ModelState next, IReadOnlyList<FieldCheck> checks, IReadOnlyList<string> exercised, Func<string>? account)
    {
        Next = next;
        Checks = checks;
        Exercised = exercised;
        _account = account;
    }

    public ModelState Next { get; }

    public IReadOnlyList<FieldCheck> Checks { get; }

    public IReadOnlyList<string> Exercised { get; }

    /// <summary>The checks and the exercised rules, without the next state.</summary>
    public Expectation Expected => new(Checks, Exercised);

    public string Change => _change ??= _account!();
}
