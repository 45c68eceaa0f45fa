using GupConformance.Oracles;
using GupConformance.Spec;

namespace GupConformance.Tests;

/// <summary>
/// A model-only scenario run: each command must be valid; the last outcome is kept for assertions. Shared by
/// the scenario tests of Scenarios/ (linked into the mutation test project too).
/// </summary>
internal sealed class ModelRun(Profile profile)
{
    public ModelState State { get; private set; } = GupModel.Init(profile);

    public StepOutcome Last { get; private set; } = null!;

    public Profile Profile => profile;

    public ModelRun Do(Command c)
    {
        var why = GupModel.Precondition(State, c);
        Assert.True(why is null, $"{c} invalid: {why}");
        Last = GupModel.Step(State, c);
        State = Last.Next;
        return this;
    }

    /// <summary>The single allowed value of the last check of <paramref name="field"/>.</summary>
    public string V(string field)
    {
        var check = Last.Checks.Last(k => k.Field == field);
        return Assert.Single(check.Allowed);
    }

    public bool Has(string field) => Last.Checks.Any(k => k.Field == field);

    public IReadOnlyList<string> RulesOf(string field) => Last.Checks.Last(k => k.Field == field).Rules;

    public bool Exercised(string id) => Last.Exercised.Contains(id);

    /// <summary>InspectFolio and return its checked fields (the era-exact maybe_dma_pinned).</summary>
    public ModelRun Inspect(string folio) => Do(new InspectFolio(folio));

    public ModelRun Vmstat() => Do(new ReadVmstat());

    public string? Invalid(Command c) => GupModel.Precondition(State, c);

    /// <summary>The address scenarios map their first region at.</summary>
    public const ulong A = 0x10000000;

    public static ModelRun Anon(Profile p, int folios = 1, int order = 0, int startRefcount = 1, ulong at = A, int region = 1) =>
        new ModelRun(p).Do(new MapRegion(region, RegionKind.Anon, at, folios, order, startRefcount));

    public static ModelRun Zero(Profile p, int pages = 2, ulong at = A, int region = 1) =>
        new ModelRun(p).Do(new MapRegion(region, RegionKind.Zero, at, pages));

    /// <summary>Region 1: eight order-0 folios at A; region 2: one folio of order <paramref name="largeOrder"/> at <paramref name="large"/>; iterator 1 over <paramref name="segs"/>.</summary>
    public static ModelRun Iter(Profile p, IterKind kind, IterDir dir, ulong large, int largeOrder, params IterSeg[] segs) =>
        Anon(p, folios: 8).Do(new MapRegion(2, RegionKind.Anon, large, 1, largeOrder)).Do(new IterInit(1, kind, dir, segs));

    public static Gup Pin(int call, ulong start, long n, Foll flags = Foll.None, EntryPoint e = EntryPoint.PinUserPages, bool pages = true) =>
        new(call, e, start, n, flags, pages);

    public static Gup Get(int call, ulong start, long n, Foll flags = Foll.None, EntryPoint e = EntryPoint.GetUserPages, bool pages = true) =>
        new(call, e, start, n, flags, pages);
}
