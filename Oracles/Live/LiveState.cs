using System.Globalization;
using System.Text;
using GupConformance.Spec.Live;

namespace GupConformance.Oracles.Live;

/// <summary>What a virtual page maps.</summary>
public enum LivePageKind
{
    Untouched,
    Zero,
    Anon,
}

/// <summary>One virtual page: what it maps, which frame (folio) and page of it, and PG_anon_exclusive.</summary>
public readonly record struct LivePage(LivePageKind Kind, int Frame, int Index, bool Exclusive);

/// <summary>A folio: its size in pages, plain references held by pipes, pins held by rings, whether still mapped.</summary>
public sealed class LiveFrame
{
    public required int Id { get; init; }

    public required int Pages { get; init; }

    public required LiveRegionKind Kind { get; init; }

    public int Refs { get; set; }

    public int Pins { get; set; }

    public bool Mapped { get; set; } = true;

    public bool Large => Pages > 1;

    public LiveFrame Clone() => new() { Id = Id, Pages = Pages, Kind = Kind, Refs = Refs, Pins = Pins, Mapped = Mapped };
}

public sealed class LiveRegion
{
    public required int Id { get; init; }

    public required LiveRegionKind Kind { get; init; }

    public required LivePage[] Pages { get; init; }

    /// <summary>The VMA has an anon_vma (some page was ever anonymous). fork copies no page table entries of a VMA
    /// without one (vma_needs_copy()): its zero-page mappings are simply absent in the child.</summary>
    public bool AnonVma { get; set; }

    public long Bytes => (long)Pages.Length * 4096;

    public LiveRegion Clone() => new() { Id = Id, Kind = Kind, Pages = (LivePage[])Pages.Clone(), AnonVma = AnonVma };
}

public sealed class LiveRing
{
    public bool HasBuffers { get; set; }

    /// <summary>Pins kept by the registered buffers, per frame.</summary>
    public List<(int Frame, int Pins)> Held { get; init; } = [];

    public long VmPinKb { get; set; }

    public LiveRing Clone() => new() { HasBuffers = HasBuffers, Held = [.. Held], VmPinKb = VmPinKb };
}

public sealed class LivePipe
{
    public required int Slots { get; init; }

    /// <summary>One entry per used slot: the frame referenced, -1 for the zero page.</summary>
    public List<int> Used { get; init; } = [];

    public LivePipe Clone() => new() { Slots = Slots, Used = [.. Used] };
}

/// <summary>The live model's state. Step clones it and changes the clone, so a state is never changed after Step returns.</summary>
public sealed class LiveState
{
    public required LiveProfile Profile { get; init; }

    public required LiveEnvironment Environment { get; init; }

    public Dictionary<int, LiveRegion> Regions { get; init; } = [];

    public Dictionary<int, LiveFrame> Frames { get; init; } = [];

    public Dictionary<int, LiveRing> Rings { get; init; } = [];

    public Dictionary<int, LivePipe> Pipes { get; init; } = [];

    /// <summary>MMF_HAS_PINNED of our mm.</summary>
    public bool HasPinned { get; set; }

    public int NextFrame { get; set; }

    /// <summary>Every pin the model says is outstanding (held by rings).</summary>
    public long OutstandingPins => Rings.Values.Sum(r => r.Held.Sum(h => (long)h.Pins));

    public long VmPinKb => Rings.Values.Sum(r => r.VmPinKb);

    /// <summary>Hugetlb pages in use: mapped, or kept alive by a pin or a reference.</summary>
    public int HugetlbInUse => Frames.Values.Count(f => f.Kind == LiveRegionKind.Hugetlb && (f.Mapped || f.Pins > 0 || f.Refs > 0));

    public LiveState Clone() => new()
    {
        Profile = Profile,
        Environment = Environment,
        Regions = Regions.ToDictionary(kv => kv.Key, kv => kv.Value.Clone()),
        Frames = Frames.ToDictionary(kv => kv.Key, kv => kv.Value.Clone()),
        Rings = Rings.ToDictionary(kv => kv.Key, kv => kv.Value.Clone()),
        Pipes = Pipes.ToDictionary(kv => kv.Key, kv => kv.Value.Clone()),
        HasPinned = HasPinned,
        NextFrame = NextFrame,
    };

    public int NewFrame(int pages, LiveRegionKind kind)
    {
        var id = NextFrame++;
        Frames[id] = new LiveFrame { Id = id, Pages = pages, Kind = kind };
        return id;
    }

    /// <summary>Drops frames nothing maps, pins or references any more.</summary>
    public void Collect()
    {
        foreach (var id in Frames.Where(kv => !kv.Value.Mapped && kv.Value.Pins == 0 && kv.Value.Refs == 0).Select(kv => kv.Key).ToList())
        {
            Frames.Remove(id);
        }
    }

    /// <summary>The page states as the fixture renders them: '-' untouched, 'z' zero page, 'x' exclusive, 's' shared.</summary>
    public string StateText(LiveRegion r) => Rle(r.Pages.Select(p => p.Kind switch
    {
        LivePageKind.Untouched => '-',
        LivePageKind.Zero => 'z',
        _ => p.Exclusive ? 'x' : 's',
    }));

    /// <summary>'p' order-0 page, 'h' / 't' compound head / tail, '-' nothing mapped.</summary>
    public string LayoutText(LiveRegion r) => Rle(r.Pages.Select(p => p.Kind switch
    {
        LivePageKind.Untouched => '-',
        LivePageKind.Zero => 'p',
        _ => Frames[p.Frame].Large ? (p.Index == 0 ? 'h' : 't') : 'p',
    }));

    public static string Rle(IEnumerable<char> chars)
    {
        var sb = new StringBuilder();
        var last = '\0';
        var count = 0;
        foreach (var c in chars)
        {
            if (c == last)
            {
                count++;
                continue;
            }

            if (count > 0)
            {
                sb.Append(last).Append(count.ToString(CultureInfo.InvariantCulture));
            }

            last = c;
            count = 1;
        }

        if (count > 0)
        {
            sb.Append(last).Append(count.ToString(CultureInfo.InvariantCulture));
        }

        return sb.ToString();
    }
}
