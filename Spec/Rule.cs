namespace GupConformance.Spec;

/// <summary>MUST rules are Linux's behaviour; SHOULD rules are expectations a port may reasonably differ on.</summary>
public enum RuleLevel
{
    Must,
    Should,
}

/// <summary>
/// One rule of the catalogue. <see cref="Id"/> is stable: it appears in test names, oracle checks, the reference
/// implementation's comments, reports and traces, so one grep finds all of them.
/// </summary>
public sealed record Rule(
    string Id,
    RuleLevel Level,
    string Group,
    Facet Facet,
    string Title,
    string Intent,
    string IfFails,
    string Source,
    Func<Profile, bool> AppliesTo)
{
    public IEnumerable<Profile> Profiles => Spec.Profiles.All.Where(AppliesTo);

    public bool Applies(Profile profile) => AppliesTo(profile) && (profile.Facets & Facet) == Facet;
}

/// <summary>The suite's semantic version: the major part changes whenever a rule's meaning changes.</summary>
public static class SuiteVersion
{
    public const string Value = "1.1.0";
}
