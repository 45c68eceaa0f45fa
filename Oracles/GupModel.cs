using GupConformance.Spec;

namespace GupConformance.Oracles;

/// <summary>
/// The model's state: immutable; every Step returns a new one. The public members below are the fixed API the
/// engine uses; they are views computed (once, lazily) from the internal state in State.cs, which is what the
/// model itself works with (folios as counters, pages arrays as runs).
/// </summary>
public sealed partial class ModelState
{
    private IReadOnlyList<RegionView>? _regions;
    private IReadOnlyDictionary<int, IReadOnlyList<EntryRun>>? _arrays;
    private IReadOnlyList<IterView>? _iters;
    private IReadOnlyList<int>? _bios;
    private IReadOnlyList<FvView>? _frameVectors;
    private IReadOnlyList<int>? _netfsRequests;
    private IReadOnlyList<FolioView>? _folios;
    private IReadOnlyDictionary<string, string>? _describe;

    public required Profile Profile { get; init; }

    /// <summary>Mapped regions in creation order.</summary>
    public IReadOnlyList<RegionView> Regions { get => _regions ??= BuildRegions(); init => _regions = value; }

    /// <summary>Pages arrays by call id (from Gup, IterExtract, FolioAddPin), entries as runs in array order.</summary>
    public IReadOnlyDictionary<int, IReadOnlyList<EntryRun>> Arrays { get => _arrays ??= BuildArrays(); init => _arrays = value; }

    public IReadOnlyList<IterView> Iters { get => _iters ??= BuildIters(); init => _iters = value; }

    /// <summary>Live bios (built and not yet released).</summary>
    public IReadOnlyList<int> Bios { get => _bios ??= [.. BioMap.Keys]; init => _bios = value; }

    public IReadOnlyList<FvView> FrameVectors { get => _frameVectors ??= BuildFrameVectors(); init => _frameVectors = value; }

    /// <summary>Live netfs requests (extracted and not yet freed).</summary>
    public IReadOnlyList<int> NetfsRequests { get => _netfsRequests ??= [.. NetfsMap.Keys]; init => _netfsRequests = value; }

    /// <summary>Every folio that exists, in creation order (the zero page once any Zero region is mapped).</summary>
    public IReadOnlyList<FolioView> Folios { get => _folios ??= BuildFolios(); init => _folios = value; }

    /// <summary>The folio of <see cref="Folios"/> with key <paramref name="key"/>, or null; without building the others' views.</summary>
    public FolioView? FolioByKey(string key) => FindFolio(key) is { } f ? InspectStep.View(Profile, f) : null;

    /// <summary>The keys of <see cref="Folios"/>, in the same order, without building the views.</summary>
    public IReadOnlyList<string> FolioKeys => Layout.FolioKeys;

    public long Acquired { get; init; }

    public long Released { get; init; }

    /// <summary>A canonical text view (key → value) used to show the model's change step by step.</summary>
    public IReadOnlyDictionary<string, string> Describe() => _describe ??= BuildDescribe();
}

/// <summary>
/// The reference model: Init / Precondition / Step, pure and profile-parameterised. Every era difference is read
/// from the <see cref="Profile"/>; every check and exercised behaviour names the rule ids of Spec/Rules.cs.
/// </summary>
public static class GupModel
{
    public static ModelState Init(Profile profile) => new() { Profile = profile };

    /// <summary>Null when <paramref name="command"/> is valid in <paramref name="state"/>; otherwise why not.</summary>
    public static string? Precondition(ModelState state, Command command)
    {
        var why = Validity.Check(state, command);
        t_accepted = why is null ? (state, command) : default;
        return why;
    }

    // The last command this thread's Precondition accepted, and the state it accepted it in. Callers ask Precondition
    // and then Step the same command (the generator for every command it makes, a replay for every command it reads):
    // Step, which must refuse an invalid command too, need not check it a second time. States and commands are
    // immutable, so the very same pair has the very same answer.
    [ThreadStatic]
    private static (ModelState? State, Command? Command) t_accepted;

    /// <summary>Whether this thread's last <see cref="Precondition"/> accepted exactly this command in exactly this state.</summary>
    private static bool JustAccepted(ModelState state, Command command) =>
        ReferenceEquals(t_accepted.State, state) && ReferenceEquals(t_accepted.Command, command);

    /// <summary>
    /// Precondition and Step in one for the queries an executor makes after every action (a folio's inspection, the pin
    /// counters, an address space's mark), the most frequent commands, without the outcome object: the checks and the
    /// exercised rules, all an executor needs of a query (it leaves the state as it is). It makes nothing where the model
    /// remembers the checks. Null where the query does not apply (no such folio, no counters or mark in this era).
    /// </summary>
    public static Expectation? Expect(ModelState state, Command query)
    {
        if (!query.IsQuery)
        {
            throw new ArgumentException($"{query.GetType().Name} is not a query: its outcome has a next state, which only Step gives", nameof(query));
        }

        return (query.Needs & state.Profile.Facets) == 0 ? null
            : query switch
            {
                InspectFolio f => InspectStep.FolioAnswer(state, f),
                ReadVmstat => state.Profile.HasPinVmstat ? InspectStep.VmstatAnswer(state) : null,
                InspectMm mm => Precondition(state, mm) is null ? InspectStep.MmAnswer(state, mm) : null,
                _ => Precondition(state, query) is null ? Step(state, query).Expected : null,
            };
    }

    /// <summary>Applies a valid command. Throws <see cref="InvalidOperationException"/> if the precondition fails.</summary>
    public static StepOutcome Step(ModelState state, Command command)
    {
        if (command is InspectFolio inspect)
        {
            // The most frequent command (after every action, once per folio): its only precondition is that the folio
            // exists, which finding it answers.
            return InspectStep.FolioOutcome(state, inspect)
                ?? throw new InvalidOperationException($"invalid command {command}: no folio {inspect.Folio}");
        }

        var why = JustAccepted(state, command) ? null : Precondition(state, command);
        if (why is not null)
        {
            throw new InvalidOperationException($"invalid command {command}: {why}");
        }

        // The other two queries asked after every action: their checks are remembered too (InspectStep).
        switch (command)
        {
            case ReadVmstat:
                return InspectStep.VmstatOutcome(state);
            case InspectMm mm:
                return InspectStep.MmOutcome(state, mm);
        }

        var ctx = new StepContext(state, command.IsQuery);
        switch (command)
        {
            case MapRegion c:
                Memory.Map(ctx, c);
                break;
            case Gup c:
                GupStep.Run(ctx, c);
                break;
            case Release c:
                ReleaseStep.Run(ctx, c);
                break;
            case UnpinArray c:
                ReleaseStep.UnpinArray(ctx, c);
                break;
            case FolioAddPin c:
                ReleaseStep.AddPin(ctx, c);
                break;
            case IterInit c:
                IovStep.Init(ctx, c);
                break;
            case IterExtract c:
                IovStep.Extract(ctx, c);
                break;
            case IterRetention c:
                IovStep.Retention(ctx, c);
                break;
            case BioAdd c:
                BioStep.Add(ctx, c);
                break;
            case BioRelease c:
                BioStep.Release(ctx, c);
                break;
            case FvCreate c:
                FrameVectorStep.Create(ctx, c);
                break;
            case FvGet c:
                FrameVectorStep.Get(ctx, c);
                break;
            case FvPut c:
                FrameVectorStep.Put(ctx, c);
                break;
            case NetfsExtract c:
                NetfsStep.Extract(ctx, c);
                break;
            case NetfsFree c:
                NetfsStep.Free(ctx, c);
                break;
            default:
                throw new InvalidOperationException($"unknown command {command.GetType().Name}");
        }

        return ctx.Finish();
    }
}
