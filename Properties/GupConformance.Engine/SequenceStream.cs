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
    private readonly HandOff _ready = new();
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
        var item = _ready.Take()
            ?? throw new InvalidOperationException($"engine error: the generation thread ended before sequence {position} (it makes one per FsCheck test of the run)");

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
        _ready.Cancel();

        // The producer is either blocked handing over a sequence (the cancellation frees it) or generating one (a few
        // milliseconds); it never waits for anything else.
        _thread.Join();
    }

    private void Produce()
    {
        try
        {
            Check.One(_config, Prop.ForAll(Arb.From(GupArb.SeedGen), (Func<ulong, bool>)Make));
        }
        finally
        {
            _ready.Complete();
        }
    }

    /// <summary>FsCheck's property on the producer thread: make the sequence of this seed and hand it over.</summary>
    private bool Make(ulong seed)
    {
        if (_ready.Cancelled)
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

        if (!_ready.Add(item))
        {
            return false;
        }

        _produced++;
        return item.Error is null;
    }

    /// <summary>
    /// The generated sequences waiting to be taken (at most <see cref="Ahead"/>). Both sides block on a monitor, which
    /// sleeps at once: the concurrent collections spin before they sleep, and on two cores shared by the generation
    /// thread, the checking thread and the garbage collector, a spinning wait takes the core from the work it waits for
    /// (the producer's hand-over was 6% of the two threads' samples).
    /// </summary>
    private sealed class HandOff
    {
        private readonly Queue<Generated> _items = new();
        private bool _completed;
        private volatile bool _cancelled;

        /// <summary>Whether the run has stopped taking sequences.</summary>
        public bool Cancelled => _cancelled;

        /// <summary>Waits for room and adds <paramref name="item"/>; false when the run stopped taking sequences.</summary>
        public bool Add(Generated item)
        {
            lock (_items)
            {
                while (_items.Count >= Ahead && !_cancelled)
                {
                    Monitor.Wait(_items);
                }

                if (_cancelled)
                {
                    return false;
                }

                _items.Enqueue(item);
                Monitor.PulseAll(_items);
                return true;
            }
        }

        /// <summary>Waits for the next sequence; null when the producer has ended and none is left.</summary>
        public Generated? Take()
        {
            lock (_items)
            {
                while (_items.Count == 0 && !_completed)
                {
                    Monitor.Wait(_items);
                }

                if (_items.Count == 0)
                {
                    return null;
                }

                var item = _items.Dequeue();
                Monitor.PulseAll(_items);
                return item;
            }
        }

        /// <summary>The producer has ended: a Take that finds nothing returns null instead of waiting.</summary>
        public void Complete()
        {
            lock (_items)
            {
                _completed = true;
                Monitor.PulseAll(_items);
            }
        }

        /// <summary>The run takes no more sequences: a waiting Add returns false.</summary>
        public void Cancel()
        {
            lock (_items)
            {
                _cancelled = true;
                Monitor.PulseAll(_items);
            }
        }
    }
}
