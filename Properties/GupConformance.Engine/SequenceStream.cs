using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using FsCheck;
using FsCheck.Fluent;
using GupConformance.Oracles;
using GupConformance.Spec;

namespace GupConformance.Engine;

/// <summary>
/// A conformance run's sequences, generated ahead of their execution on a thread of their own: while sequence i runs
/// against the implementation and the model's checks, sequence i + 1 is generated on the other core.
/// <para>
/// Nothing about the sequences changes. The producer runs FsCheck with the run's own configuration (its replay seed
/// and number of tests), so it draws the very seeds the run's FsCheck draws, in the same order; and it generates
/// sequence i after sequence i − 1 with the same generator, so coverage steering sees what it saw when generation and
/// execution took turns. The consumer takes the sequences in order and checks each one's position and seed against
/// what its own FsCheck drew: a difference is an engine error that stops the run, never a quietly different stream.
/// </para>
/// <para>
/// At most <see cref="Ahead"/> sequences wait, generated and not taken; the producer blocks until one is taken, and
/// ends when the run disposes the stream.
/// </para>
/// </summary>
internal sealed class SequenceStream : IDisposable
{
    /// <summary>
    /// How many generated sequences may wait to be taken (the producer may have made one more, waiting to hand it over).
    /// One: every sequence waiting keeps its 40 model states and outcomes alive across collections, and with one
    /// instead of two the checked run was faster in 6 of 7 alternated pairs (best of 30, server GC: median 5 ms of
    /// about 95, GC pause 13-20 ms against 15-37).
    /// </summary>
    public const int Ahead = 1;

    private readonly SequenceGenerator _generator;
    private readonly Config _config;
    private readonly int _length;
    private readonly BlockingCollection<Generated> _ready = new(Ahead);
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;
    private int _produced;

    /// <summary>One generated sequence: what <see cref="SequenceGenerator.Generate(ulong, int, out StepOutcome[], out IReadOnlyCollection{string})"/> returned for the seed at this position, or what it threw.</summary>
    public sealed record Generated(int Position, ulong Seed, Command[] Commands, StepOutcome[] Stepped, IReadOnlyCollection<string> Labels, ExceptionDispatchInfo? Error);

    /// <param name="generator">Used by the producer thread alone from now on.</param>
    /// <param name="config">The run's FsCheck configuration (replay seed, number of tests): the producer draws its seeds with it.</param>
    /// <param name="length">Actions per sequence.</param>
    public SequenceStream(SequenceGenerator generator, Config config, int length)
    {
        _generator = generator;
        _config = config;
        _length = length;
        _thread = new Thread(Produce) { IsBackground = true, Name = "gupconformance-generate" };
        _thread.Start();
    }

    /// <summary>
    /// The sequence at <paramref name="position"/>, which FsCheck drew <paramref name="seed"/> for; positions are taken
    /// in order, each once. Rethrows what generation threw.
    /// </summary>
    public Generated Take(int position, ulong seed)
    {
        Generated item;
        try
        {
            item = _ready.Take();
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidOperationException($"engine error: the generation thread ended before sequence {position} (it makes one per FsCheck test of the run)", e);
        }

        if (item.Position != position || item.Seed != seed)
        {
            throw new InvalidOperationException(
                $"engine error: the generation thread made sequence {item.Position} from seed {item.Seed} where the run asked for sequence {position} from seed {seed}; the two FsCheck seed streams differ");
        }

        item.Error?.Throw();
        return item;
    }

    public void Dispose()
    {
        _stop.Cancel();

        // The producer is either blocked handing over a sequence (the cancellation frees it) or generating one (a few
        // milliseconds); it never waits for anything else.
        _thread.Join();
        _stop.Dispose();
        _ready.Dispose();
    }

    private void Produce()
    {
        try
        {
            Check.One(_config, Prop.ForAll(Arb.From(GupArb.SeedGen), (Func<ulong, bool>)Make));
        }
        finally
        {
            _ready.CompleteAdding();
        }
    }

    /// <summary>FsCheck's property on the producer thread: make the sequence of this seed and hand it over.</summary>
    private bool Make(ulong seed)
    {
        if (_stop.IsCancellationRequested)
        {
            // Ends FsCheck's run (a falsified test it cannot shrink: the seed arbitrary has no shrinker).
            return false;
        }

        Generated item;
        try
        {
            var commands = _generator.Generate(seed, _length, out var stepped, out var labels);
            item = new Generated(_produced, seed, commands, stepped, labels, null);
        }
        catch (Exception e)
        {
            item = new Generated(_produced, seed, [], [], [], ExceptionDispatchInfo.Capture(e));
        }

        try
        {
            _ready.Add(item, _stop.Token);
        }
        catch (OperationCanceledException)
        {
            return false;
        }

        _produced++;
        return item.Error is null;
    }
}
