using System.Globalization;

namespace GupConformance.Engine;

/// <summary>
/// Shard <see cref="Index"/> of <see cref="Count"/> (1-based, <c>--shard I/N</c>): it runs the positions p of the run's
/// sequence stream with p mod N = I - 1. Position p is the same sequence in every shard and in the whole run (see
/// <see cref="ConformanceRun"/>), so the shards' positions are a partition of the run's: together they run exactly the
/// sequences of the whole run, each once.
/// </summary>
public sealed record RunShard
{
    public RunShard(int index, int count)
    {
        if (count < 1 || index < 1 || index > count)
        {
            throw new ArgumentOutOfRangeException(nameof(index), $"a shard is I/N with 1 <= I <= N, not {index}/{count}");
        }

        Index = index;
        Count = count;
    }

    public int Index { get; }

    public int Count { get; }

    public bool Owns(int position) => position % Count == Index - 1;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Index}/{Count}");

    /// <summary>Parses "I/N"; null with the reason in <paramref name="error"/> when it is not one.</summary>
    public static RunShard? Parse(string text, out string? error)
    {
        error = null;
        var parts = text.Split('/');
        if (parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var i)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            && n >= 1 && i >= 1 && i <= n)
        {
            return new RunShard(i, n);
        }

        error = $"--shard must be I/N with 1 <= I <= N (e.g. 2/4), not '{text}'";
        return null;
    }
}

/// <summary>One failing sequence of a run: its position in the stream, its generator seed, and its failure (rule ids or a problem kind).</summary>
public sealed record FailingSequence(int Position, ulong? Seed, IReadOnlyList<string> Failure);

/// <summary>Where a counterexample comes from: the stream position of the sequence it was shrunk from (-1: a corpus trace) and the failure it stands for.</summary>
public sealed record CounterexampleOrigin(int Position, IReadOnlyList<string> Target);
