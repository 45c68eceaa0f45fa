namespace GupConformance.Spec;

/// <summary>
/// The bio flags the contract reports and their bit numbers in bi_flags, era by era (BIO-FLAG-BITS):
/// include/linux/blk_types.h in 6.1.192 (BIO_NO_PAGE_REF = 0, BIO_CLONED = 1) and 6.12.118 (BIO_PAGE_PINNED = 0,
/// BIO_CLONED = 1); the 2023 v8 proposal (BIO_PAGE_PINNED = 0, BIO_PAGE_REFFED = 1, BIO_CLONED = 2).
/// </summary>
public static class BioFlagLayout
{
    public const string NoPageRef = "BIO_NO_PAGE_REF";
    public const string PagePinned = "BIO_PAGE_PINNED";
    public const string PageReffed = "BIO_PAGE_REFFED";
    public const string Cloned = "BIO_CLONED";

    /// <summary>The flag's bit number in the era's enum; -1 when the era has no such flag.</summary>
    public static int Bit(BioScheme scheme, string flag) => (scheme, flag) switch
    {
        (BioScheme.NoPageRef, NoPageRef) => 0,
        (BioScheme.NoPageRef, Cloned) => 1,
        (BioScheme.ReffedAndPinned, PagePinned) => 0,
        (BioScheme.ReffedAndPinned, PageReffed) => 1,
        (BioScheme.ReffedAndPinned, Cloned) => 2,
        (BioScheme.PinnedOnly, PagePinned) => 0,
        (BioScheme.PinnedOnly, Cloned) => 1,
        _ => -1,
    };

    /// <summary>The bi_flags word holding exactly <paramref name="flags"/> (1 &lt;&lt; bit each).</summary>
    public static long Bits(BioScheme scheme, IEnumerable<string> flags) =>
        flags.Aggregate(0L, (acc, f) => Bit(scheme, f) is var b and >= 0
            ? acc | (1L << b)
            : throw new ArgumentException($"{f} is not a bio flag of the {scheme} era", nameof(flags)));
}
