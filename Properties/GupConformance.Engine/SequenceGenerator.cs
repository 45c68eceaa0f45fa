using GupConformance.Engine.Coverage;
using GupConformance.Oracles;
using GupConformance.Spec;

namespace GupConformance.Engine;

/// <summary>
/// Generates command sequences that are valid by construction: while generating it keeps the model's state and
/// emits a command only if <see cref="GupModel.Precondition"/> accepts it and its <see cref="Command.Needs"/>
/// intersect the usable facets (manifest ∩ profile). Deterministic: the same (profile, facets, weights, seed,
/// length) always gives the same sequence (<see cref="Prng"/>, no other source of randomness).
/// Every sequence has exactly <c>length</c> commands unless the model refuses everything (it then ends early)
/// or the model throws on a command (that command is the last one, so the executor reports the model error).
/// <para>
/// Swarm testing: every other sequence (a coin of its own seed) draws its own subset of the enabled moves and region
/// templates, and its own chances of FOLL_WRITE, FOLL_LONGTERM and probe flags, so combinations the full mix makes rare
/// are common in some sequences. Coverage steering: given an <see cref="EdgeTally"/> (a conformance run passes its own),
/// the generator labels every command it emits with the edge cases it reached (<see cref="EdgeCases.Collect"/>) and spends a
/// share of the moves (<see cref="GeneratorWeights.DirectedPercent"/>) on a target of <see cref="EdgeCases.Targets"/>
/// that no sequence has reached yet; a sequence then depends on the run seed and on the sequences before it.
/// </para>
/// </summary>
public sealed class SequenceGenerator
{
    /// <summary>Where the first region is mapped.</summary>
    public const ulong BaseAddress = 0x10000000;

    /// <summary>The highest user address (TASK_SIZE_MAX on x86-64).</summary>
    public const ulong TaskSizeMax = 0x7FFFFFFFF000;

    private const long Page = Sizes.PageSize;

    private static readonly Foll[] ProbeFlags =
    [
        Foll.Pin, Foll.Get, Foll.LongTerm, Foll.Touch, Foll.Tried, Foll.Remote, Foll.FastOnly, Foll.Unlockable,
        Foll.MadvPopulate, Foll.Dump, Foll.NoWait, Foll.HwPoison, Foll.Anon, Foll.SplitPmd, Foll.NoFault,
        Foll.PciP2pDma, Foll.Interruptible, Foll.HonorNumaFault,
    ];

    private readonly Profile _profile;
    private readonly Facet _facets;
    private readonly GeneratorWeights _weights;
    private readonly (string Move, int Weight)[] _moves;
    private readonly (string Template, int Weight)[] _templates;

    private readonly EdgeTally? _tally;

    // The open targets of each of the tally's two lists (never reached, reached too rarely) grouped by family, as a
    // sequence that has reached none of them sees them (Context.OpenByFamily): the same for every sequence until the
    // tally's list changes, so each is made once per list; a sequence that takes a target out copies what it changes
    // (Context.Own).
    private readonly (IReadOnlyList<EdgeTarget>? Of, List<List<EdgeTarget>>? Groups)[] _grouped = new (IReadOnlyList<EdgeTarget>?, List<List<EdgeTarget>>?)[2];

    public SequenceGenerator(Profile profile, Facet facets, GeneratorWeights? weights = null, EdgeTally? tally = null)
    {
        _profile = profile;
        _facets = facets & profile.Facets;
        _weights = weights ?? GeneratorWeights.Default;
        _tally = tally;
        _moves = _weights.MoveWeights
            .Where(kv => kv.Value > 0 && (Moves.Needs(kv.Key) & _facets) != 0 && MoveFitsProfile(kv.Key))
            .OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => (kv.Key, kv.Value))
            .ToArray();
        _templates = _weights.RegionWeights
            .Where(kv => kv.Value > 0 && (RegionTemplates.Needs(kv.Key) & _facets) == RegionTemplates.Needs(kv.Key)
                && (kv.Key != RegionTemplates.Huge || _weights.MaxOrder > 10))
            .OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => (kv.Key, kv.Value))
            .ToArray();
    }

    public Profile Profile => _profile;

    /// <summary>The facets commands may need: the manifest's, restricted to the profile's.</summary>
    public Facet Facets => _facets;

    /// <summary>The moves this generator can draw, with their weights (facet- and profile-filtered).</summary>
    public IReadOnlyList<(string Move, int Weight)> EnabledMoves => _moves;

    /// <summary>Convenience: one sequence for a profile under the given facets.</summary>
    public static Command[] Generate(Profile profile, Facet facets, ulong seed, int length, GeneratorWeights? weights = null)
        => new SequenceGenerator(profile, facets, weights).Generate(seed, length);

    public Command[] Generate(ulong seed, int length) => Generate(seed, length, out _);

    /// <summary>
    /// One sequence, and the model's outcome of each of its commands as the generator stepped it (shorter than the
    /// sequence only when the model threw on the last command). The executor reuses them instead of stepping the
    /// model a second time on the same actions.
    /// </summary>
    public Command[] Generate(ulong seed, int length, out StepOutcome[] outcomes) => Generate(seed, length, out outcomes, out _);

    /// <summary>As above, and the edge-case labels the sequence reached (empty without a tally: nothing is steered).</summary>
    public Command[] Generate(ulong seed, int length, out StepOutcome[] outcomes, out IReadOnlyCollection<string> labels)
    {
        var ctx = new Context(this, new Prng(seed), length);
        ctx.Run();
        outcomes = [.. ctx.Outcomes];
        labels = ctx.Labels;
        return [.. ctx.Commands];
    }

    private bool MoveFitsProfile(string move) => move switch
    {
        Moves.FolioAddPin => _profile.HasFolioAddPin,
        Moves.UnpinArray => _profile.UnpinRefusesErrnoCount || _profile.UnpinSkipsNullEntry,
        Moves.IterExtract or Moves.IterExtractNoMem or Moves.IterRetention or Moves.IterScenario => _profile.Iov != IovScheme.None,
        Moves.NetfsExtract or Moves.NetfsFree or Moves.NetfsScenario => _profile.HasNetfs,
        _ => true,
    };

    /// <summary>The state of one generation.</summary>
    private sealed class Context
    {
        private readonly SequenceGenerator _g;
        private readonly Prng _rng;
        private readonly int _length;
        private int _nextRegion = 1;
        private int _nextCall = 1;
        private int _nextIter = 1;
        private int _nextBio = 1;
        private int _nextFv = 1;
        private int _nextNetfs = 1;
        private bool _stopped;

        // This sequence's swarm: the moves and templates it may draw, and its flag chances (percent).
        private (string Item, int Weight)[] _moves;
        private (string Item, int Weight)[] _templates;
        private int _writeChance = 45;
        private int _longTermChance = 30;
        private int _probeChance = 18;
        private readonly HashSet<string> _labels = new(StringComparer.Ordinal);

        // The labels of the command being emitted (EdgeCases.Collect), one list for the whole sequence.
        private readonly List<string> _found = [];

        // PickHeld's candidates (call, index of the run's first entry, run) and the call ids in order, one list each for the sequence.
        private readonly List<(int Call, long Index, int Run)> _held = [];
        private readonly List<int> _callIds = [];

        private List<List<EdgeTarget>>? _byFamily;

        // The generator's shared grouping _byFamily started from: its groups (never changed) are still shared until Own
        // copies them.
        private List<List<EdgeTarget>>? _sharedGroups;

        // The list _byFamily was made from: the targets fewer than this many sequences reached (1: never reached).
        private long _openBelow;

        private bool FromNever => _openBelow == 1;

        public Context(SequenceGenerator g, Prng rng, int length)
        {
            _g = g;
            _rng = rng;
            _length = length;
            State = GupModel.Init(g._profile);
            _moves = g._moves;
            _templates = g._templates;
            if (g._weights.Swarm && _rng.Chance(50))
            {
                _moves = Subset(g._moves);
                _templates = Subset(g._templates);
                _writeChance = _rng.Pick([0, 45, 90]);
                _longTermChance = _rng.Pick([0, 30, 80]);
                _probeChance = _rng.Pick([0, 18, 60]);
            }
        }

        /// <summary>Each item kept with probability 1/2 (all of them if none is kept).</summary>
        private (string, int)[] Subset((string Item, int Weight)[] all)
        {
            var kept = all.Where(_ => _rng.Chance(50)).ToArray();
            return kept.Length == 0 ? all : kept;
        }

        public List<Command> Commands { get; } = [];

        public List<StepOutcome> Outcomes { get; } = [];

        public IReadOnlyCollection<string> Labels => _labels;

        private ModelState State { get; set; }

        private Profile P => _g._profile;

        private Facet F => _g._facets;

        private bool Full => _stopped || Commands.Count >= _length;

        public void Run()
        {
            var setup = _rng.Range(_g._weights.SetupRegionsMin, Math.Max(_g._weights.SetupRegionsMin, _g._weights.SetupRegionsMax));
            for (var i = 0; i < setup && !Full; i++)
            {
                var ok = false;
                for (var attempt = 0; attempt < 4 && !ok && !Full; attempt++)
                {
                    ok = Emit(MapMove(null)) > 0;
                }
            }

            while (!Full)
            {
                var progressed = false;
                if (_g._tally is not null && _rng.Chance(_g._weights.DirectedPercent) && PickTarget() is { } target)
                {
                    progressed = Emit(Directed(target)) > 0;
                }

                for (var attempt = 0; attempt < _g._weights.AttemptsPerCommand && !progressed && !Full; attempt++)
                {
                    var move = _rng.Weighted(_moves);
                    if (move is null)
                    {
                        break;
                    }

                    progressed = Emit(Build(move)) > 0;
                }

                if (!progressed && !Full && Emit(MapMove(RegionTemplates.Small)) == 0)
                {
                    break;
                }
            }

            _g._tally?.Add(_labels);
        }

        /// <summary>Emits the commands of a move one by one, each checked against the state the previous ones left.</summary>
        private int Emit(IEnumerable<Command?> move)
        {
            var emitted = 0;
            foreach (var cmd in move)
            {
                if (Full || cmd is null || (cmd.Needs & F) == 0)
                {
                    break;
                }

                string? why;
                try
                {
                    why = GupModel.Precondition(State, cmd);
                }
                catch (Exception)
                {
                    break;
                }

                if (why is not null)
                {
                    break;
                }

                try
                {
                    var outcome = GupModel.Step(State, cmd);
                    if (_g._tally is not null)
                    {
                        _found.Clear();
                        try
                        {
                            EdgeCases.Collect(State, cmd, outcome, _found);
                        }
                        finally
                        {
                            // What was found before a throw counts, as it did when the labels were yielded one by one.
                            foreach (var label in _found)
                            {
                                if (_labels.Add(label))
                                {
                                    Reached(label);
                                }
                            }
                        }
                    }

                    State = outcome.Next;
                    Outcomes.Add(outcome);
                }
                catch (Exception)
                {
                    // The model cannot step a command it accepted: keep it as the last command so that the
                    // executor reports the model error with this sequence.
                    Commands.Add(cmd);
                    _stopped = true;
                    break;
                }

                Commands.Add(cmd);
                emitted++;
            }

            return emitted;
        }

        private IEnumerable<Command?> Build(string move) => move switch
        {
            Moves.Map => MapMove(null),
            Moves.Gup => GupMove(),
            Moves.GupHammer => GupHammerMove(),
            Moves.GupRelease => GupReleaseMove(),
            Moves.Release => ReleaseMove(),
            Moves.FolioAddPin => FolioAddPinMove(),
            Moves.UnpinArray => UnpinArrayMove(),
            Moves.IterInit => One(IterInitCommand(IterPurpose.Any)),
            Moves.IterExtract => One(IterExtractCommand(null)),
            Moves.IterExtractNoMem => One(IterExtractCommand(null) is { } e ? e with { AllocFails = true } : null),
            Moves.IterRetention => One(IterRetentionCommand(null)),
            Moves.IterScenario => IterScenario(),
            Moves.BioAdd => One(BioAddCommand(null)),
            Moves.BioRelease => One(BioReleaseCommand(null)),
            Moves.BioScenario => BioScenario(),
            Moves.FvCreate => One(FvCreateCommand()),
            Moves.FvGet => One(FvGetCommand(null)),
            Moves.FvPut => One(FvPutCommand(null)),
            Moves.FvScenario => FvScenario(),
            Moves.NetfsExtract => One(NetfsExtractCommand(null)),
            Moves.NetfsFree => One(NetfsFreeCommand(null)),
            Moves.NetfsScenario => NetfsScenario(),
            _ => [],
        };

        private static IEnumerable<Command?> One(Command? c)
        {
            yield return c;
        }

        // ---- Coverage steering ---------------------------------------------------------------------------

        /// <summary>An unreached target: a family with unreached targets first (so no family waits for another), then one of its targets.</summary>
        private EdgeTarget? PickTarget()
        {
            // Targets no sequence reached at all come first; then those fewer than EdgeTally.Wanted sequences reached.
            // The tally does not change during a sequence, so the open targets are worked out once and then only lose
            // the targets this sequence reaches (Reached).
            if (_byFamily is null)
            {
                var tally = _g._tally!;
                _byFamily = OpenByFamily(tally.NeverReached, 0);
                if (_byFamily.Count == 0)
                {
                    _byFamily = OpenByFamily(tally.Unreached, 1);
                }
            }

            if (_byFamily.Count == 0)
            {
                return null;
            }

            return _rng.Pick(_rng.Pick(_byFamily));
        }

        /// <summary>
        /// This sequence reached <paramref name="label"/>: its targets leave the open groups (<see cref="Remove"/>); when
        /// the never-reached targets are all gone, the rarely reached ones come next.
        /// </summary>
        private void Reached(string label)
        {
            if (_byFamily is null)
            {
                return;
            }

            Remove(label);
            if (_byFamily.Count == 0 && FromNever)
            {
                _byFamily = null;
            }
        }

        /// <summary>
        /// Takes the targets of <paramref name="label"/> out of the open groups, which stay exactly as
        /// <see cref="OpenByFamily"/> would have built them without those targets (a group whose first target left moves
        /// to where its next target puts it; an emptied group leaves).
        /// </summary>
        private void Remove(string label)
        {
            // Only the label's targets still in the list this sequence draws from can be in its groups.
            var tally = _g._tally!;
            var targets = tally.WithLabelBelow(label, _openBelow);
            for (var k = 0; k < targets.Count; k++)
            {
                var t = targets[k];
                var i = 0;
                while (i < _byFamily!.Count && _byFamily[i][0].Family != t.Family)
                {
                    i++;
                }

                if (i == _byFamily.Count)
                {
                    continue;
                }

                var at = IndexOfSame(_byFamily[i], t);
                if (at < 0)
                {
                    continue;
                }

                var group = Own(i);
                group.RemoveAt(at);
                if (at > 0)
                {
                    continue;
                }

                _byFamily.RemoveAt(i);
                if (group.Count > 0)
                {
                    var first = tally.OrderOf(group[0]);
                    var to = i;
                    while (to < _byFamily.Count && tally.OrderOf(_byFamily[to][0]) < first)
                    {
                        to++;
                    }

                    _byFamily.Insert(to, group);
                }
            }
        }

        /// <summary>
        /// The targets this sequence has not reached yet, one group per family in the order the families first appear
        /// (the order a pick draws from): the generator's grouping of the whole list, the same for every sequence until
        /// the tally's list changes, with the targets this sequence reached so far taken out. It is shared until a
        /// removal changes it (<see cref="Own"/> copies what is changed).
        /// </summary>
        private List<List<EdgeTarget>> OpenByFamily(IReadOnlyList<EdgeTarget> targets, int list)
        {
            _openBelow = list == 0 ? 1 : EdgeTally.Wanted;
            ref var grouped = ref _g._grouped[list];
            if (!ReferenceEquals(grouped.Of, targets) || grouped.Groups is null)
            {
                grouped = (targets, Group(targets));
            }

            _byFamily = _sharedGroups = grouped.Groups;
            foreach (var label in _labels)
            {
                Remove(label);
            }

            return _byFamily;
        }

        /// <summary>
        /// Where <paramref name="t"/> itself is in <paramref name="group"/>, or -1. The groups hold the tally's own target
        /// objects, so they are compared by reference: comparing the records by value, as IndexOf does, cost more than the
        /// rest of the steering.
        /// </summary>
        private static int IndexOfSame(List<EdgeTarget> group, EdgeTarget t)
        {
            for (var i = 0; i < group.Count; i++)
            {
                if (ReferenceEquals(group[i], t))
                {
                    return i;
                }
            }

            return -1;
        }

        /// <summary>Group <paramref name="i"/> of <see cref="_byFamily"/>, copied first (with the list of groups) if it is still the shared grouping's.</summary>
        private List<EdgeTarget> Own(int i)
        {
            if (ReferenceEquals(_byFamily, _sharedGroups))
            {
                _byFamily = [.. _byFamily!];
            }

            var group = _byFamily![i];
            if (_sharedGroups!.Contains(group))
            {
                group = [.. group];
                _byFamily[i] = group;
            }

            return group;
        }

        /// <summary><paramref name="targets"/> in one group per family, in the order the families first appear (the families are few: a group is found by a scan).</summary>
        private static List<List<EdgeTarget>> Group(IReadOnlyList<EdgeTarget> targets)
        {
            var groups = new List<List<EdgeTarget>>();
            for (var i = 0; i < targets.Count; i++)
            {
                var t = targets[i];

                var g = groups.Count - 1;
                while (g >= 0 && groups[g][0].Family != t.Family)
                {
                    g--;
                }

                if (g < 0)
                {
                    groups.Add([]);
                    g = groups.Count - 1;
                }

                groups[g].Add(t);
            }

            return groups;
        }

        /// <summary>The commands that reach <paramref name="t"/> from the current state (mapping what they need first).</summary>
        private IEnumerable<Command?> Directed(EdgeTarget t) => t.Family switch
        {
            EdgeFamily.ZeroLengthSegment => ZeroSegmentMove(t.IterKind!.Value),
            EdgeFamily.RangeCrossesFolio => CrossingMove(release: false),
            EdgeFamily.RangeUnpinCrossesFolio => CrossingMove(release: true),
            EdgeFamily.MakeDirtyAlreadyDirty => DirtyAgainMove(),
            EdgeFamily.StateShape => ShapeMove(t.Shape!.Value, t.IterKind),
            _ => One(new Gup(_nextCall++, t.Entry!.Value, t.Overflow ? unchecked(0UL - (ulong)Page) : Regions.Count > 0 ? Regions[0].Start : BaseAddress,
                t.Overflow ? 2 : 1, t.Flags, t.WithPages)),
        };

        private IEnumerable<Command?> ZeroSegmentMove(IterKind kind)
        {
            var user = PickRegion();
            var kernel = PickRegion(r => r.Kind is RegionKind.Anon or RegionKind.File);
            if (user is null || kernel is null)
            {
                yield return MapCommand(RegionTemplates.Small);
                user = kernel = PickRegion();
            }

            List<IterSeg> segs = kind switch
            {
                IterKind.Ubuf => [new IterSeg(user!.Start, 0)],
                IterKind.Iovec => [new IterSeg(user!.Start, 0), UserSeg(_rng.Chance(40))],
                IterKind.Kvec => [new IterSeg(kernel!.Start, 0), KernelSeg(_rng.Chance(40), Kernel)],
                IterKind.Discard => [new IterSeg(0, 0)],
                _ => [new IterSeg(kernel!.Start, 0)],
            };
            var init = new IterInit(_nextIter++, kind, _rng.Chance(50) ? IterDir.Source : IterDir.Dest, segs);
            yield return init;
            if ((F & Facet.IovIter) != 0 && P.Iov != IovScheme.None)
            {
                yield return new IterExtract(_nextCall++, init.Iter, Page * _rng.Range(1, 2), _rng.Range(1, 4));
            }
            else if ((F & Facet.Bio) != 0 && kind is IterKind.Ubuf or IterKind.Iovec or IterKind.Bvec)
            {
                yield return new BioAdd(_nextBio++, init.Iter, _rng.Range(1, 4));
            }
            else if ((F & Facet.Netfs) != 0 && P.HasNetfs)
            {
                yield return new NetfsExtract(_nextNetfs++, init.Iter, Page);
            }
        }

        /// <summary>A region mapped for the shape, then the call (and release) that puts it under test.</summary>
        private IEnumerable<Command?> ShapeMove(Shape shape, IterKind? kind)
        {
            if (shape == Shape.Extraction)
            {
                foreach (var c in ExtractionMove(kind!.Value))
                {
                    yield return c;
                }

                yield break;
            }

            if (shape == Shape.LookupWrapped)
            {
                // A reference wraps a folio mapped at INT_MAX, then get_user_pages() without a pages array walks it.
                var wrapped = new MapRegion(_nextRegion++, RegionKind.Anon, NextFreeAddress(0), 1, 0, int.MaxValue);
                yield return wrapped;
                yield return new Gup(_nextCall++, EntryPoint.GetUserPages, wrapped.Start, 1, Foll.None);
                yield return new Gup(_nextCall++, EntryPoint.GetUserPages, wrapped.Start, 1, Foll.None, WithPages: false);
                yield break;
            }

            if (shape is Shape.BvecIntoNextSegment or Shape.BioMorePagesThanVecs or Shape.UserExtractionNoMem)
            {
                foreach (var c in RareIterMove(shape))
                {
                    yield return c;
                }

                yield break;
            }

            if (shape is Shape.LongTermMigrate or Shape.LongTermMigrateBusy)
            {
                foreach (var c in MigrateMove(shape == Shape.LongTermMigrateBusy))
                {
                    yield return c;
                }

                yield break;
            }

            if (shape == Shape.FastLongTermFilePin)
            {
                // A clean file page is mapped read-only: GUP-fast pins it, sees it may not keep the pin, and gives it
                // back before the slow path (a write pin is then refused or faults the page writable).
                var file = new MapRegion(_nextRegion++, RegionKind.File, NextFreeAddress(0), _rng.Range(1, 3), 0, 1);
                yield return file;
                var write = _rng.Chance(50) ? Foll.Write : Foll.None;
                var pin = new Gup(_nextCall++, EntryPoint.PinUserPagesFast, file.Start, _rng.Range(1L, file.Folios), Foll.LongTerm | write);
                yield return pin;
                yield break;
            }

            var (rk, order, refcount) = shape switch
            {
                Shape.PinOrder1 => (RegionKind.Anon, 1, 1),
                Shape.AtBias => (RegionKind.Anon, 0, Sizes.GupPinCountingBias),
                Shape.NearOverflow => (RegionKind.Anon, 0, int.MaxValue - _rng.Pick([0, 1, 1022, 1023, 1024, 2047])),
                Shape.DirtyLargeFolio => (RegionKind.Anon, _rng.Range(2, 9), 1),
                Shape.LongTermFileWrite => (RegionKind.File, 0, 1),
                _ => (RegionKind.Zero, 0, 1),
            };
            var map = new MapRegion(_nextRegion++, rk, NextFreeAddress(order), rk == RegionKind.Anon ? _rng.Range(1, 2) : _rng.Range(1, 3), order, refcount);
            yield return map;
            if (shape == Shape.AtBias)
            {
                yield break;
            }

            var entry = shape == Shape.NearOverflow ? PickEntry() : PinEntry() ?? PickEntry();
            var flags = shape switch
            {
                Shape.LongTermFileWrite => Foll.LongTerm | Foll.Write,
                Shape.ZeroPinUnpin => _rng.Chance(50) ? Foll.LongTerm & (Exists(Foll.LongTerm) ? Foll.LongTerm : Foll.None) : Foll.None,
                Shape.DirtyLargeFolio => Foll.Write,
                _ => PickFlags(entry, probe: false),
            };
            var nr = shape == Shape.DirtyLargeFolio ? _rng.Range(1L, 1L << order) : 1L;
            var gup = new Gup(_nextCall++, entry, map.Start, nr, flags);
            yield return gup;
            if (shape is Shape.DirtyLargeFolio or Shape.ZeroPinUnpin && gup.Entry.IsPin())
            {
                var fn = shape == Shape.DirtyLargeFolio ? ReleaseFn.UnpinUserPagesDirtyLock : PickUnpinFn();
                yield return new Release(gup.Call, fn, 0, (int)nr, shape == Shape.DirtyLargeFolio || _rng.Chance(50));
            }
        }

        /// <summary>
        /// A plain Anon region and a movable one right after it, a long-term pin across both (the movable pages migrate,
        /// every entry is unpinned first) and the same pin again (nothing left to migrate). <paramref name="busy"/>: a
        /// reference or pin on the movable page first, so the migration fails (-ENOMEM).
        /// </summary>
        private IEnumerable<Command?> MigrateMove(bool busy)
        {
            var plain = new MapRegion(_nextRegion++, RegionKind.Anon, NextFreeAddress(0), _rng.Range(1, 2), 0, 1);
            yield return plain;
            var movable = new MapRegion(_nextRegion++, RegionKind.Anon, plain.End, _rng.Range(1, 3), 0, _rng.Chance(15) ? 2 : 1, Movable: true);
            yield return movable;
            if (PinEntry() is not { } entry)
            {
                yield break;
            }

            if (busy && movable.StartRefcount == 1)
            {
                var holder = PickEntry();
                yield return new Gup(_nextCall++, holder, movable.Start, 1, PickFlags(holder, probe: false) & ~Foll.LongTerm);
            }

            var nr = plain.Pages + _rng.Range(1L, movable.Pages);
            var start = _rng.Chance(30) ? movable.Start : plain.Start;
            nr = start == movable.Start ? Math.Min(nr, movable.Pages) : nr;
            var write = _rng.Chance(50) ? Foll.Write : Foll.None;
            for (var i = 0; i < 2; i++)
            {
                yield return new Gup(_nextCall++, entry, start, nr, Foll.LongTerm | write);
            }
        }

        /// <summary>
        /// The iterator shapes random moves rarely make: a bvec array of whole pages with an extraction asking for more
        /// than the first bvec; a user buffer over a large folio given to a bio with fewer bvecs than pages; a user
        /// buffer whose extraction cannot allocate its pages array.
        /// </summary>
        private IEnumerable<Command?> RareIterMove(Shape shape)
        {
            var order = shape == Shape.BioMorePagesThanVecs ? _rng.Range(2, 4) : 0;
            var map = new MapRegion(_nextRegion++, RegionKind.Anon, NextFreeAddress(order), order == 0 ? 3 : 1, order);
            yield return map;
            var pages = order == 0 ? 3L : 1L << order;
            switch (shape)
            {
                case Shape.BvecIntoNextSegment:
                {
                    // The first bvec ends at a page boundary and the next starts at one: a v6.13+ walk goes on into it.
                    var first = _rng.Chance(50) ? 0L : 512L * _rng.Range(1, 7);
                    List<IterSeg> segs = [new IterSeg(map.Start + (ulong)first, Page - first), new IterSeg(map.Start + (ulong)Page, _rng.Range(1L, 2 * Page))];
                    var init = new IterInit(_nextIter++, IterKind.Bvec, _rng.Chance(50) ? IterDir.Source : IterDir.Dest, segs);
                    yield return init;
                    yield return new IterExtract(_nextCall++, init.Iter, segs.Sum(g => g.Len), _rng.Range(2, 4));
                    break;
                }

                case Shape.BioMorePagesThanVecs:
                {
                    var init = new IterInit(_nextIter++, IterKind.Ubuf, _rng.Chance(50) ? IterDir.Source : IterDir.Dest, [new IterSeg(map.Start, pages * Page)]);
                    yield return init;
                    var add = new BioAdd(_nextBio++, init.Iter, _rng.Range(1, 2));
                    yield return add;
                    yield return BioReleaseCommand(add.Bio);
                    break;
                }

                default:
                {
                    var init = new IterInit(_nextIter++, IterKind.Ubuf, _rng.Chance(50) ? IterDir.Source : IterDir.Dest, [new IterSeg(map.Start + (ulong)_rng.Range(0L, Page - 1), _rng.Range(1L, 2 * Page))]);
                    yield return init;
                    yield return new IterExtract(_nextCall++, init.Iter, Page * _rng.Range(1, 2), _rng.Range(1, 4), AllocFails: true);
                    break;
                }
            }
        }

        /// <summary>An iterator of <paramref name="kind"/> with at least one byte, and an extraction from it.</summary>
        private IEnumerable<Command?> ExtractionMove(IterKind kind)
        {
            var user = PickRegion();
            var kernel = PickRegion(r => r.Kind is RegionKind.Anon or RegionKind.File);
            if (user is null || kernel is null)
            {
                yield return MapCommand(RegionTemplates.Small);
                user = kernel = PickRegion();
            }

            var sector = _rng.Chance(40);
            List<IterSeg> segs = kind switch
            {
                IterKind.Ubuf => [UserSeg(sector)],
                IterKind.Iovec => [UserSeg(sector), UserSeg(sector)],
                IterKind.Kvec => [KernelSeg(sector, Kernel)],
                IterKind.Discard => [new IterSeg(0, _rng.Range(1L, 3 * Page))],
                _ => [KernelSeg(sector, r => r.Kind is RegionKind.Anon or RegionKind.File)],
            };
            var init = new IterInit(_nextIter++, kind, _rng.Chance(50) ? IterDir.Source : IterDir.Dest, segs);
            yield return init;
            yield return new IterExtract(_nextCall++, init.Iter, Page * _rng.Range(1, 2), _rng.Range(1, 4));
        }

        /// <summary>An Anon region of at least two folios of order &gt;= <paramref name="minOrder"/> (mapped first when there is none).</summary>
        private IEnumerable<Command?> TwoFolios(int minOrder, Action<RegionView> use)
        {
            var r = PickRegion(x => x.Kind == RegionKind.Anon && x.Order >= minOrder && x.Folios >= 2);
            if (r is null)
            {
                var order = minOrder == 0 ? 0 : _rng.Weighted<int>([(1, 3), (2, 3), (3, 1), (4, 1), (9, 1)]);
                var map = new MapRegion(_nextRegion++, RegionKind.Anon, NextFreeAddress(order), _rng.Range(2, 3), order);
                yield return map;
                r = State.Regions.FirstOrDefault(x => x.Region == map.Region);
                if (r is null)
                {
                    yield break;
                }
            }

            use(r);
        }

        private EntryPoint? PinEntry()
        {
            var pins = P.EntryPoints.Where(e => e is EntryPoint.PinUserPages or EntryPoint.PinUserPagesFast or EntryPoint.PinUserPagesRemote).ToList();
            return pins.Count == 0 ? null : _rng.Pick(pins);
        }

        /// <summary>A pin from inside a large folio into the next one; with <paramref name="release"/>, its range unpin.</summary>
        private IEnumerable<Command?> CrossingMove(bool release)
        {
            RegionView? r = null;
            foreach (var c in TwoFolios(1, x => r = x))
            {
                yield return c;
            }

            if (r is null || (release ? PinEntry() : (EntryPoint?)PickEntry()) is not { } entry)
            {
                yield break;
            }

            var folioPages = 1L << r.Order;
            var folio = _rng.Range(0, r.Folios - 2);
            var offset = _rng.Range(1L, folioPages - 1);
            var nr = folioPages - offset + _rng.Range(1L, Math.Min(folioPages, 64));
            var gup = new Gup(_nextCall++, entry, r.Start + (ulong)(((folio * folioPages) + offset) * Page), nr, _rng.Chance(50) ? Foll.Write : Foll.None);
            yield return gup;
            if (release && nr <= int.MaxValue)
            {
                yield return new Release(gup.Call, ReleaseFn.UnpinUserPageRangeDirtyLock, 0, (int)nr, _rng.Chance(50));
            }
        }

        /// <summary>Pin two folios and release them with make_dirty (both now dirty), then again: the first entry is already dirty.</summary>
        private IEnumerable<Command?> DirtyAgainMove()
        {
            RegionView? r = null;
            foreach (var c in TwoFolios(0, x => r = x))
            {
                yield return c;
            }

            if (r is null || PinEntry() is not { } entry)
            {
                yield break;
            }

            var nr = (1L << r.Order) + 1;
            var fn = P.Version >= 515 && _rng.Chance(30) ? ReleaseFn.UnpinUserPageRangeDirtyLock : ReleaseFn.UnpinUserPagesDirtyLock;
            for (var i = 0; i < 2; i++)
            {
                var gup = new Gup(_nextCall++, entry, r.Start, nr, Foll.Write);
                yield return gup;
                yield return new Release(gup.Call, fn, 0, (int)nr, true);
            }
        }

        // ---- Regions -----------------------------------------------------------------------------------

        private IEnumerable<Command?> MapMove(string? template)
        {
            template ??= _rng.Weighted(_templates) ?? RegionTemplates.Small;
            yield return MapCommand(template, mayBeRemote: true);
        }

        /// <summary>A region from <paramref name="template"/>, in the caller's address space unless <paramref name="mayBeRemote"/>.</summary>
        private MapRegion MapCommand(string template, bool mayBeRemote = false)
        {
            var kind = RegionKind.Anon;
            var order = 0;
            var folios = 1;
            var refcount = 1;
            switch (template)
            {
                case RegionTemplates.Large:
                    order = _rng.Weighted<int>(Fit([(1, 5), (2, 4), (3, 2), (4, 2), (5, 1), (6, 1), (9, 2), (10, 1)]));
                    folios = _rng.Range(1, 3);
                    break;
                case RegionTemplates.Huge:
                    if (_g._weights.MaxOrder <= 10)
                    {
                        // Steering may ask for a huge folio the implementation cannot map (its manifest's max_order).
                        goto case RegionTemplates.Large;
                    }

                    order = _rng.Range(11, _g._weights.MaxOrder);
                    folios = _rng.Chance(80) ? 1 : 2;
                    break;
                case RegionTemplates.Zero:
                    kind = RegionKind.Zero;
                    folios = _rng.Range(1, 6);
                    break;
                case RegionTemplates.File:
                    kind = RegionKind.File;
                    folios = _rng.Range(1, 4);
                    break;
                case RegionTemplates.Io:
                    kind = RegionKind.Io;
                    folios = _rng.Range(1, 3);
                    break;
                case RegionTemplates.PfnMap:
                    kind = RegionKind.PfnMap;
                    folios = _rng.Range(1, 3);
                    break;
                case RegionTemplates.Boundary:
                    order = (F & Facet.LargeFolios) != 0 && _rng.Chance(40)
                        ? _rng.Weighted<int>(Fit([(1, 2), (2, 2), (5, 1), (9, 1)]))
                        : 0;
                    folios = _rng.Range(1, 2);
                    refcount = _rng.Chance(15) ? 1024 : _rng.Range(1000, 1023);
                    break;
                case RegionTemplates.Overflow:
                    order = (F & Facet.LargeFolios) != 0 && _rng.Chance(40) ? _rng.Range(1, Math.Min(3, _g._weights.MaxOrder)) : 0;
                    folios = _rng.Range(1, 2);
                    refcount = _rng.Weighted<int>(
                    [
                        (int.MaxValue, 2), (int.MaxValue - 1, 1), (int.MaxValue - 1022, 3), (int.MaxValue - 1023, 2),
                        (int.MaxValue - 1024, 1), (int.MaxValue - (1024 * _rng.Range(1, 3)) - _rng.Range(0, 2), 2),
                    ]);
                    break;
                default:
                    folios = _rng.Range(1, 6);
                    break;
            }

            var start = NextFreeAddress(order);
            // Now and then a region of the second address space, for the remote entry points to walk.
            var mm = mayBeRemote && RemoteMm && kind is RegionKind.Anon or RegionKind.File or RegionKind.Zero && _rng.Chance(12) ? 1 : 0;
            // Now and then an order-0 Anon region in a movable area, for long-term pins to migrate.
            var movable = mm == 0 && kind == RegionKind.Anon && order == 0 && Movable && _rng.Chance(10);
            return new MapRegion(_nextRegion++, kind, start, folios, order, refcount, mm, movable);
        }

        /// <summary>The order choices an implementation can map (all of them unless its manifest sets max_order).</summary>
        private (int Order, int Weight)[] Fit((int Order, int Weight)[] choices)
        {
            var max = _g._weights.MaxOrder;
            return choices.All(c => c.Order <= max) ? choices : [.. choices.Where(c => c.Order <= max)];
        }

        /// <summary>After the last region: adjacent (so walks continue into it) or after a hole of 1..3 pages.</summary>
        private ulong NextFreeAddress(int order)
        {
            var end = State.Regions.Count == 0 ? BaseAddress : State.Regions.Max(r => r.End);
            var gap = _rng.Chance(50) ? 0UL : (ulong)_rng.Range(1, 3) * Page;
            var start = end + gap;
            if (order >= 9 && _rng.Chance(50))
            {
                // Sometimes align a large folio region as a THP would be.
                var align = (ulong)Page << Math.Min(order, 21 - Sizes.PageShift);
                start = (start + align - 1) & ~(align - 1);
            }

            return start;
        }

        /// <summary>The caller's regions (mm 0): every move but a remote GUP call works on these.</summary>
        private IReadOnlyList<RegionView> Regions
        {
            get
            {
                // Asked many times per command; the state's list is the same object while no region is mapped.
                var all = State.Regions;
                if (!ReferenceEquals(all, _regionsOf))
                {
                    _regionsOf = all;
                    _regions = all.Any(r => r.Mm != 0) ? [.. all.Where(r => r.Mm == 0)] : all;
                }

                return _regions!;
            }
        }

        private IReadOnlyList<RegionView>? _regionsOf;
        private IReadOnlyList<RegionView>? _regions;

        /// <summary>Whether moves may map movable regions (GUP-MIGRATE-*).</summary>
        private bool Movable => (F & Facet.LongtermMigration) != 0 && P.MigratesLongtermMovable;

        /// <summary>Whether moves may use the second address space (GUP-REMOTE-TARGET-MM, GUP-PIN-MARKS-MM).</summary>
        private bool RemoteMm => (F & Facet.RemoteMm) != 0 && P.HasMmPinnedFlag;

        private RegionView? PickRegion(Func<RegionView, bool>? filter = null)
        {
            var list = filter is null ? Regions : Regions.Where(filter).ToList();
            return list.Count == 0 ? null : _rng.Pick(list);
        }

        /// <summary>A page index inside a region, weighted toward its start, folio boundaries and its end.</summary>
        private long PickPage(RegionView r)
        {
            var pages = r.Pages;
            var folioPages = 1L << r.Order;
            return _rng.Weighted<int>([(0, 3), (1, 4), (2, 2), (3, 1)]) switch
            {
                0 => 0,
                1 => _rng.Range(0L, Math.Min(pages - 1, 63)),
                2 when r.Order > 0 => Math.Clamp(((_rng.Range(0, r.Folios - 1) + 1) * folioPages) - _rng.Range(1L, 2L), 0, pages - 1),
                2 => _rng.Range(0L, pages - 1),
                _ => pages - 1,
            };
        }

        private ulong HoleAddress()
        {
            var sorted = Regions.OrderBy(r => r.Start).ToList();
            var holes = new List<ulong>();
            for (var i = 0; i + 1 < sorted.Count; i++)
            {
                if (sorted[i + 1].Start > sorted[i].End)
                {
                    holes.Add(sorted[i].End);
                }
            }

            holes.Add(sorted.Count == 0 ? BaseAddress : sorted[^1].End + (16 * (ulong)Page));
            holes.Add(BaseAddress - (16 * (ulong)Page));
            return _rng.Pick(holes);
        }

        // ---- GUP ---------------------------------------------------------------------------------------

        private EntryPoint PickEntry()
        {
            var entries = P.EntryPoints;
            var weighted = entries.Select(e => (e, e switch
            {
                EntryPoint.PinUserPagesFast => 5,
                EntryPoint.PinUserPages => 4,
                EntryPoint.GetUserPages => 4,
                EntryPoint.GetUserPagesFast => 3,
                _ => 2,
            })).ToList();
            return _rng.Weighted(weighted);
        }

        private bool Exists(Foll f) => P.Flags.Exists(f);

        private Foll PickFlags(EntryPoint entry, bool probe)
        {
            var f = Foll.None;
            if (_rng.Chance(_writeChance))
            {
                f |= Foll.Write;
            }

            if (_rng.Chance(10) && Exists(Foll.Force))
            {
                f |= Foll.Force;
            }

            if (entry.IsPin() && _rng.Chance(_longTermChance) && Exists(Foll.LongTerm))
            {
                f |= Foll.LongTerm;
            }

            // A long-term pin that also asks for P2PDMA pages: refused in every era that has the flag.
            if (f.Has(Foll.LongTerm) && Exists(Foll.PciP2pDma) && _rng.Chance(15))
            {
                f |= Foll.PciP2pDma;
            }

            if (probe)
            {
                var candidates = ProbeFlags.Where(Exists).Select(x => (x, x switch
                {
                    Foll.Pin => entry.IsPin() ? 1 : 4,
                    Foll.Get => entry.IsPin() ? 4 : 1,
                    Foll.LongTerm => entry.IsPin() ? 0 : 4,
                    Foll.Touch => 2,
                    _ => 1,
                })).ToList();
                if (candidates.Count > 0)
                {
                    f |= _rng.Weighted(candidates);
                }
            }

            return f;
        }

        /// <summary>A start page and a page count: inside a region, across its end, in a hole, or at the edges of the address space.</summary>
        private (ulong Start, long Nr) PickRange(EntryPoint entry)
        {
            var mode = _rng.Weighted<int>([(0, 12), (1, 3), (2, 1), (3, entry.IsFast() ? 1 : 0), (4, entry.IsFast() ? 1 : 0)]);
            if (Regions.Count == 0 || mode == 2)
            {
                return (HoleAddress(), _rng.Range(1L, 3L));
            }

            if (mode == 3)
            {
                // Wrapping past 2^64.
                var k = _rng.Range(0L, 3L);
                return (0UL - (ulong)((k + 1) * Page), k + _rng.Range(1L, 4L));
            }

            if (mode == 4)
            {
                // Ending beyond TASK_SIZE_MAX.
                var k = _rng.Range(0L, 2L);
                return (TaskSizeMax - (ulong)(k * Page), k + _rng.Range(1L, 3L));
            }

            var r = PickRegion()!;
            if (mode == 1)
            {
                // Across the region's end: into the next region or a hole.
                var back = _rng.Range(1L, Math.Min(r.Pages, 3));
                return (r.End - (ulong)(back * Page), back + _rng.Range(1L, 3L));
            }

            var page = PickPage(r);
            var left = r.Pages - page;
            var nr = _rng.Weighted<int>([(0, 4), (1, 4), (2, 2), (3, 1), (4, 1), (5, 1)]) switch
            {
                0 => 1L,
                1 => _rng.Range(2L, 4L),
                2 => _rng.Range(5L, 16L),
                3 => Math.Min(left, _rng.Chance(3) ? left : 4096),
                4 => left + _rng.Range(1L, 3L),
                _ => _rng.Range(17L, 1100L),
            };
            return (r.Start + (ulong)(page * Page), Math.Max(1, nr));
        }

        private Gup GupCommand(bool allowProbe)
        {
            var entry = PickEntry();
            var probe = allowProbe && _rng.Chance(_probeChance);
            var flags = PickFlags(entry, probe);
            var (start, nr) = PickRange(entry);
            var withPages = !_rng.Chance(8);
            var mm = 0;
            if (RemoteMm && entry is EntryPoint.GetUserPagesRemote or EntryPoint.PinUserPagesRemote && !probe && _rng.Chance(60)
                && State.Regions.Where(r => r.Mm == 1).ToList() is { Count: > 0 } remote)
            {
                // A remote call on the second address space: inside one of its regions, sometimes past its end.
                var r = _rng.Pick(remote);
                var page = PickPage(r);
                mm = 1;
                start = r.Start + (ulong)(page * Page);
                nr = _rng.Chance(15) ? r.Pages - page + 1 : _rng.Range(1L, Math.Max(1, Math.Min(8, r.Pages - page)));
            }

            // The *_remote calls' locked argument: NULL, a caller holding mmap_lock (*locked == 1) or, where
            // is_valid_gup_args() judges it (v6.3+), a caller that does not (*locked == 0; before v6.3 a BUG_ON()).
            int? locked = null;
            if (RemoteMm && entry is EntryPoint.GetUserPagesRemote or EntryPoint.PinUserPagesRemote && _rng.Chance(50))
            {
                locked = P.HasValidGupArgs && _rng.Chance(25) ? 0 : 1;
            }

            return new Gup(_nextCall++, entry, start, nr, flags, withPages, mm, locked);
        }

        private IEnumerable<Command?> GupMove()
        {
            yield return GupCommand(allowProbe: true);
        }

        /// <summary>Several one-page grabs of the same page: many references or pins on one folio.</summary>
        private IEnumerable<Command?> GupHammerMove()
        {
            var r = PickRegion(x => x.Kind is RegionKind.Anon or RegionKind.Zero or RegionKind.File);
            if (r is null)
            {
                yield break;
            }

            var entry = PickEntry();
            var flags = PickFlags(entry, probe: false);
            var start = r.Start + (ulong)(PickPage(r) * Page);
            var nr = r.Order > 0 && _rng.Chance(30) ? _rng.Range(2L, Math.Min(64, 1L << r.Order)) : 1L;
            var times = _rng.Range(2, 6);
            var mixed = _rng.Chance(40);
            for (var i = 0; i < times; i++)
            {
                // Sometimes mix references and pins on the same folio.
                var e = mixed && i > 0 ? PickEntry() : entry;
                var f = mixed && i > 0 ? PickFlags(e, probe: false) : flags;
                yield return new Gup(_nextCall++, e, start, nr, f, true);
            }
        }

        /// <summary>A grab, then the matching release of everything it returned.</summary>
        private IEnumerable<Command?> GupReleaseMove()
        {
            var gup = GupCommand(allowProbe: false) with { WithPages = true };
            yield return gup;
            if (!State.Arrays.TryGetValue(gup.Call, out var runs))
            {
                yield break;
            }

            var held = runs.Where(x => x.Hold != Hold.None && !x.Released).ToList();
            if (held.Count == 0 || held.Count != runs.Count || held.Select(x => x.Hold).Distinct().Count() != 1)
            {
                yield break;
            }

            var total = runs.Sum(x => x.Count);
            if (total > int.MaxValue)
            {
                yield break;
            }

            var fn = held[0].Hold == Hold.Ref ? ReleaseFn.PutPage : PickUnpinFn();
            yield return new Release(gup.Call, fn, 0, (int)total, _rng.Chance(60));
        }

        // ---- Release -----------------------------------------------------------------------------------

        private ReleaseFn PickUnpinFn() => _rng.Weighted<ReleaseFn>(
        [
            (ReleaseFn.UnpinUserPages, 3), (ReleaseFn.UnpinUserPage, 2), (ReleaseFn.UnpinUserPagesDirtyLock, 3),
            (ReleaseFn.UnpinUserPageRangeDirtyLock, 2),
        ]);

        private sealed record HeldRun(int Call, long Index, int RunIndex, EntryRun Run, IReadOnlyList<EntryRun> Runs);

        /// <summary>
        /// A held, unreleased run of a pages array (of <paramref name="hold"/>, or any), arrays by call id and runs in array
        /// order; about half the time only among the three most recent arrays that hold one.
        /// </summary>
        private HeldRun? PickHeld(Hold? hold)
        {
            // Every candidate's place, in that order, in a list kept for the sequence; only the pick becomes a HeldRun.
            var held = _held;
            held.Clear();
            var arrays = State.Arrays;
            _callIds.Clear();
            _callIds.AddRange(arrays.Keys);
            _callIds.Sort();
            foreach (var call in _callIds)
            {
                var runs = arrays[call];
                long index = 0;
                for (var i = 0; i < runs.Count; i++)
                {
                    var run = runs[i];
                    if (!run.Released && run.Hold != Hold.None && (hold is null || run.Hold == hold))
                    {
                        held.Add((call, index, i));
                    }

                    index += run.Count;
                }
            }

            if (held.Count == 0)
            {
                return null;
            }

            // Prefer the most recent arrays: the candidates of the last three calls that have any, which (calls in
            // ascending order) are the list's tail from the first candidate of the third call from the end.
            var from = 0;
            if (_rng.Chance(50))
            {
                var distinct = 0;
                for (var i = held.Count - 1; i >= 0; i--)
                {
                    if (i == held.Count - 1 || held[i].Call != held[i + 1].Call)
                    {
                        if (++distinct > 3)
                        {
                            break;
                        }
                    }

                    from = i;
                }
            }

            var (c, at, r) = _rng.PickFrom(held, from);
            var all = arrays[c];
            return new HeldRun(c, at, r, all[r], all);
        }

        private IEnumerable<Command?> ReleaseMove()
        {
            var h = PickHeld(null);
            if (h is null)
            {
                yield break;
            }

            var offset = _rng.Chance(75) ? 0 : _rng.Range(0L, h.Run.Count - 1);
            var restOfRun = h.Run.Count - offset;
            long count = _rng.Weighted<int>([(0, 3), (1, 3), (2, 2), (3, 1)]) switch
            {
                0 => 1,
                1 => restOfRun,
                2 => restOfRun + FollowingHeld(h),
                _ => _rng.Range(1L, restOfRun),
            };
            count = Math.Clamp(count, 1, int.MaxValue);
            var index = h.Index + offset;
            if (index > int.MaxValue)
            {
                yield break;
            }

            ReleaseFn fn;
            if (h.Run.Hold == Hold.Ref)
            {
                fn = P.Pins == PinScheme.NoPins || _rng.Chance(88)
                    ? ReleaseFn.PutPage
                    : _rng.Chance(50) ? ReleaseFn.UnpinUserPage : ReleaseFn.UnpinUserPages;
            }
            else
            {
                fn = _rng.Chance(10) ? ReleaseFn.PutPage : PickUnpinFn();
            }

            yield return new Release(h.Call, fn, (int)index, (int)count, _rng.Chance(70));
        }

        /// <summary>How many entries after this run are held the same way, unreleased (to cross folio boundaries).</summary>
        private static long FollowingHeld(HeldRun h)
        {
            long n = 0;
            for (var i = h.RunIndex + 1; i < h.Runs.Count; i++)
            {
                var r = h.Runs[i];
                if (r.Released || r.Hold != h.Run.Hold)
                {
                    break;
                }

                n += r.Count;
            }

            return n;
        }

        /// <summary>unpin_user_pages[_dirty_lock]() on a caller-built array: a -errno count, or NULL entries before the pages.</summary>
        private IEnumerable<Command?> UnpinArrayMove()
        {
            var h = PickHeld(Hold.Pin);
            if (h is null || h.Index > int.MaxValue)
            {
                yield break;
            }

            var count = (int)Math.Clamp(_rng.Chance(50) ? h.Run.Count : h.Run.Count + FollowingHeld(h), 1, int.MaxValue);
            var errno = !P.UnpinSkipsNullEntry || _rng.Chance(50) ? _rng.Pick([Errno.EFAULT, Errno.ENOMEM, Errno.EINVAL]) : 0;
            var nulls = errno == 0 ? _rng.Range(1, 3) : 0;
            var fn = _rng.Chance(70) ? ReleaseFn.UnpinUserPages : ReleaseFn.UnpinUserPagesDirtyLock;
            yield return new UnpinArray(h.Call, fn, (int)h.Index, count, nulls, (int)errno);
        }

        private IEnumerable<Command?> FolioAddPinMove()
        {
            var h = PickHeld(Hold.Pin);
            if (h is null)
            {
                yield break;
            }

            var index = h.Index + (_rng.Chance(70) ? 0 : _rng.Range(0L, h.Run.Count - 1));
            if (index > int.MaxValue)
            {
                yield break;
            }

            yield return new FolioAddPin(_nextCall++, h.Call, (int)index);
        }

        // ---- Iterators ---------------------------------------------------------------------------------

        private enum IterPurpose
        {
            Any,
            Extract,
            Bio,
            Netfs,
        }

        private IterKind PickIterKind(IterPurpose purpose)
        {
            var iov = (F & Facet.IovIter) != 0 && P.Iov != IovScheme.None;
            List<(IterKind, int)> kinds = purpose switch
            {
                IterPurpose.Bio => [(IterKind.Ubuf, 3), (IterKind.Iovec, 5), (IterKind.Bvec, 2)],
                IterPurpose.Netfs => [(IterKind.Ubuf, 3), (IterKind.Iovec, 4), (IterKind.Kvec, 1), (IterKind.Bvec, 1)],
                _ when iov => [(IterKind.Ubuf, 4), (IterKind.Iovec, 4), (IterKind.Kvec, 3), (IterKind.Bvec, 2), (IterKind.Xarray, 1), (IterKind.Discard, 1)],
                _ when (F & Facet.Bio) != 0 => [(IterKind.Ubuf, 3), (IterKind.Iovec, 5), (IterKind.Bvec, 2)],
                _ => [(IterKind.Ubuf, 3), (IterKind.Iovec, 4), (IterKind.Kvec, 1)],
            };
            return _rng.Weighted(kinds);
        }

        private IterInit? IterInitCommand(IterPurpose purpose)
        {
            if (Regions.Count == 0)
            {
                return null;
            }

            var kind = PickIterKind(purpose);
            var sector = purpose == IterPurpose.Bio || _rng.Chance(40);
            var dir = _rng.Chance(50) ? IterDir.Source : IterDir.Dest;
            List<IterSeg> segs;
            switch (kind)
            {
                case IterKind.Ubuf:
                    segs = [UserSeg(sector)];
                    break;
                case IterKind.Iovec:
                    segs = _rng.Chance(35) ? BackToBack(sector) : Enumerable.Range(0, _rng.Range(1, 4)).Select(_ => UserSeg(sector)).ToList();
                    break;
                case IterKind.Kvec:
                    {
                        segs = Enumerable.Range(0, _rng.Range(1, 3)).Select(_ => KernelSeg(sector, Kernel)).ToList();
                        if (_rng.Chance(35))
                        {
                            segs.Insert(0, segs[0] with { Len = 0 });
                        }

                        break;
                    }

                case IterKind.Bvec:
                    segs = BvecSegs(sector);
                    break;
                case IterKind.Xarray:
                    segs = [KernelSeg(sector, r => r.Kind is RegionKind.Anon or RegionKind.File)];
                    break;
                default:
                    segs = [new IterSeg(0, _rng.Range(1L, 3 * Page))];
                    break;
            }

            if (segs.Count == 0 || segs.Any(s => s.Len < 0))
            {
                return null;
            }

            return new IterInit(_nextIter++, kind, dir, segs);
        }

        private static bool Kernel(RegionView r) => r.Kind is RegionKind.Anon or RegionKind.File or RegionKind.Zero;

        /// <summary>A user segment: usually inside a region, sometimes across its end (into a hole or the next region).</summary>
        private IterSeg UserSeg(bool sector)
        {
            var r = PickRegion()!;
            var crossEnd = _rng.Chance(15);
            var page = crossEnd ? r.Pages - 1 : PickPage(r);
            var offset = sector ? 512L * _rng.Range(0, 7) : _rng.Range(0L, Page - 1);
            var len = sector ? 512L * _rng.Weighted<int>([(_rng.Range(1, 8), 4), (_rng.Range(9, 24), 2), (_rng.Range(25, 64), 1)])
                : _rng.Range(1L, 3 * Page);
            if (crossEnd)
            {
                len += Page;
            }

            return new IterSeg(r.Start + (ulong)((page * Page) + offset), len);
        }

        /// <summary>Iovec segments that follow each other in memory, meeting inside a page (bio same-page merges).</summary>
        private List<IterSeg> BackToBack(bool sector)
        {
            var r = PickRegion(x => x.Kind is RegionKind.Anon or RegionKind.Zero or RegionKind.File) ?? PickRegion()!;
            var page = PickPage(r);
            var addr = r.Start + (ulong)(page * Page) + (ulong)(512L * _rng.Range(0, 6));
            var list = new List<IterSeg>();
            var n = _rng.Range(2, 4);
            for (var i = 0; i < n; i++)
            {
                var len = sector || _rng.Chance(70) ? 512L * _rng.Range(1, 6) : _rng.Range(1L, 2048L);
                list.Add(new IterSeg(addr, len));
                addr += (ulong)len;
            }

            return list;
        }

        /// <summary>A segment wholly inside one region that passes <paramref name="filter"/>.</summary>
        private IterSeg KernelSeg(bool sector, Func<RegionView, bool> filter)
        {
            var r = PickRegion(filter) ?? PickRegion()!;
            var page = PickPage(r);
            var offset = sector ? 512L * _rng.Range(0, 7) : _rng.Range(0L, Page - 1);
            var start = (page * Page) + offset;
            var room = (r.Pages * Page) - start;
            var len = sector ? 512L * _rng.Range(1, 16) : _rng.Range(1L, 3 * Page);
            len = Math.Min(len, room);
            if (sector)
            {
                len -= len % 512;
            }

            return new IterSeg(r.Start + (ulong)start, Math.Max(len, sector ? 512 : 1));
        }

        /// <summary>
        /// A bvec array: one segment, or several, most of them whole pages so that a v6.13+ extraction walks on from
        /// one into the next; each segment lies inside one Anon region, or one page of a File region.
        /// </summary>
        private List<IterSeg> BvecSegs(bool sector)
        {
            // A bio_vec spans physically adjacent pages only (CONTRACT §1): pages of one Anon region, or one file page.
            static bool Backed(RegionView r) => r.Kind is RegionKind.Anon or RegionKind.File;
            static bool Contiguous(RegionView r) => r.Kind is RegionKind.Anon;
            if (_rng.Chance(50))
            {
                return [KernelSeg(sector, Contiguous)];
            }

            var list = new List<IterSeg>();
            var n = _rng.Range(2, 4);
            for (var i = 0; i < n; i++)
            {
                var r = PickRegion(Backed) ?? PickRegion()!;
                if (!Backed(r) || _rng.Chance(25))
                {
                    list.Add(KernelSeg(sector, Contiguous));
                    continue;
                }

                var page = PickPage(r);
                var pages = Contiguous(r) ? _rng.Range(1L, Math.Min(3, r.Pages - page)) : 1;
                list.Add(new IterSeg(r.Start + (ulong)(page * Page), pages * Page));
            }

            return list;
        }

        private IterView? PickIter(Func<IterView, bool>? filter, bool preferLive)
        {
            var list = filter is null ? State.Iters.ToList() : State.Iters.Where(filter).ToList();
            if (list.Count == 0)
            {
                return null;
            }

            if (preferLive && _rng.Chance(80))
            {
                var live = list.Where(i => i.Count > 0).ToList();
                if (live.Count > 0)
                {
                    list = live;
                }
            }

            return _rng.Chance(50) ? list[^1] : _rng.Pick(list);
        }

        private IterExtract? IterExtractCommand(int? iter)
        {
            var it = iter is { } id ? State.Iters.FirstOrDefault(i => i.Iter == id) : PickIter(null, preferLive: true);
            if (it is null)
            {
                return null;
            }

            var maxSize = _rng.Weighted<int>([(0, 1), (1, 2), (2, 2), (3, 4), (4, 1), (5, 1)]) switch
            {
                0 => 0L,
                1 => _rng.Range(1L, 1000L),
                2 => Page * _rng.Range(1, 2),
                3 => Math.Max(1, it.Count),
                4 => it.Count + _rng.Range(1L, 5000L),
                _ => Sizes.MaxRwCount + Page,
            };
            var maxPages = _rng.Weighted<int>([(1, 3), (_rng.Range(2, 4), 3), (_rng.Range(5, 16), 1), (64, 1)]);
            return new IterExtract(_nextCall++, it.Iter, maxSize, maxPages);
        }

        private IterRetention? IterRetentionCommand(int? iter)
        {
            var it = iter is { } id ? State.Iters.FirstOrDefault(i => i.Iter == id) : PickIter(null, preferLive: false);
            return it is null ? null : new IterRetention(it.Iter);
        }

        private IEnumerable<Command?> IterScenario()
        {
            var init = IterInitCommand(IterPurpose.Extract);
            yield return init;
            if (init is null)
            {
                yield break;
            }

            if (_rng.Chance(30))
            {
                yield return new IterRetention(init.Iter);
            }

            var n = _rng.Range(1, 3);
            for (var i = 0; i < n; i++)
            {
                yield return IterExtractCommand(init.Iter);
            }

            if (_rng.Chance(30))
            {
                yield return new IterRetention(init.Iter);
            }
        }

        // ---- Bios --------------------------------------------------------------------------------------

        private static bool BioIter(IterView i) => i.Kind is IterKind.Ubuf or IterKind.Iovec or IterKind.Bvec;

        private BioAdd? BioAddCommand(int? iter)
        {
            var it = iter is { } id ? State.Iters.FirstOrDefault(i => i.Iter == id) : PickIter(BioIter, preferLive: true);
            if (it is null)
            {
                return null;
            }

            var maxVecs = _rng.Weighted<int>([(_rng.Range(1, 3), 3), (_rng.Range(4, 8), 3), (_rng.Range(16, 64), 1)]);
            return new BioAdd(_nextBio++, it.Iter, maxVecs, LogicalBlockSize(it));
        }

        /// <summary>
        /// The device's logical block size: v6.0–v6.17 trim every extraction to it (BIO-LOGICAL-BLOCK-TRIM), so all four
        /// sizes; v6.18+ only sizes the user segments are multiples of (whole-bio alignment is not modelled); before
        /// v6.0 the bio layer ignores it.
        /// </summary>
        private int LogicalBlockSize(IterView it)
        {
            switch (P.BioBlockAlign)
            {
                case BioBlockAlign.PerExtraction:
                    return _rng.Weighted<int>([(512, 4), (1024, 1), (2048, 1), (4096, 4)]);
                case BioBlockAlign.WholeBio:
                    {
                        List<(int, int)> sizes = [.. new[] { 512, 1024, 2048, 4096 }
                            .Where(b => it.Kind == IterKind.Bvec || it.Remaining.All(g => g.Addr % (ulong)b == 0 && g.Len % b == 0))
                            .Select(b => (b, b == 512 ? 2 : 1))];
                        return sizes.Count == 0 ? 512 : _rng.Weighted(sizes);
                    }

                default:
                    return 512;
            }
        }

        private BioRelease? BioReleaseCommand(int? bio)
        {
            if (bio is null && State.Bios.Count == 0)
            {
                return null;
            }

            return new BioRelease(bio ?? _rng.Pick(State.Bios), _rng.Chance(60));
        }

        private IEnumerable<Command?> BioScenario()
        {
            var init = IterInitCommand(IterPurpose.Bio);
            yield return init;
            if (init is null)
            {
                yield break;
            }

            var add = BioAddCommand(init.Iter);
            yield return add;
            if (add is not null && _rng.Chance(75))
            {
                yield return BioReleaseCommand(add.Bio);
            }
        }

        // ---- Frame vectors -----------------------------------------------------------------------------

        private FvCreate FvCreateCommand() => new(_nextFv++, _rng.Chance(85) ? _rng.Range(1, 8) : _rng.Range(9, 64));

        private FvGet? FvGetCommand(int? fv)
        {
            var vec = fv is { } id
                ? State.FrameVectors.FirstOrDefault(v => v.Fv == id)
                : State.FrameVectors.Where(v => v.NrFrames == 0).LastOrDefault();
            if (vec is null)
            {
                return null;
            }

            ulong start;
            var mode = _rng.Weighted<int>([(0, 5), (1, 3), (2, 1), (3, 1)]);
            var special = PickRegion(r => r.Kind is RegionKind.Io or RegionKind.PfnMap);
            if (mode == 1 && special is not null)
            {
                start = special.Start + (ulong)(_rng.Range(0L, special.Pages - 1) * Page);
            }
            else if (mode == 2 || Regions.Count == 0)
            {
                start = HoleAddress();
            }
            else
            {
                var r = PickRegion()!;
                start = mode == 3
                    ? r.End - (ulong)(_rng.Range(1L, Math.Min(2, r.Pages)) * Page)
                    : r.Start + (ulong)(PickPage(r) * Page);
            }

            var nr = _rng.Weighted<int>([(0, 1), (_rng.Range(1, vec.NrAllocated), 6), (vec.NrAllocated + _rng.Range(1, 4), 2)]);
            return new FvGet(vec.Fv, start, nr, _rng.Chance(50));
        }

        private FvPut? FvPutCommand(int? fv)
        {
            if (fv is { } id)
            {
                return new FvPut(id);
            }

            var list = State.FrameVectors;
            if (list.Count == 0)
            {
                return null;
            }

            var full = list.Where(v => v.NrFrames > 0).ToList();
            return new FvPut((full.Count > 0 && _rng.Chance(80) ? _rng.Pick(full) : _rng.Pick(list)).Fv);
        }

        private IEnumerable<Command?> FvScenario()
        {
            var create = FvCreateCommand();
            yield return create;
            yield return FvGetCommand(create.Fv);
            if (_rng.Chance(75))
            {
                yield return FvPutCommand(create.Fv);
            }
        }

        // ---- netfs -------------------------------------------------------------------------------------

        private NetfsExtract? NetfsExtractCommand(int? iter)
        {
            var it = iter is { } id ? State.Iters.FirstOrDefault(i => i.Iter == id) : PickIter(null, preferLive: true);
            if (it is null)
            {
                return null;
            }

            var maxSize = _rng.Weighted<int>([(0, 4), (1, 2), (2, 1)]) switch
            {
                0 => Math.Max(1, it.Count),
                1 => _rng.Range(1L, Math.Max(1, it.Count)),
                _ => it.Count + _rng.Range(1L, 3 * Page),
            };
            return new NetfsExtract(_nextNetfs++, it.Iter, maxSize);
        }

        private NetfsFree? NetfsFreeCommand(int? netfs)
        {
            if (netfs is null && State.NetfsRequests.Count == 0)
            {
                return null;
            }

            return new NetfsFree(netfs ?? _rng.Pick(State.NetfsRequests));
        }

        private IEnumerable<Command?> NetfsScenario()
        {
            // Sometimes a user buffer that starts in a hole: the first extraction faults.
            var init = _rng.Chance(15) && Regions.Count > 0
                ? new IterInit(_nextIter++, IterKind.Iovec, IterDir.Dest, [new IterSeg(HoleAddress(), _rng.Range(1L, 2 * Page)), UserSeg(false)])
                : IterInitCommand(IterPurpose.Netfs);
            yield return init;
            if (init is null)
            {
                yield break;
            }

            var ex = NetfsExtractCommand(init.Iter);
            yield return ex;
            if (ex is not null && _rng.Chance(75))
            {
                yield return NetfsFreeCommand(ex.Netfs);
            }
        }
    }
}
