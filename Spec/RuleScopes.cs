namespace GupConformance.Spec;

/// <summary>How much of the accounting a rule speaks for, from the whole of a consumer down to one branch.</summary>
public enum RuleScope
{
    /// <summary>An argument convention the step's own input set off (NULL entries in a release array, an errno as the
    /// count): when the step exercised it, it decided everything the step did.</summary>
    Argument = -1,

    /// <summary>One behaviour: a branch, a convention, an edge case. What a bug breaks.</summary>
    Specific = 0,

    /// <summary>A mechanism many behaviours share (a hole faults, FOLL_GET adds one, the head page takes the reference,
    /// an error does not advance the iterator): broken when a specific behaviour built on it is.</summary>
    Mechanism = 1,

    /// <summary>What an extraction or a counter as a whole holds (user pages are pinned, acquired counts entries).</summary>
    Retention = 2,

    /// <summary>A consumer's or the release path's overall promise (a bio pins what it holds, release is the exact
    /// inverse, nothing else changes): every specific failure inside it breaks it too.</summary>
    Umbrella = 3,
}

/// <summary>
/// The scope of the rules that are broader than one behaviour. A check often cites several rules: the behaviour that
/// produced the value and the broader promises that behaviour is part of. When a check fails, the rule broken first
/// (the counterexample's cause) is the narrowest one the failing step itself exercised; these scopes say which rules
/// are broad. A rule not listed is <see cref="RuleScope.Specific"/>.
/// </summary>
public static class RuleScopes
{
    private static readonly Dictionary<string, RuleScope> Broad = new(StringComparer.Ordinal)
    {
        ["CORE-NO-COLLATERAL"] = RuleScope.Umbrella,
        ["REL-EXACT-INVERSE"] = RuleScope.Umbrella,
        ["BIO-PINS"] = RuleScope.Umbrella,
        ["BIO-REFS-LEGACY"] = RuleScope.Umbrella,
        ["FV-PINS"] = RuleScope.Umbrella,
        ["NETFS-PINS-USER"] = RuleScope.Umbrella,

        // Every check of a *_remote call rests on the walk looking in the mm it was given; the mm's own mark
        // (GUP-PIN-MARKS-MM) and what the walk did there are the behaviours a check tells apart.
        ["GUP-REMOTE-TARGET-MM"] = RuleScope.Umbrella,
        ["IOV-USER-PIN"] = RuleScope.Retention,
        ["VMSTAT-ACQ-PER-ENTRY"] = RuleScope.Retention,
        ["VMSTAT-REL-PER-ENTRY"] = RuleScope.Retention,
        ["PIN-EXACT-LARGE"] = RuleScope.Retention,
        ["PIN-EXACT-ORDER1"] = RuleScope.Retention,
        ["MDP-BIAS-THRESHOLD"] = RuleScope.Retention,
        ["IOV-CLAMP-MAXSIZE"] = RuleScope.Retention,
        ["FV-REFS-NORMAL"] = RuleScope.Retention,
        ["API-FAULT-HOLE"] = RuleScope.Mechanism,
        ["API-VMIO-PFNMAP"] = RuleScope.Mechanism,
        ["IOV-FAULT-NO-ADVANCE"] = RuleScope.Mechanism,
        ["REF-LARGE-FOLIO-HEAD"] = RuleScope.Mechanism,
        ["REF-GET-PLUS-ONE"] = RuleScope.Mechanism,
        ["REF-IMPLIED-GET"] = RuleScope.Mechanism,
        ["OVF-NO-SATURATION"] = RuleScope.Mechanism,
        ["REL-UNPIN-NULL-ENTRY"] = RuleScope.Argument,
        ["REL-UNPIN-ERRNO-COUNT"] = RuleScope.Argument,
    };

    /// <summary>
    /// Rules whose breach depends on what the implementation answered. A return convention (how a refusal or a failure
    /// part-way is reported) is broken first when the implementation refused or failed too and reported it the other
    /// way, and is only context when it did not refuse at all (then the reason it should have is broken). A rule that
    /// an era accepts something is broken first when the implementation refused it (-EINVAL), and is context otherwise.
    /// </summary>
    private static readonly Dictionary<string, Func<string?, IReadOnlyList<string>, string, bool>> ByValue = new(StringComparer.Ordinal)
    {
        // pin_*() refuse with 0 from v6.3: a -EINVAL where 0 was due is the old convention kept.
        ["API-PIN-RETURNS-ZERO"] = (observed, allowed, _) => observed == "-EINVAL" && allowed.Contains("0"),

        // A failure after k entries returns k: an error (or nothing) where a count was due is the convention broken.
        // Consumers (netfs, bios) report a failed extraction by conventions of their own, which their steps cite; but a
        // bio that should hold the pages taken before the failure returns 0, so an error there is the partial result lost.
        ["GUP-PARTIAL-RESULT"] = (observed, allowed, command) => observed is not null && (observed == "0" || observed.StartsWith('-'))
            && (command.StartsWith("bio_", StringComparison.Ordinal)
                ? observed.StartsWith('-') && allowed.All(a => a == "0")
                : allowed.All(IsPositiveCount) && !command.StartsWith("netfs_", StringComparison.Ordinal)),

        // A *_remote call that found a hole (-EFAULT) where the mm it was given has pages looked somewhere else: that is
        // the walk's target broken, whatever the pages would then have been held by.
        ["GUP-REMOTE-TARGET-MM"] = (observed, allowed, command) => observed == "-EFAULT" && command.Contains("_remote(", StringComparison.Ordinal)
            && allowed.Count > 0 && allowed.All(IsPositiveCount),

        // What the era accepts, refused (with -EINVAL, or with a pin entry point's 0).
        ["API-TOUCH-ACCEPTED-LEGACY"] = Refused,
        ["API-LONGTERM-GET-LEGACY"] = Refused,
    };

    // get_user_pages_fast_only() answers 0 for "nothing taken", never as a refusal.
    private static bool Refused(string? observed, IReadOnlyList<string> allowed, string command) =>
        (observed == "-EINVAL" || (observed == "0" && !command.Contains("_fast_only(", StringComparison.Ordinal))) && !allowed.Contains(observed);

    private static bool IsPositiveCount(string value) => long.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n > 0;

    public static RuleScope Of(string ruleId) => Broad.GetValueOrDefault(ruleId, RuleScope.Specific);

    /// <summary>The rules given a scope here (for the catalogue test).</summary>
    public static IEnumerable<string> Listed => Broad.Keys.Concat(ByValue.Keys);

    /// <summary>
    /// The rule broken first among a failing check's rules: the narrowest one the failing step exercised (or, when it
    /// exercised none of them or only umbrella promises, the narrowest cited), in the check's order on a tie; a rule
    /// whose breach depends on the answer (above) comes first or last by what was <paramref name="observed"/> against
    /// what was <paramref name="allowed"/> for the <paramref name="command"/> (as rendered).
    /// </summary>
    public static string Cause(IReadOnlyList<string> checkRules, IReadOnlyCollection<string> stepExercised, string? observed, IReadOnlyList<string> allowed, string command = "")
    {
        ArgumentNullException.ThrowIfNull(checkRules);
        ArgumentNullException.ThrowIfNull(stepExercised);
        ArgumentNullException.ThrowIfNull(allowed);
        // A rule whose breach depends on the answer comes first when the answer breaks it; otherwise it keeps its scope
        // if it has one, and is context (last) if not.
        int Rank(string id) => ByValue.TryGetValue(id, out var broken)
            ? (broken(observed, allowed, command) ? -1 : Broad.TryGetValue(id, out var scope) ? (int)scope : 4)
            : (int)Of(id);
        var cited = checkRules.OrderBy(Rank).First();
        var exercised = checkRules.Where(stepExercised.Contains).OrderBy(Rank).FirstOrDefault();

        // An umbrella the step exercised (a remote call rests on its mm, a bio on its promise) says where, not what: a
        // narrower rule the check cites, even one the step did not exercise (a FOLL_GET step that marked the mm breaks
        // GUP-PIN-MARKS-MM without exercising it), is what broke.
        return exercised is null || (Rank(exercised) >= (int)RuleScope.Umbrella && Rank(cited) < (int)RuleScope.Umbrella) ? cited : exercised;
    }
}
