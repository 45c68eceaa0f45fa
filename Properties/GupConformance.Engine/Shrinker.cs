using System.Globalization;
using GupConformance.Oracles;
using GupConformance.Spec;

namespace GupConformance.Engine;

/// <summary>
/// Chunk-removal shrinking (ddmin-style) over a sequence of actions. Candidates are produced lazily, largest
/// removals first: the prefix up to the failing action (when known), then every sequence with one chunk of
/// n/2, n/4, … 1 consecutive actions removed, then single commands with smaller arguments, then a frame vector's get
/// replaced by the direct pin or get it makes, then one command's refcount change folded into a region's start
/// refcount. Only candidates that the model accepts when replayed from <see cref="GupModel.Init"/> (every precondition
/// holds, every step succeeds) are yielded.
/// </summary>
public sealed class Shrinker
{
    private readonly Profile _profile;
    private readonly Facet _facets;

    public Shrinker(Profile profile, Facet facets)
    {
        _profile = profile;
        _facets = facets & profile.Facets;
    }

    public IEnumerable<Command[]> Candidates(Command[] actions, int? failedAction = null)
    {
        var prefixLength = -1;
        if (failedAction is { } k && k >= 0 && k + 1 < actions.Length)
        {
            prefixLength = k + 1;
            yield return actions[..prefixLength];
        }

        var n = actions.Length;
        for (var chunk = n / 2; chunk >= 1; chunk /= 2)
        {
            for (var start = 0; start < n; start += chunk)
            {
                var end = Math.Min(n, start + chunk);
                var candidate = new Command[n - (end - start)];
                Array.Copy(actions, 0, candidate, 0, start);
                Array.Copy(actions, end, candidate, start, n - end);
                var samePrefix = end == n && start == prefixLength;
                if (candidate.Length == 0 || samePrefix || !IsValid(candidate))
                {
                    continue;
                }

                yield return candidate;
            }
        }

        // Then smaller arguments, one command at a time: fewer pages, one folio, order 0, refcount 1, one segment.
        // Deletion alone keeps a failing command as big as it was generated.
        for (var i = 0; i < n; i++)
        {
            foreach (var simpler in Simplifications(actions[i]))
            {
                var candidate = (Command[])actions.Clone();
                candidate[i] = simpler;
                if (IsValid(candidate))
                {
                    yield return candidate;
                }
            }
        }

        foreach (var candidate in Direct(actions))
        {
            yield return candidate;
        }

        foreach (var candidate in Folds(actions))
        {
            yield return candidate;
        }
    }

    /// <summary>
    /// A frame vector's get_vaddr_frames() in place of the pin (or get) it makes: the direct call over the same pages,
    /// with a call number of its own. Same length, but the frame_vector_create() it needed can then be deleted, and a
    /// failure reached through a consumer shrinks to the direct path the minimal counterexample takes. Kept, like every
    /// candidate, only if the model accepts it and it still fails.
    /// </summary>
    private IEnumerable<Command[]> Direct(Command[] actions)
    {
        // A call id no command of the sequence uses (every command that makes a pages array names its id).
        var call = 1 + actions.Max(c => c switch
        {
            Gup g => g.Call,
            IterExtract x => x.Call,
            FolioAddPin a => a.NewCall,
            _ => 0,
        });
        for (var i = 0; i < actions.Length; i++)
        {
            if (actions[i] is not FvGet f)
            {
                continue;
            }

            foreach (var entry in new[] { EntryPoint.PinUserPages, EntryPoint.GetUserPages })
            {
                var candidate = (Command[])actions.Clone();
                candidate[i] = new Gup(call, entry, f.Start, f.NrFrames, f.Write ? Foll.Write : Foll.None);
                if (IsValid(candidate))
                {
                    yield return candidate;
                }
            }
        }
    }

    /// <summary>
    /// Last, and always shorter: drop a run of consecutive commands and fold the reference-count change they made to
    /// one folio of an earlier Anon region into that region's StartRefcount. Deletion and smaller arguments cannot
    /// turn "reach refcount 1024 through a pin and a put_page()" into "map at refcount 1024"; this can. Longer runs
    /// first. A candidate is only a guess (the dropped commands may have done more than that change): like every
    /// other candidate it is kept only if the model accepts it and it still fails.
    /// </summary>
    private IEnumerable<Command[]> Folds(Command[] actions)
    {
        var refcounts = RefcountsBeforeEachAction(actions);
        if (refcounts is null)
        {
            yield break;
        }

        var n = actions.Length;
        for (var length = n - 1; length >= 1; length--)
        {
            for (var i = 0; i < n; i++)
            {
                if (actions[i] is not MapRegion { Kind: RegionKind.Anon } map)
                {
                    continue;
                }

                var prefix = string.Create(CultureInfo.InvariantCulture, $"r{map.Region}.");
                for (var j = i + 1; j + length <= n; j++)
                {
                    var (before, after) = (refcounts[j], refcounts[j + length]);
                    var deltas = before.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal) && after.ContainsKey(k))
                        .Select(k => after[k] - before[k]).Where(d => d != 0).Distinct().Order();
                    foreach (var delta in deltas)
                    {
                        var start = map.StartRefcount + delta;
                        if (start is < 1 or > int.MaxValue)
                        {
                            continue;
                        }

                        var candidate = new Command[n - length];
                        Array.Copy(actions, 0, candidate, 0, j);
                        Array.Copy(actions, j + length, candidate, j, n - j - length);
                        candidate[i] = map with { StartRefcount = (int)start };
                        if (IsValid(candidate))
                        {
                            yield return candidate;
                        }
                    }
                }
            }
        }
    }

    /// <summary>Every folio's refcount before each action and after the last (null if the model refuses a command).</summary>
    private Dictionary<string, long>[]? RefcountsBeforeEachAction(Command[] actions)
    {
        var result = new Dictionary<string, long>[actions.Length + 1];
        var state = GupModel.Init(_profile);
        for (var k = 0; ; k++)
        {
            result[k] = state.Folios.ToDictionary(f => f.Key, f => f.Refcount, StringComparer.Ordinal);
            if (k == actions.Length)
            {
                return result;
            }

            if (GupModel.Precondition(state, actions[k]) is not null)
            {
                return null;
            }

            state = GupModel.Step(state, actions[k]).Next;
        }
    }

    /// <summary>Smaller variants of one command, simplest first; none equals the original.</summary>
    public static IEnumerable<Command> Simplifications(Command command)
    {
        IEnumerable<Command> all = command switch
        {
            Gup g => [g with { NrPages = 1 }, g with { NrPages = g.NrPages / 2 }, g with { Flags = Foll.None }, g with { Locked = null }],
            MapRegion m =>
            [
                m with { Folios = 1 }, m with { Order = 0 }, m with { StartRefcount = 1 }, m with { Movable = false },
                m with { Folios = Math.Max(1, m.Folios / 2) }, m with { Order = m.Order / 2 },
            ],
            Release r => [r with { Count = 1 }, r with { MakeDirty = false }],
            IterInit it when it.Segs.Count > 1 => [it with { Segs = [it.Segs[0]] }, it with { Segs = [.. it.Segs.Take(it.Segs.Count - 1)] }],
            IterExtract x => [x with { MaxPages = 1 }, x with { MaxSize = Math.Min(x.MaxSize, Sizes.PageSize) }],
            BioAdd b => [b with { MaxVecs = 1 }, b with { MaxVecs = Math.Max(1, b.MaxVecs / 2) }, b with { LogicalBlockSize = 512 }],
            FvGet f => [f with { NrFrames = 1 }, f with { NrFrames = f.NrFrames / 2 }],
            NetfsExtract ne => [ne with { MaxSize = Math.Min(ne.MaxSize, Sizes.PageSize) }],
            _ => [],
        };
        return all.Where(c => !c.Equals(command)).Distinct();
    }

    /// <summary>True when the model accepts every command in order, starting from its initial state.</summary>
    public bool IsValid(IReadOnlyList<Command> actions) => Validate(_profile, _facets, actions) is null;

    /// <summary>Null when valid; otherwise the index of the first refused command and why.</summary>
    public static string? Validate(Profile profile, Facet facets, IReadOnlyList<Command> actions)
    {
        var state = GupModel.Init(profile);
        for (var i = 0; i < actions.Count; i++)
        {
            var cmd = actions[i];
            if ((cmd.Needs & facets & profile.Facets) == 0)
            {
                return $"command {i}: needs facet {cmd.Needs}";
            }

            try
            {
                var why = GupModel.Precondition(state, cmd);
                if (why is not null)
                {
                    return $"command {i}: {why}";
                }

                state = GupModel.Step(state, cmd).Next;
            }
            catch (Exception e)
            {
                return $"command {i}: the model threw {e.GetType().Name}";
            }
        }

        return null;
    }
}
