using System.Globalization;

namespace GupConformance.Spec;

/// <summary>A run of consecutive pages of one folio in a pages array: entries First..First+Count-1.</summary>
public sealed record PageRun(string Folio, long First, long Count)
{
    public override string ToString() => Count == 1
        ? string.Create(CultureInfo.InvariantCulture, $"{Folio}:{First}")
        : string.Create(CultureInfo.InvariantCulture, $"{Folio}:{First}+{Count}");
}

/// <summary>Canonical page-array rendering shared by every side of the contract.</summary>
public static class PageRuns
{
    /// <summary>Merges adjacent runs that continue each other, so any split of the same entries compares equal.</summary>
    public static IReadOnlyList<PageRun> Canonical(IEnumerable<PageRun> runs)
    {
        var result = new List<PageRun>();
        foreach (var r in runs)
        {
            if (r.Count <= 0)
            {
                continue;
            }

            if (result.Count > 0 && result[^1].Folio == r.Folio && result[^1].First + result[^1].Count == r.First)
            {
                result[^1] = result[^1] with { Count = result[^1].Count + r.Count };
            }
            else
            {
                result.Add(r);
            }
        }

        return result;
    }

    /// <summary>"[]" or "[r1.f0:0+4, zero:0]".</summary>
    public static string Render(IEnumerable<PageRun> runs) => "[" + string.Join(", ", Canonical(runs)) + "]";

    /// <summary>Total number of entries.</summary>
    public static long Entries(IEnumerable<PageRun> runs) => runs.Sum(r => r.Count);
}

/// <summary>
/// What an implementation reports for one command. Only the fields meaningful for the command are set; the
/// checker compares every field the model expects and names the rule each comparison rests on.
/// </summary>
public sealed record Observation
{
    /// <summary>Return value: a count (pages, bytes, bvecs, frames) or -errno; 0 for calls that return void.</summary>
    public long? Result { get; init; }

    /// <summary>The entries of the pages array produced by the command, in order.</summary>
    public IReadOnlyList<PageRun>? Pages { get; init; }

    /// <summary>*offset0 of an extraction.</summary>
    public long? Offset0 { get; init; }

    /// <summary>iov_iter_count() after the command.</summary>
    public long? IterCount { get; init; }

    /// <summary>Folio refcount as the signed 32-bit value the kernel holds (it wraps).</summary>
    public long? Refcount { get; init; }

    /// <summary>Exact pin count, only for a folio that has one in this era; null otherwise.</summary>
    public long? Pincount { get; init; }

    public bool? MaybeDmaPinned { get; init; }

    /// <summary>Folio dirty flag (not reported for the shared zero page).</summary>
    public bool? Dirty { get; init; }

    public long? Acquired { get; init; }

    public long? Released { get; init; }

    /// <summary>iov_iter_extract_will_pin() (merged eras).</summary>
    public bool? WillPin { get; init; }

    /// <summary>iov_iter_extract_mode() as the era's numeric FOLL_* value (RFC and v8 proposals).</summary>
    public long? ExtractMode { get; init; }

    /// <summary>Bio flag names set after the command, e.g. BIO_PAGE_PINNED (sorted).</summary>
    public IReadOnlyList<string>? BioFlags { get; init; }

    /// <summary>The same flags as the era's bi_flags bits (1 &lt;&lt; flag number), e.g. 0x3 for BIO_NO_PAGE_REF|BIO_CLONED ≤ v6.4.</summary>
    public long? BioFlagBits { get; init; }

    /// <summary>Pages (bvec entries counted per page) held by the bio.</summary>
    public long? BioPages { get; init; }

    public bool? GotRef { get; init; }

    public bool? IsPfns { get; init; }

    public long? NrFrames { get; init; }

    /// <summary>MMF_HAS_PINNED of the inspected address space.</summary>
    public bool? HasPinned { get; init; }

    /// <summary>The names of the canonical fields, in the order <see cref="Fields"/> lists them.</summary>
    public static IReadOnlyList<string> FieldNames { get; } =
    [
        "bio_flag_bits", "bio_flags", "bio_pages", "dirty", "extract_mode", "got_ref", "has_pinned", "is_pfns", "iter_count", "maybe_dma_pinned",
        "nr_foll_pin_acquired", "nr_foll_pin_released", "nr_frames", "offset0", "pages", "pincount", "refcount", "result",
        "will_pin",
    ];

    /// <summary>
    /// The observation as named canonical text fields: the form every report and trace uses (only the fields that are
    /// set). Comparisons read one field at a time with <see cref="Field"/>, which gives the same text.
    /// </summary>
    public SortedDictionary<string, string> Fields()
    {
        var f = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in FieldNames)
        {
            if (Field(name) is { } v)
            {
                f[name] = v;
            }
        }

        return f;
    }

    /// <summary>
    /// Whether field <paramref name="name"/> reads <paramref name="text"/>, i.e. <c>Field(name) == text</c>, or null when
    /// the field is not set (or not a field name). The checker asks this of every field of every observation, so numbers
    /// and flags are compared without making their text: a number is formatted into a stack buffer.
    /// </summary>
    public bool? Is(string name, string text)
    {
        switch (name)
        {
            case "refcount": return Refcount is { } rc ? IsNumber(rc, text) : null;
            case "pincount": return Pincount is { } pc ? IsNumber(pc, text) : null;
            case "maybe_dma_pinned": return MaybeDmaPinned is { } m ? IsFlag(m, text) : null;
            case "dirty": return Dirty is { } d ? IsFlag(d, text) : null;
            case "nr_foll_pin_acquired": return Acquired is { } a ? IsNumber(a, text) : null;
            case "nr_foll_pin_released": return Released is { } rel ? IsNumber(rel, text) : null;
            case "has_pinned": return HasPinned is { } hp ? IsFlag(hp, text) : null;
            case "offset0": return Offset0 is { } o ? IsNumber(o, text) : null;
            case "iter_count": return IterCount is { } ic ? IsNumber(ic, text) : null;
            case "bio_pages": return BioPages is { } bp ? IsNumber(bp, text) : null;
            case "nr_frames": return NrFrames is { } nf ? IsNumber(nf, text) : null;
            case "will_pin": return WillPin is { } w ? IsFlag(w, text) : null;
            case "got_ref": return GotRef is { } g ? IsFlag(g, text) : null;
            case "is_pfns": return IsPfns is { } ip ? IsFlag(ip, text) : null;
            default: return Field(name) is { } v ? string.Equals(v, text, StringComparison.Ordinal) : null;
        }
    }

    private static bool IsFlag(bool value, string text) => string.Equals(text, value ? "true" : "false", StringComparison.Ordinal);

    private static bool IsNumber(long value, string text)
    {
        // A long is at most 20 characters with its sign.
        Span<char> digits = stackalloc char[20];
        return value.TryFormat(digits, out var n, default, CultureInfo.InvariantCulture) && text.AsSpan().SequenceEqual(digits[..n]);
    }

    /// <summary>One field's canonical text (as in <see cref="Fields"/>), or null when it is not set or not a field name.</summary>
    public string? Field(string name)
    {
        static string B(bool b) => b ? "true" : "false";
        static string L(long v) => v.ToString(CultureInfo.InvariantCulture);
        return name switch
        {
            "result" => Result is { } r ? Errno.Describe(r) : null,
            "pages" => Pages is { } p ? PageRuns.Render(p) : null,
            "offset0" => Offset0 is { } o ? L(o) : null,
            "iter_count" => IterCount is { } ic ? L(ic) : null,
            "refcount" => Refcount is { } rc ? L(rc) : null,
            "pincount" => Pincount is { } pc ? L(pc) : null,
            "maybe_dma_pinned" => MaybeDmaPinned is { } m ? B(m) : null,
            "dirty" => Dirty is { } d ? B(d) : null,
            "nr_foll_pin_acquired" => Acquired is { } a ? L(a) : null,
            "nr_foll_pin_released" => Released is { } rel ? L(rel) : null,
            "will_pin" => WillPin is { } w ? B(w) : null,
            "extract_mode" => ExtractMode is { } em ? "0x" + em.ToString("x", CultureInfo.InvariantCulture) : null,
            "bio_flags" => BioFlags is { } bf ? (bf.Count == 0 ? "0" : string.Join('|', bf.Order(StringComparer.Ordinal))) : null,
            "bio_flag_bits" => BioFlagBits is { } bb ? "0x" + bb.ToString("x", CultureInfo.InvariantCulture) : null,
            "bio_pages" => BioPages is { } bp ? L(bp) : null,
            "got_ref" => GotRef is { } g ? B(g) : null,
            "is_pfns" => IsPfns is { } ip ? B(ip) : null,
            "nr_frames" => NrFrames is { } nf ? L(nf) : null,
            "has_pinned" => HasPinned is { } hp ? B(hp) : null,
            _ => null,
        };
    }
}
