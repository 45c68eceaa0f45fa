using System.Runtime.ExceptionServices;
using FsCheck;
using FsCheck.Fluent;
using GupConformance.Oracles;
using GupConformance.Spec;

namespace GupConformance.Engine;

/// <summary>
/// A conformance run's sequences, each generated while the one before it is checked: the run's thread generates sequence
/// i + 1 (<see cref="Prefetch"/>) while the guarded worker checks sequence i, so on two cores generation and checking
/// overlap with two busy threads. (Until 2026-12-07 a third thread generated ahead and handed each sequence over: three
/// threads sharing two cores, one more hand-over per sequence. Run alternately against it with settled code, eight
/// times each, this takes the same wall time, mean 90.9 against 91.7 ms, and 6 % less CPU, mean 143.5 against 151.9 ms.)
/// <para>
/// Nothing about the sequences changes. The seeds are the ones FsCheck draws with the run's own configuration (its replay
/// seed and number of tests), drawn once up front in the same order; and sequence i is generated after sequence i − 1
/// with the same generator, so coverage steering sees what it saw when generation and execution took turns. The run
/// takes the sequences in order and each one's position and seed are checked against what its own FsCheck drew: a
/// difference is an engine error that stops the run, never a quietly different stream.
/// </para>
/// </summary>
internal sealed class SequenceStream
{
    private readonly SequenceGenerator _generator;
    private readonly int _length;
    private readonly List<ulong> _seeds = [];
    private Generated? _next;
    private int _produced;

    /// <summary>One generated sequence: what <see cref="SequenceGenerator.Generate(ulong, int, out StepOutcome[], out IReadOnlyCollection{string})"/> returned for the seed at this position, or what it threw.</summary>
    public sealed record Generated(int Position, ulong Seed, Command[] Commands, StepOutcome[] Stepped, IReadOnlyCollection<string> Labels, ExceptionDispatchInfo? Error);

    /// <param name="generator">Used by this stream alone from now on.</param>
    /// <param name="config">The run's FsCheck configuration (replay seed, number of tests): the seeds are drawn with it.</param>
    /// <param name="length">Actions per sequence.</param>
    public SequenceStream(SequenceGenerator generator, Config config, int length)
    {
        _generator = generator;
        _length = length;
        Check.One(config, Prop.ForAll(Arb.From(GupArb.SeedGen), (Func<ulong, bool>)(seed =>
        {
            _seeds.Add(seed);
            return true;
        })));
    }

    /// <summary>
    /// The sequence at <paramref name="position"/>, which FsCheck drew <paramref name="seed"/> for; positions are taken
    /// in order, each once. Rethrows what generation threw.
    /// </summary>
    public Generated Take(int position, ulong seed)
    {
        Prefetch();
        var item = _next
            ?? throw new InvalidOperationException($"engine error: the stream has no sequence {position}: FsCheck drew {_seeds.Count} seeds for the run");
        _next = null;

        if (item.Position != position || item.Seed != seed)
        {
            throw new InvalidOperationException(
                $"engine error: the stream made sequence {item.Position} from seed {item.Seed} where the run asked for sequence {position} from seed {seed}; the two FsCheck seed streams differ");
        }

        item.Error?.Throw();
        return item;
    }

    /// <summary>
    /// Generates the next sequence now, unless it is already waiting or the seeds are spent. Never throws: what generation
    /// threw is kept for <see cref="Take"/>, so that the run sees it at that sequence's position (this runs while the
    /// worker checks the sequence before it).
    /// </summary>
    public void Prefetch()
    {
        if (_next is not null || _produced >= _seeds.Count)
        {
            return;
        }

        var seed = _seeds[_produced];
        try
        {
            var commands = _generator.Generate(seed, _length, out var stepped, out var labels);
            _next = new Generated(_produced, seed, commands, stepped, labels, null);
        }
        catch (Exception e)
        {
            _next = new Generated(_produced, seed, [], [], [], ExceptionDispatchInfo.Capture(e));
        }

        _produced++;
    }
}
