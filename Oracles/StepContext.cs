using System.Collections.Immutable;
using System.Globalization;
using GupConformance.Spec;

namespace GupConformance.Oracles;

/// <summary>
/// One step's working copy: the immutable collections of the state being replaced piece by piece, plus the checks and
/// the exercised rules (<see cref="Expecting"/>) and the account of changes. Nothing here is shared with the input state,
/// so Step is pure.
/// </summary>
internal sealed class StepContext : Expecting
{
    private readonly ModelState _before;
    private readonly bool _isQuery;
    private Dictionary<string, FolioState?>? _folioBefore;
    private List<string>? _notes;

    public StepContext(ModelState before, bool isQuery)
        : base(before.Profile)
    {
        _before = before;
        _isQuery = isQuery;
        Profile = before.Profile;
        Regions = before.RegionList;
        Folios = before.FolioMap;
        LateFolios = before.LateFolios;
        Arrays = before.ArrayMap;
        Iters = before.IterMap;
        Bios = before.BioMap;
        UsedBios = before.UsedBios;
        Fvs = before.FvMap;
        Netfs = before.NetfsMap;
        UsedNetfs = before.UsedNetfs;
        Acquired = before.Acquired;
        Released = before.Released;
        AcquiredProv = before.AcquiredProv;
        ReleasedProv = before.ReleasedProv;
        PinnedMms = before.PinnedMms;
        StepNo = before.StepNo + 1;
    }

    public Profile Profile { get; }

    public ModelState Before => _before;

    public long StepNo { get; }

    // The collections ModelState.Describe() shows can only be changed through Put and the methods after it (SetFolio,
    // AddRegion, SetArray, …), which record the entries they change for ModelState.DescribeChanges.
    public ImmutableList<RegionState> Regions { get; private set; }

    public ImmutableDictionary<string, FolioState> Folios { get; private set; }

    public ImmutableList<string> LateFolios { get; set; }

    public ImmutableSortedDictionary<int, ArrayState> Arrays { get; private set; }

    public ImmutableSortedDictionary<int, IterState> Iters { get; private set; }

    public ImmutableSortedDictionary<int, BioState> Bios { get; private set; }

    public ImmutableHashSet<int> UsedBios { get; set; }

    public ImmutableSortedDictionary<int, FvState> Fvs { get; private set; }

    public ImmutableSortedDictionary<int, NetfsState> Netfs { get; private set; }

    public ImmutableHashSet<int> UsedNetfs { get; set; }

    public long Acquired { get; set; }

    public long Released { get; set; }

    public Prov AcquiredProv { get; set; }

    public Prov ReleasedProv { get; set; }

    public ImmutableSortedSet<int> PinnedMms { get; set; }

    /// <summary>The region of address space <paramref name="mm"/> (0: current-&gt;mm) at <paramref name="addr"/>, or null for a hole.</summary>
    public RegionState? RegionAt(ulong addr, int mm = 0)
    {
        foreach (var r in Regions)
        {
            if (r.Mm == mm && r.Contains(addr))
            {
                return r;
            }
        }

        return null;
    }

    public RegionState RegionById(int id)
    {
        // Unless this step mapped or changed a region, the state before it has them indexed.
        if (ReferenceEquals(Regions, _before.RegionList))
        {
            return _before.KnownRegion(id);
        }

        foreach (var r in Regions)
        {
            if (r.Id == id)
            {
                return r;
            }
        }

        throw new InvalidOperationException($"no region {Num(id)}");
    }

    /// <summary>The current state of folio <paramref name="key"/> (which must exist).</summary>
    public FolioState Folio(string key)
    {
        if (Folios.TryGetValue(key, out var f))
        {
            return f;
        }

        return _before.FindFolio(key) ?? throw new InvalidOperationException($"no folio {key}");
    }

    /// <summary>Replaces a folio's state; the first change of a step remembers the value before, for the account.</summary>
    public void Put(FolioState f)
    {
        _folioBefore ??= new(StringComparer.Ordinal);
        if (!_folioBefore.ContainsKey(f.Key))
        {
            _folioBefore[f.Key] = _before.FindFolio(f.Key);
        }

        SetFolio(f);
    }

    /// <summary>Sets a folio's state without counting it as addressed by the command (<see cref="Put"/> does).</summary>
    public void SetFolio(FolioState f)
    {
        Folios = Folios.SetItem(f.Key, f);
        Changed(ChangedKind.Folio, 0, f.Key);
    }

    public void AddRegion(RegionState r)
    {
        Regions = Regions.Add(r);
        Changed(ChangedKind.Region, r.Id);
    }

    public void ReplaceRegion(RegionState old, RegionState updated)
    {
        Regions = Regions.Replace(old, updated);
        Changed(ChangedKind.Region, old.Id);
        Changed(ChangedKind.Region, updated.Id);
    }

    public void SetArray(int call, ArrayState a)
    {
        Arrays = Arrays.SetItem(call, a);
        Changed(ChangedKind.Array, call);
    }

    public void SetIter(int id, IterState it)
    {
        Iters = Iters.SetItem(id, it);
        Changed(ChangedKind.Iter, id);
    }

    public void SetBio(int id, BioState b)
    {
        Bios = Bios.SetItem(id, b);
        Changed(ChangedKind.Bio, id);
    }

    public void RemoveBio(int id)
    {
        Bios = Bios.Remove(id);
        Changed(ChangedKind.Bio, id);
    }

    public void SetFv(int id, FvState fv)
    {
        Fvs = Fvs.SetItem(id, fv);
        Changed(ChangedKind.Fv, id);
    }

    public void SetNetfs(int id, NetfsState n)
    {
        Netfs = Netfs.SetItem(id, n);
        Changed(ChangedKind.Netfs, id);
    }

    public void RemoveNetfs(int id)
    {
        Netfs = Netfs.Remove(id);
        Changed(ChangedKind.Netfs, id);
    }

    // Every entry of a described collection this step set or removed (private setters: nothing else can change them).
    private List<ChangedKey>? _changed;

    private void Changed(ChangedKind kind, int id, string? folio = null) => (_changed ??= []).Add(new ChangedKey(kind, id, folio));

    /// <summary>Records that this command addressed folio <paramref name="key"/> (CORE-NO-COLLATERAL bookkeeping).</summary>
    public void Touch(string key)
    {
        _folioBefore ??= new(StringComparer.Ordinal);
        if (!_folioBefore.ContainsKey(key))
        {
            _folioBefore[key] = _before.FindFolio(key);
        }
    }

    public void Note(string text) => (_notes ??= []).Add(text);

    private static readonly string[] SmallNumbers = [.. Enumerable.Range(-1, 4098).Select(i => i.ToString(CultureInfo.InvariantCulture))];

    /// <summary>Invariant decimal text (-1..4096 made once and shared).</summary>
    public static string Num(long v) => v is >= -1 and <= 4096 ? SmallNumbers[v + 1] : v.ToString(CultureInfo.InvariantCulture);

    public static string Bool(bool b) => b ? "true" : "false";

    /// <summary>The account of a query's (no) change.</summary>
    public const string QueryChange = "no change (query)";

    public StepOutcome Finish()
    {
        var (checks, exercised) = Expected();
        if (_isQuery)
        {
            return new StepOutcome(_before, checks, exercised, QueryChange);
        }

        var next = new ModelState
        {
            Profile = Profile,
            RegionList = Regions,
            FolioMap = Folios,
            LateFolios = LateFolios,
            ArrayMap = Arrays,
            IterMap = Iters,
            BioMap = Bios,
            UsedBios = UsedBios,
            FvMap = Fvs,
            NetfsMap = Netfs,
            UsedNetfs = UsedNetfs,
            Acquired = Acquired,
            Released = Released,
            AcquiredProv = AcquiredProv,
            ReleasedProv = ReleasedProv,
            PinnedMms = PinnedMms,
            StepNo = StepNo,
            LastTouched = _folioBefore is null ? [] : [.. _folioBefore.Keys],
            Layout = ReferenceEquals(Regions, _before.RegionList) && ReferenceEquals(LateFolios, _before.LateFolios)
                ? _before.Layout
                : new StateLayout(Regions, LateFolios),
            Changes = new StepChanges(_before.Serial, _changed ?? (IReadOnlyList<ChangedKey>)[]),
        };
        return new StepOutcome(next.SharingViewsOf(_before), checks, exercised, Account);
    }

    /// <summary>"r1.f0 refcount 1→1025, acquired 0→1": folio changes first, then counters, then the other notes.</summary>
    private string Account()
    {
        var parts = new List<string>();
        foreach (var (key, old) in (_folioBefore ?? []).OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (!Folios.TryGetValue(key, out var now) || ReferenceEquals(now, old))
            {
                continue;
            }

            var diffs = new List<string>();
            if (old is null)
            {
                diffs.Add("created");
            }

            Diff(diffs, "refcount", old?.Refcount, now.Refcount);
            Diff(diffs, "pincount", old?.Pincount, now.Pincount);
            Diff(diffs, "dirty", old?.Dirty, now.Dirty);
            Diff(diffs, "pins", old?.Pins, now.Pins);
            if (diffs.Count > 0)
            {
                parts.Add(key + " " + string.Join(", ", diffs));
            }
        }

        if (Acquired != _before.Acquired)
        {
            parts.Add($"acquired {Num(_before.Acquired)}→{Num(Acquired)}");
        }

        if (Released != _before.Released)
        {
            parts.Add($"released {Num(_before.Released)}→{Num(Released)}");
        }

        parts.AddRange(_notes ?? []);
        return parts.Count == 0 ? "no change" : string.Join("; ", parts);
    }

    private static void Diff<T>(List<string> diffs, string name, T? old, T now)
        where T : struct
    {
        if (old is null)
        {
            diffs.Add($"{name} {Text(now)}");
        }
        else if (!EqualityComparer<T>.Default.Equals(old.Value, now))
        {
            diffs.Add($"{name} {Text(old.Value)}→{Text(now)}");
        }
    }

    private static string Text<T>(T v)
        where T : struct => v switch
        {
            bool b => Bool(b),
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => v.ToString() ?? string.Empty,
        };
}
