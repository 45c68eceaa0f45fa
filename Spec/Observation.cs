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
    // The fields are stored compactly (a number each, and per field a bit for "set" and one for a flag's value), not as
    // nullable properties: implementations make one observation per inspection, tens of thousands per run, and the size
    // of each is what the garbage collector pays for while the run's sequences are in flight. The bits are the fields'
    // numbers (No).
    private long _result, _offset0, _iterCount, _refcount, _pincount, _acquired, _released, _extractMode, _bioFlagBits, _bioPages, _nrFrames;
    private int _set;
    private int _true;

    private static int Bit(No field) => 1 << (int)field;

    private long? Get(No field, long value) => (_set & Bit(field)) != 0 ? value : null;

    private bool? Get(No field) => (_set & Bit(field)) != 0 ? (_true & Bit(field)) != 0 : null;

    private void Put(No field, ref long number, long? value)
    {
        number = value.GetValueOrDefault();
        _set = value.HasValue ? _set | Bit(field) : _set & ~Bit(field);
    }

    private void Put(No field, bool? value)
    {
        _set = value.HasValue ? _set | Bit(field) : _set & ~Bit(field);
        _true = value == true ? _true | Bit(field) : _true & ~Bit(field);
    }

    /// <summary>Return value: a count (pages, bytes, bvecs, frames) or -errno; 0 for calls that return void.</summary>
    public long? Result { get => Get(No.Result, _result); init => Put(No.Result, ref _result, value); }

    /// <summary>The entries of the pages array produced by the command, in order.</summary>
    public IReadOnlyList<PageRun>? Pages { get; init; }

    /// <summary>*offset0 of an extraction.</summary>
    public long? Offset0 { get => Get(No.Offset0, _offset0); init => Put(No.Offset0, ref _offset0, value); }

    /// <summary>iov_iter_count() after the command.</summary>
    public long? IterCount { get => Get(No.IterCount, _iterCount); init => Put(No.IterCount, ref _iterCount, value); }

    /// <summary>Folio refcount as the signed 32-bit value the kernel holds (it wraps).</summary>
    public long? Refcount { get => Get(No.Refcount, _refcount); init => Put(No.Refcount, ref _refcount, value); }

    /// <summary>Exact pin count, only for a folio that has one in this era; null otherwise.</summary>
    public long? Pincount { get => Get(No.Pincount, _pincount); init => Put(No.Pincount, ref _pincount, value); }

    public bool? MaybeDmaPinned { get => Get(No.MaybeDmaPinned); init => Put(No.MaybeDmaPinned, value); }

    /// <summary>Folio dirty flag (not reported for the shared zero page).</summary>
    public bool? Dirty { get => Get(No.Dirty); init => Put(No.Dirty, value); }

    public long? Acquired { get => Get(No.NrFollPinAcquired, _acquired); init => Put(No.NrFollPinAcquired, ref _acquired, value); }

    public long? Released { get => Get(No.NrFollPinReleased, _released); init => Put(No.NrFollPinReleased, ref _released, value); }

    /// <summary>iov_iter_extract_will_pin() (merged eras).</summary>
    public bool? WillPin { get => Get(No.WillPin); init => Put(No.WillPin, value); }

    /// <summary>iov_iter_extract_mode() as the era's numeric FOLL_* value (RFC and v8 proposals).</summary>
    public long? ExtractMode { get => Get(No.ExtractMode, _extractMode); init => Put(No.ExtractMode, ref _extractMode, value); }

    /// <summary>Bio flag names set after the command, e.g. BIO_PAGE_PINNED (sorted).</summary>
    public IReadOnlyList<string>? BioFlags { get; init; }

    /// <summary>The same flags as the era's bi_flags bits (1 &lt;&lt; flag number), e.g. 0x3 for BIO_NO_PAGE_REF|BIO_CLONED ≤ v6.4.</summary>
    public long? BioFlagBits { get => Get(No.BioFlagBits, _bioFlagBits); init => Put(No.BioFlagBits, ref _bioFlagBits, value); }

    /// <summary>Pages (bvec entries counted per page) held by the bio.</summary>
    public long? BioPages { get => Get(No.BioPages, _bioPages); init => Put(No.BioPages, ref _bioPages, value); }

    public bool? GotRef { get => Get(No.GotRef); init => Put(No.GotRef, value); }

    public bool? IsPfns { get => Get(No.IsPfns); init => Put(No.IsPfns, value); }

    public long? NrFrames { get => Get(No.NrFrames, _nrFrames); init => Put(No.NrFrames, ref _nrFrames, value); }

    /// <summary>MMF_HAS_PINNED of the inspected address space.</summary>
    public bool? HasPinned { get => Get(No.HasPinned); init => Put(No.HasPinned, value); }

    /// <summary>The names of the canonical fields, in the order <see cref="Fields"/> lists them: their numbers' names (No)
    /// in snake case.</summary>
    public static IReadOnlyList<string> FieldNames { get; } = [.. Enum.GetNames<No>().Select(SnakeCase)];

    private static string SnakeCase(string name) =>
        string.Concat(name.Select((c, i) => char.IsUpper(c) ? (i == 0 ? string.Empty : "_") + char.ToLowerInvariant(c) : c.ToString()));

    /// <summary>
    /// The observation as named canonical text fields: the form every report and trace uses (only the fields that are
    /// set). A check reads one field at a time: as a number (<see cref="Number"/>) or as this same text (<see cref="Field(int)"/>).
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

    /// <summary>Canonical bio_flags text: the names sorted ordinally and joined by '|', or "0" for none.</summary>
    public static string BioFlagsText(IReadOnlyCollection<string> flags) =>
        flags.Count == 0 ? "0" : string.Join('|', flags.Order(StringComparer.Ordinal));

    /// <summary>
    /// The number of field <paramref name="name"/> (its place in <see cref="FieldNames"/>), or -1 when it is not a field
    /// name: resolved once by a checker that asks about the same field of many observations (<see cref="Number"/>, <see cref="Field(int)"/>).
    /// </summary>
    public static int FieldId(string name) => FieldIds.TryGetValue(name, out var id) ? id : -1;

    private static readonly Dictionary<string, int> FieldIds = FieldNames.Select((n, i) => (n, i)).ToDictionary(p => p.n, p => p.i, StringComparer.Ordinal);

    /// <summary>
    /// The number of field <paramref name="fieldId"/> when it is set and is a count or a flag (a flag as 1 or 0); null
    /// when it is not set, and for the fields compared as text (<see cref="TryParseNumber"/> says which).
    /// </summary>
    public long? Number(int fieldId)
    {
        // Read straight from the field's slot (a check asks this of every observation; Value, the one general mapping,
        // builds the field's canonical form first). A test holds it to Field's text: TryParseNumber of it gives this number.
        if ((uint)fieldId >= 32 || (_set & (1 << fieldId)) == 0)
        {
            return null;
        }

        return FormOf(fieldId) switch
        {
            Form.Flag => (_true >> fieldId) & 1,
            Form.Decimal => (No)fieldId switch
            {
                No.Offset0 => _offset0,
                No.IterCount => _iterCount,
                No.Refcount => _refcount,
                No.Pincount => _pincount,
                No.NrFollPinAcquired => _acquired,
                No.NrFollPinReleased => _released,
                No.BioPages => _bioPages,
                No.NrFrames => _nrFrames,
                _ => null,
            },
            _ => null,
        };
    }

    /// <summary>
    /// Whether <paramref name="text"/> is exactly the canonical text of a number of field <paramref name="fieldId"/> (a
    /// count's decimal text, or a flag's "true" / "false"), and which: then <c>Field(fieldId) == text</c> holds exactly
    /// when <c>Number(fieldId) == number</c>, so a checker that asks about the same text of many observations parses it
    /// once and compares numbers, without making the observation's text.
    /// False for any other text ("05", "+5", "-0") and for the fields compared as text.
    /// </summary>
    public static bool TryParseNumber(int fieldId, string text, out long number)
    {
        number = 0;
        switch (FormOf(fieldId))
        {
            case Form.Flag when text is "true" or "false":
                number = text == "true" ? 1 : 0;
                return true;
            case Form.Decimal:
                return TryParseCanonical(text, out number);
            default:
                return false;
        }
    }

    /// <summary>
    /// A number's canonical decimal text and nothing else: an optional '-', then digits without a leading zero ("0"
    /// alone for zero), within a long. Every check the model makes is parsed once (a general parser and a round trip
    /// through the number's text cost more than the check saved).
    /// </summary>
    private static bool TryParseCanonical(string text, out long number)
    {
        number = 0;
        var negative = text.StartsWith('-');
        var first = negative ? 1 : 0;
        if (text.Length == first || text.Length - first > 19 || text[first] == '0')
        {
            return text == "0";
        }

        ulong value = 0;
        for (var i = first; i < text.Length; i++)
        {
            var digit = (uint)(text[i] - '0');
            if (digit > 9)
            {
                return false;
            }

            value = (value * 10) + digit;
        }

        // Nineteen digits at most: no overflow of the ulong; a long's range is checked here.
        if (value > (negative ? 9223372036854775808UL : long.MaxValue))
        {
            return false;
        }

        number = negative ? unchecked(-(long)value) : (long)value;
        return true;
    }

    /// <summary>The form field <paramref name="fieldId"/> is compared in: what <see cref="Value"/> gives it when it is set.</summary>
    private static Form FormOf(int fieldId) => fieldId switch
    {
        (int)No.Result or (int)No.Pages or (int)No.ExtractMode or (int)No.BioFlags or (int)No.BioFlagBits => Form.Text,
        (int)No.Offset0 or (int)No.IterCount or (int)No.Refcount or (int)No.Pincount or (int)No.NrFollPinAcquired
            or (int)No.NrFollPinReleased or (int)No.BioPages or (int)No.NrFrames => Form.Decimal,
        (int)No.MaybeDmaPinned or (int)No.Dirty or (int)No.WillPin or (int)No.GotRef or (int)No.IsPfns or (int)No.HasPinned => Form.Flag,
        _ => Form.Unset,
    };

    /// <summary>One field's canonical text (as in <see cref="Fields"/>), or null when it is not set or not a field name.</summary>
    public string? Field(string name) => Field(FieldId(name));

    /// <summary>As <see cref="Field(string)"/> for the field numbered <paramref name="fieldId"/> (<see cref="FieldId"/>).</summary>
    public string? Field(int fieldId) => Value(fieldId) switch
    {
        { Form: Form.Unset } => null,
        { Form: Form.Decimal, Number: var n } => n.ToString(CultureInfo.InvariantCulture),
        { Form: Form.Flag, Number: var b } => b != 0 ? "true" : "false",
        { Text: var t } => t,
    };

    private enum Form
    {
        Unset,
        Decimal,
        Flag,
        Text,
    }

    /// <summary>A field's value in the form its canonical text is made from: a decimal number, a flag, or the text itself.</summary>
    private readonly record struct FieldValue(Form Form, long Number = 0, string? Text = null);

    // The fields' numbers, which FieldId gives out: their names in snake case are FieldNames, in this (alphabetical) order.
    private enum No
    {
        BioFlagBits,
        BioFlags,
        BioPages,
        Dirty,
        ExtractMode,
        GotRef,
        HasPinned,
        IsPfns,
        IterCount,
        MaybeDmaPinned,
        NrFollPinAcquired,
        NrFollPinReleased,
        NrFrames,
        Offset0,
        Pages,
        Pincount,
        Refcount,
        Result,
        WillPin,
    }

    /// <summary>The one place a field (by its number in <see cref="FieldNames"/>) is mapped to its property and its canonical form.</summary>
    private FieldValue Value(int fieldId)
    {
        static FieldValue D(long? v) => v is { } n ? new(Form.Decimal, n) : default;
        static FieldValue B(bool? v) => v is { } b ? new(Form.Flag, b ? 1 : 0) : default;
        static FieldValue T(string? t) => t is null ? default : new(Form.Text, Text: t);
        static string Hex(long v) => "0x" + v.ToString("x", CultureInfo.InvariantCulture);
        return fieldId switch
        {
            (int)No.Result => T(Result is { } r ? Errno.Describe(r) : null),
            (int)No.Pages => T(Pages is { } p ? PageRuns.Render(p) : null),
            (int)No.Offset0 => D(Offset0),
            (int)No.IterCount => D(IterCount),
            (int)No.Refcount => D(Refcount),
            (int)No.Pincount => D(Pincount),
            (int)No.MaybeDmaPinned => B(MaybeDmaPinned),
            (int)No.Dirty => B(Dirty),
            (int)No.NrFollPinAcquired => D(Acquired),
            (int)No.NrFollPinReleased => D(Released),
            (int)No.WillPin => B(WillPin),
            (int)No.ExtractMode => T(ExtractMode is { } em ? Hex(em) : null),
            (int)No.BioFlags => T(BioFlags is { } bf ? BioFlagsText(bf) : null),
            (int)No.BioFlagBits => T(BioFlagBits is { } bb ? Hex(bb) : null),
            (int)No.BioPages => D(BioPages),
            (int)No.GotRef => B(GotRef),
            (int)No.IsPfns => B(IsPfns),
            (int)No.NrFrames => D(NrFrames),
            (int)No.HasPinned => B(HasPinned),
            _ => default,
        };
    }
}
