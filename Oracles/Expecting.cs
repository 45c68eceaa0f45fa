using GupConformance.Spec;

namespace GupConformance.Oracles;

/// <summary>
/// The checks an observation must pass and the rules a command exercised, as a step or a query builds them: the one
/// place where the rules they cite are filtered to the profile's (a rule of another era is never cited), where a check
/// that cites none cites CORE-NO-COLLATERAL, and where the exercised rules are made distinct and sorted. A step builds
/// them with its working copy of the state (<see cref="StepContext"/>); a query of a folio, the pin counters or an
/// address space needs nothing else (InspectStep).
/// </summary>
internal class Expecting
{
    private readonly List<FieldCheck> _checks = [];
    private readonly List<string> _exercised = [];
    private readonly IReadOnlySet<string> _applicable;

    public Expecting(Profile profile) => _applicable = Rules.ApplicableTo(profile);

    // The rule lists are read by index (every caller has a list or an array): a foreach over the interface would
    // allocate an enumerator for every check and every exercised list.

    /// <summary>The subset of <paramref name="ids"/> that applies to this profile (never cite a rule of another era).</summary>
    public List<string> Applicable(IReadOnlyList<string> ids)
    {
        var list = new List<string>(ids.Count);
        AddApplicable(list, ids);
        return list;
    }

    public void Exercise(params string[] ids) => Exercise((IReadOnlyList<string>)ids);

    public void Exercise(IReadOnlyList<string> ids) => AddApplicable(_exercised, ids);

    /// <summary>Adds each of <paramref name="ids"/> that applies to this profile and is not in <paramref name="list"/> yet.</summary>
    private void AddApplicable(List<string> list, IReadOnlyList<string> ids)
    {
        for (var i = 0; i < ids.Count; i++)
        {
            if (AppliesHere(ids[i]) && !list.Contains(ids[i]))
            {
                list.Add(ids[i]);
            }
        }
    }

    /// <summary>Whether rule <paramref name="id"/> applies to this profile; an unknown id is an error of the model.</summary>
    private bool AppliesHere(string id) => _applicable.Contains(id) || (Rules.Exists(id) ? false : throw new KeyNotFoundException($"no rule '{id}'"));

    private const string VmstatFieldPrefix = "nr_foll_pin_";
    private const string VmstatRulePrefix = "VMSTAT-";

    /// <summary>One field check with one allowed value; the rules are filtered to the profile (and never empty).</summary>
    public void Check(string field, string value, IReadOnlyList<string> rules) => Check(field, [value], rules);

    public void Check(string field, IReadOnlyList<string> allowed, IReadOnlyList<string> rules)
    {
        // The VMSTAT rules say what the nr_foll_pin_* counters do; a step's other fields (its result, its pages, an
        // iterator's count) never rest on them, so they are not cited there even when the step exercised them.
        var cited = Applicable(rules);
        if (!field.StartsWith(VmstatFieldPrefix, StringComparison.Ordinal))
        {
            cited.RemoveAll(id => id.StartsWith(VmstatRulePrefix, StringComparison.Ordinal));
        }

        if (cited.Count == 0)
        {
            cited.Add("CORE-NO-COLLATERAL");
        }

        _checks.Add(new FieldCheck(field, allowed, cited));
    }

    /// <summary>A check citing a provenance (see <see cref="Prov.CiteIn"/>: filtered once per provenance, not per check).</summary>
    public void Check(string field, string value, Prov prov, bool collateral) =>
        _checks.Add(new FieldCheck(field, [value], prov.CiteIn(_applicable, collateral)));

    /// <summary>As above, and <paramref name="also"/> (when the profile has it) as one more rule the value rests on.</summary>
    public void Check(string field, string value, Prov prov, bool collateral, string? also)
    {
        var cited = prov.CiteIn(_applicable, collateral);
        if (also is not null && _applicable.Contains(also) && !cited.Contains(also))
        {
            cited = [.. cited, also];
        }

        IReadOnlyList<string>? whenAbsent = null;
        if (!prov.MadeBy.IsEmpty)
        {
            var made = Applicable(prov.MadeBy);
            whenAbsent = [.. made, .. cited.Where(id => !made.Contains(id, StringComparer.Ordinal))];
        }

        _checks.Add(new FieldCheck(field, [value], cited) { WhenAbsent = whenAbsent, Explainer = prov.Shares.IsEmpty ? null : prov });
    }

    /// <summary>The field must not be reported at all (see <see cref="FieldCheck.Absent"/>).</summary>
    public void CheckAbsent(string field, IReadOnlyList<string> rules) => Check(field, FieldCheck.Absent, rules);

    private static readonly Comparison<string> OrdinalOrder = string.CompareOrdinal;

    /// <summary>The checks and the exercised rules, these sorted: what the command expects (build nothing after this).</summary>
    public (List<FieldCheck> Checks, List<string> Exercised) Expected()
    {
        // With a comparer, List.Sort makes a comparison delegate on every call: a comparison made once.
        _exercised.Sort(OrdinalOrder);
        return (_checks, _exercised);
    }
}
