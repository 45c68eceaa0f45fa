using GupConformance.Spec;

namespace GupConformance.Engine;

/// <summary>The names of the generator's moves: single commands and short scenarios of dependent commands.</summary>
public static class Moves
{
    public const string Map = "map";
    public const string Gup = "gup";
    public const string GupHammer = "gup_hammer";
    public const string GupRelease = "gup_release";
    public const string Release = "release";
    public const string FolioAddPin = "folio_add_pin";
    public const string UnpinArray = "unpin_array";
    public const string IterInit = "iter_init";
    public const string IterExtract = "iter_extract";
    public const string IterExtractNoMem = "iter_extract_nomem";
    public const string IterRetention = "iter_retention";
    public const string IterScenario = "iter_scenario";
    public const string BioAdd = "bio_add";
    public const string BioRelease = "bio_release";
    public const string BioScenario = "bio_scenario";
    public const string FvCreate = "fv_create";
    public const string FvGet = "fv_get";
    public const string FvPut = "fv_put";
    public const string FvScenario = "fv_scenario";
    public const string NetfsExtract = "netfs_extract";
    public const string NetfsFree = "netfs_free";
    public const string NetfsScenario = "netfs_scenario";

    /// <summary>The facets a move can serve (any one of them enables it).</summary>
    public static Facet Needs(string move) => move switch
    {
        Map or Gup or GupHammer or GupRelease or Release or FolioAddPin => Facet.Core,
        UnpinArray => Facet.ReleaseArguments,
        IterInit => Facet.IovIter | Facet.Bio | Facet.Netfs,
        IterExtract or IterRetention or IterScenario => Facet.IovIter,
        IterExtractNoMem => Facet.AllocFailure,
        BioAdd or BioRelease or BioScenario => Facet.Bio,
        FvCreate or FvGet or FvPut or FvScenario => Facet.FrameVector,
        NetfsExtract or NetfsFree or NetfsScenario => Facet.Netfs,
        _ => Facet.None,
    };
}

/// <summary>The region templates the set-up (and later map moves) draw from.</summary>
public static class RegionTemplates
{
    /// <summary>Anonymous order-0 folios, refcount 1.</summary>
    public const string Small = "small";

    /// <summary>Large anonymous folios of order 1..10.</summary>
    public const string Large = "large";

    /// <summary>One or two folios of order 11..18.</summary>
    public const string Huge = "huge";

    /// <summary>A never-written anonymous region mapping the zero page.</summary>
    public const string Zero = "zero";

    public const string File = "file";
    public const string Io = "io";
    public const string PfnMap = "pfnmap";

    /// <summary>Folios starting at refcount 1000..1024 (small or large): the GUP_PIN_COUNTING_BIAS threshold.</summary>
    public const string Boundary = "boundary";

    /// <summary>Folios starting near int.MaxValue - k*1024: the overflow neighbourhood.</summary>
    public const string Overflow = "overflow";

    public static Facet Needs(string template) => template switch
    {
        Large or Huge => Facet.LargeFolios,
        Zero => Facet.ZeroPage,
        _ => Facet.Core,
    };
}

/// <summary>
/// The generator's tuning table: a weight per move, a weight per region template, and the set-up size. Weights
/// are relative (0 disables). Use <c>with</c> or <see cref="WithMove"/> to tune; the defaults aim at exercising
/// every rule of each profile in the default run.
/// </summary>
public sealed record GeneratorWeights
{
    public static GeneratorWeights Default { get; } = new();

    public IReadOnlyDictionary<string, int> MoveWeights { get; init; } = new Dictionary<string, int>(StringComparer.Ordinal)
    {
        [Moves.Map] = 2,
        [Moves.Gup] = 24,
        [Moves.GupHammer] = 4,
        [Moves.GupRelease] = 8,
        [Moves.Release] = 14,
        [Moves.FolioAddPin] = 3,
        [Moves.UnpinArray] = 3,
        [Moves.IterInit] = 2,
        [Moves.IterExtract] = 4,
        [Moves.IterExtractNoMem] = 1,
        [Moves.IterRetention] = 2,
        [Moves.IterScenario] = 6,
        [Moves.BioAdd] = 2,
        [Moves.BioRelease] = 2,
        [Moves.BioScenario] = 6,
        [Moves.FvCreate] = 1,
        [Moves.FvGet] = 2,
        [Moves.FvPut] = 2,
        [Moves.FvScenario] = 5,
        [Moves.NetfsExtract] = 1,
        [Moves.NetfsFree] = 1,
        [Moves.NetfsScenario] = 4,
    };

    public IReadOnlyDictionary<string, int> RegionWeights { get; init; } = new Dictionary<string, int>(StringComparer.Ordinal)
    {
        [RegionTemplates.Small] = 6,
        [RegionTemplates.Large] = 5,
        [RegionTemplates.Huge] = 1,
        [RegionTemplates.Zero] = 3,
        [RegionTemplates.File] = 2,
        [RegionTemplates.Io] = 1,
        [RegionTemplates.PfnMap] = 1,
        [RegionTemplates.Boundary] = 2,
        [RegionTemplates.Overflow] = 2,
    };

    /// <summary>Regions mapped before the first other command (each sequence draws a number in this range).</summary>
    public int SetupRegionsMin { get; init; } = 2;

    public int SetupRegionsMax { get; init; } = 5;

    /// <summary>Swarm testing: every other sequence draws its own subset of moves, templates and flag chances.</summary>
    public bool Swarm { get; init; } = true;

    /// <summary>With coverage steering on: the share of moves (percent) spent on an edge case no sequence has reached yet.</summary>
    public int DirectedPercent { get; init; } = 20;

    /// <summary>Moves tried per command before falling back to mapping a fresh region.</summary>
    public int AttemptsPerCommand { get; init; } = 16;

    /// <summary>The largest folio order a region may have (the manifest's max_order): larger choices are left out.</summary>
    public int MaxOrder { get; init; } = Sizes.MaxOrder;

    public GeneratorWeights WithMove(string move, int weight)
    {
        var d = new Dictionary<string, int>(MoveWeights, StringComparer.Ordinal) { [move] = weight };
        return this with { MoveWeights = d };
    }

    public GeneratorWeights WithRegion(string template, int weight)
    {
        var d = new Dictionary<string, int>(RegionWeights, StringComparer.Ordinal) { [template] = weight };
        return this with { RegionWeights = d };
    }
}
