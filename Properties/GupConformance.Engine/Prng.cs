namespace GupConformance.Engine;

/// <summary>
/// The generator's own pseudo-random source: xoshiro256** (Blackman &amp; Vigna) whose 256-bit state is filled
/// from one 64-bit seed by SplitMix64. It is independent of FsCheck's generator and of the framework's
/// <see cref="System.Random"/>, so a sequence seed yields the same commands on every platform and version.
/// FsCheck only chooses the 64-bit sequence seeds (see <see cref="ConformanceRun"/>).
/// </summary>
public sealed class Prng
{
    private ulong _s0;
    private ulong _s1;
    private ulong _s2;
    private ulong _s3;

    public Prng(ulong seed)
    {
        var sm = seed;
        _s0 = SplitMix64(ref sm);
        _s1 = SplitMix64(ref sm);
        _s2 = SplitMix64(ref sm);
        _s3 = SplitMix64(ref sm);
    }

    /// <summary>One SplitMix64 step: advances <paramref name="state"/> and returns the mixed output.</summary>
    public static ulong SplitMix64(ref ulong state)
    {
        state += 0x9E3779B97F4A7C15UL;
        var z = state;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A well-mixed function of (seed, index), used to derive independent sub-seeds.</summary>
    public static ulong Derive(ulong seed, ulong index)
    {
        var s = seed ^ (index * 0xD1B54A32D192ED03UL);
        SplitMix64(ref s);
        return SplitMix64(ref s);
    }

    public ulong NextUInt64()
    {
        var result = RotateLeft(_s1 * 5, 7) * 9;
        var t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, <paramref name="bound"/>) (bound &gt; 0), without modulo bias.</summary>
    public ulong Below(ulong bound)
    {
        if (bound <= 1)
        {
            return 0;
        }

        var threshold = (0UL - bound) % bound;
        while (true)
        {
            var r = NextUInt64();
            if (r >= threshold)
            {
                return r % bound;
            }
        }
    }

    /// <summary>Uniform in [<paramref name="lo"/>, <paramref name="hi"/>] (inclusive).</summary>
    public long Range(long lo, long hi) => hi <= lo ? lo : lo + (long)Below((ulong)(hi - lo) + 1);

    /// <summary>Uniform in [<paramref name="lo"/>, <paramref name="hi"/>] (inclusive).</summary>
    public int Range(int lo, int hi) => (int)Range((long)lo, hi);

    /// <summary>True with probability <paramref name="percent"/>/100.</summary>
    public bool Chance(int percent) => percent > 0 && (percent >= 100 || (int)Below(100) < percent);

    public T Pick<T>(IReadOnlyList<T> items) => PickFrom(items, 0);

    /// <summary>Uniform among <paramref name="items"/> from index <paramref name="from"/> on: the draw <see cref="Pick"/> makes of that tail as a list of its own.</summary>
    public T PickFrom<T>(IReadOnlyList<T> items, int from) => items[from + (int)Below((ulong)(items.Count - from))];

    /// <summary>Weighted choice; entries with a weight &lt;= 0 are never chosen. Returns default when none can be.</summary>
    public T? Weighted<T>(IReadOnlyList<(T Item, int Weight)> items)
    {
        long total = 0;
        foreach (var (_, w) in items)
        {
            total += Math.Max(0, w);
        }

        if (total == 0)
        {
            return default;
        }

        var r = (long)Below((ulong)total);
        foreach (var (item, w) in items)
        {
            if (w <= 0)
            {
                continue;
            }

            if (r < w)
            {
                return item;
            }

            r -= w;
        }

        return default;
    }

    private static ulong RotateLeft(ulong x, int k) => (x << k) | (x >> (64 - k));
}
