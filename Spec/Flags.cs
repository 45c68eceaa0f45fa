namespace GupConformance.Spec;

/// <summary>
/// The FOLL_* flags as symbols. This numbering is the contract's own and never changes; the numeric
/// value a kernel of a given era uses is in <see cref="FlagTable"/> (FOLL_PIN was 0x40000 up to 6.2,
/// 1&lt;&lt;19 from 6.3, and bit 0 in the 2023 v8 proposal).
/// </summary>
[Flags]
public enum Foll : long
{
    None = 0,
    Write = 1L << 0,
    Touch = 1L << 1,
    Get = 1L << 2,
    Dump = 1L << 3,
    Force = 1L << 4,
    NoWait = 1L << 5,
    NoFault = 1L << 6,
    HwPoison = 1L << 7,
    Anon = 1L << 8,
    LongTerm = 1L << 9,
    SplitPmd = 1L << 10,
    PciP2pDma = 1L << 11,
    Interruptible = 1L << 12,
    HonorNumaFault = 1L << 13,
    Tried = 1L << 14,
    Remote = 1L << 15,
    Pin = 1L << 16,
    FastOnly = 1L << 17,
    Unlockable = 1L << 18,
    MadvPopulate = 1L << 19,
}

/// <summary>Symbolic flag helpers.</summary>
public static class FollExtensions
{
    public static bool Has(this Foll flags, Foll f) => (flags & f) == f;

    public static bool Any(this Foll flags, Foll f) => (flags & f) != 0;

    /// <summary>"FOLL_PIN|FOLL_WRITE" style, in the contract's bit order; "0" for none.</summary>
    public static string Render(this Foll flags) => flags == Foll.None ? "0" : string.Join('|', flags.KernelNames());

    /// <summary>The kernel's names of the flags <paramref name="flags"/> holds, in the contract's bit order.</summary>
    public static List<string> KernelNames(this Foll flags)
    {
        var names = new List<string>();
        for (var i = 0; i < Each.Count; i++)
        {
            if (flags.Has(Each[i]))
            {
                names.Add(KernelName(Each[i]));
            }
        }

        return names;
    }

    /// <summary>Every flag but <see cref="Foll.None"/>, in bit order (made once: the model's precondition asks on every
    /// call it checks, and Enum.GetValues makes a new array each time).</summary>
    public static IReadOnlyList<Foll> Each { get; } = [.. Enum.GetValues<Foll>().Where(f => f != Foll.None)];

    // The kernel's name of each flag, by bit number (made once: the refusals the generator probes name their flags).
    private static readonly string[] Names = [.. Enumerable.Range(0, 64).Select(bit => Named((Foll)(1L << bit)))];

    /// <summary>"FOLL_LONGTERM": the kernel's name of one flag.</summary>
    public static string KernelName(Foll f) =>
        f != Foll.None && (f & (f - 1)) == 0 ? Names[System.Numerics.BitOperations.TrailingZeroCount((long)f)] : Named(f);

    private static string Named(Foll f) => f switch
    {
        Foll.PciP2pDma => "FOLL_PCI_P2PDMA",
        Foll.HonorNumaFault => "FOLL_HONOR_NUMA_FAULT",
        Foll.SplitPmd => "FOLL_SPLIT_PMD",
        Foll.FastOnly => "FOLL_FAST_ONLY",
        Foll.NoWait => "FOLL_NOWAIT",
        Foll.NoFault => "FOLL_NOFAULT",
        Foll.HwPoison => "FOLL_HWPOISON",
        Foll.LongTerm => "FOLL_LONGTERM",
        Foll.MadvPopulate => "FOLL_MADV_POPULATE",
        _ => "FOLL_" + f.ToString().ToUpperInvariant(),
    };
}

/// <summary>
/// The numeric FOLL_* values of one era. Missing entries mean the flag does not exist in that era.
/// Sources: include/linux/mm.h (5.7–6.2 #defines), include/linux/mm_types.h + mm/internal.h (6.3+ enum,
/// commits 2c2241081f7d and b5054174ac7c), and "[PATCH v8 10/10] mm: Renumber FOLL_PIN and FOLL_GET
/// down" (2023-01-23, never merged).
/// </summary>
public sealed class FlagTable
{
    private readonly IReadOnlyDictionary<Foll, long> _values;

    private FlagTable(string name, IReadOnlyDictionary<Foll, long> values)
    {
        Name = name;
        _values = values;
    }

    public string Name { get; }

    public bool Exists(Foll flag) => _values.ContainsKey(flag);

    /// <summary>The kernel's numeric value of a single flag; throws if the era has no such flag.</summary>
    public long ValueOf(Foll flag) => _values.TryGetValue(flag, out var v)
        ? v
        : throw new ArgumentException($"{FollExtensions.KernelName(flag)} does not exist in flag table {Name}", nameof(flag));

    /// <summary>The numeric gup_flags word a caller of this era would pass.</summary>
    public long Encode(Foll flags)
    {
        long word = 0;
        foreach (var (f, v) in _values)
        {
            if (flags.Has(f))
            {
                word |= v;
            }
        }

        return word;
    }

    /// <summary>The symbolic flags of a numeric word (unknown bits are dropped).</summary>
    public Foll Decode(long word)
    {
        var flags = Foll.None;
        foreach (var (f, v) in _values)
        {
            if ((word & v) == v)
            {
                flags |= f;
            }
        }

        return flags;
    }

    public IEnumerable<(Foll Flag, long Value)> Entries => _values.OrderBy(kv => kv.Value).Select(kv => (kv.Key, kv.Value));

    /// <summary>2015 (pre-FOLL_PIN, v4.0-era include/linux/mm.h).</summary>
    public static readonly FlagTable Linux40 = new("linux-4.0", new Dictionary<Foll, long>
    {
        [Foll.Write] = 0x01, [Foll.Touch] = 0x02, [Foll.Get] = 0x04, [Foll.Dump] = 0x08, [Foll.Force] = 0x10,
        [Foll.NoWait] = 0x20, [Foll.HwPoison] = 0x100, [Foll.Tried] = 0x800, [Foll.Remote] = 0x2000,
    });

    /// <summary>5.6–5.7 #defines (FOLL_PIN 0x40000 introduced in 5.6 by eddb1c228f79).</summary>
    public static readonly FlagTable Linux57 = new("linux-5.7", new Dictionary<Foll, long>
    {
        [Foll.Write] = 0x01, [Foll.Touch] = 0x02, [Foll.Get] = 0x04, [Foll.Dump] = 0x08, [Foll.Force] = 0x10,
        [Foll.NoWait] = 0x20, [Foll.HwPoison] = 0x100, [Foll.Tried] = 0x800, [Foll.Remote] = 0x2000,
        [Foll.Anon] = 0x8000, [Foll.LongTerm] = 0x10000, [Foll.SplitPmd] = 0x20000, [Foll.Pin] = 0x40000,
    });

    /// <summary>5.15–6.1 #defines (FOLL_NOFAULT 0x80, FOLL_FAST_ONLY 0x80000 added).</summary>
    public static readonly FlagTable Linux515 = new("linux-5.15", new Dictionary<Foll, long>
    {
        [Foll.Write] = 0x01, [Foll.Touch] = 0x02, [Foll.Get] = 0x04, [Foll.Dump] = 0x08, [Foll.Force] = 0x10,
        [Foll.NoWait] = 0x20, [Foll.NoFault] = 0x80, [Foll.HwPoison] = 0x100, [Foll.Tried] = 0x800,
        [Foll.Remote] = 0x2000, [Foll.Anon] = 0x8000, [Foll.LongTerm] = 0x10000, [Foll.SplitPmd] = 0x20000,
        [Foll.Pin] = 0x40000, [Foll.FastOnly] = 0x80000,
    });

    /// <summary>6.2 #defines (FOLL_PCI_P2PDMA 0x100000, FOLL_INTERRUPTIBLE 0x200000 added).</summary>
    public static readonly FlagTable Linux62 = new("linux-6.2", new Dictionary<Foll, long>
    {
        [Foll.Write] = 0x01, [Foll.Touch] = 0x02, [Foll.Get] = 0x04, [Foll.Dump] = 0x08, [Foll.Force] = 0x10,
        [Foll.NoWait] = 0x20, [Foll.NoFault] = 0x80, [Foll.HwPoison] = 0x100, [Foll.Tried] = 0x800,
        [Foll.Remote] = 0x2000, [Foll.Anon] = 0x8000, [Foll.LongTerm] = 0x10000, [Foll.SplitPmd] = 0x20000,
        [Foll.Pin] = 0x40000, [Foll.FastOnly] = 0x80000, [Foll.PciP2pDma] = 0x100000, [Foll.Interruptible] = 0x200000,
    });

    /// <summary>
    /// The 2023 v8 proposal: FOLL_PIN at bit 0 and FOLL_GET at bit 1 so they coincide with BIO_PAGE_PINNED /
    /// BIO_PAGE_REFFED; the rest renumbered down (seed 2023-01, PATCH v8 10/10).
    /// </summary>
    public static readonly FlagTable Proposal2023V8 = new("proposal-2023-v8", new Dictionary<Foll, long>
    {
        [Foll.Pin] = 0x01, [Foll.Get] = 0x02, [Foll.Write] = 0x04, [Foll.Touch] = 0x08, [Foll.Dump] = 0x10,
        [Foll.Force] = 0x20, [Foll.NoWait] = 0x40, [Foll.NoFault] = 0x80, [Foll.HwPoison] = 0x100,
        [Foll.Tried] = 0x200, [Foll.Remote] = 0x400, [Foll.Anon] = 0x800, [Foll.LongTerm] = 0x1000,
        [Foll.SplitPmd] = 0x2000, [Foll.FastOnly] = 0x4000, [Foll.PciP2pDma] = 0x8000, [Foll.Interruptible] = 0x10000,
    });

    /// <summary>6.3–6.5 enum: public flags in mm_types.h, private ones (FOLL_PIN = 1&lt;&lt;19) in mm/internal.h.</summary>
    public static readonly FlagTable Linux65 = new("linux-6.5", new Dictionary<Foll, long>
    {
        [Foll.Write] = 1L << 0, [Foll.Get] = 1L << 1, [Foll.Dump] = 1L << 2, [Foll.Force] = 1L << 3,
        [Foll.NoWait] = 1L << 4, [Foll.NoFault] = 1L << 5, [Foll.HwPoison] = 1L << 6, [Foll.Anon] = 1L << 7,
        [Foll.LongTerm] = 1L << 8, [Foll.SplitPmd] = 1L << 9, [Foll.PciP2pDma] = 1L << 10,
        [Foll.Interruptible] = 1L << 11, [Foll.HonorNumaFault] = 1L << 12, [Foll.Touch] = 1L << 16,
        [Foll.Tried] = 1L << 17, [Foll.Remote] = 1L << 18, [Foll.Pin] = 1L << 19, [Foll.FastOnly] = 1L << 20,
        [Foll.Unlockable] = 1L << 21,
    });

    /// <summary>6.12+ enum: adds the private FOLL_MADV_POPULATE = 1&lt;&lt;22.</summary>
    public static readonly FlagTable Linux612 = new("linux-6.12", new Dictionary<Foll, long>
    {
        [Foll.Write] = 1L << 0, [Foll.Get] = 1L << 1, [Foll.Dump] = 1L << 2, [Foll.Force] = 1L << 3,
        [Foll.NoWait] = 1L << 4, [Foll.NoFault] = 1L << 5, [Foll.HwPoison] = 1L << 6, [Foll.Anon] = 1L << 7,
        [Foll.LongTerm] = 1L << 8, [Foll.SplitPmd] = 1L << 9, [Foll.PciP2pDma] = 1L << 10,
        [Foll.Interruptible] = 1L << 11, [Foll.HonorNumaFault] = 1L << 12, [Foll.Touch] = 1L << 16,
        [Foll.Tried] = 1L << 17, [Foll.Remote] = 1L << 18, [Foll.Pin] = 1L << 19, [Foll.FastOnly] = 1L << 20,
        [Foll.Unlockable] = 1L << 21, [Foll.MadvPopulate] = 1L << 22,
    });
}
