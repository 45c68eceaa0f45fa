using FsCheck;
using FsCheck.Fluent;
using GupConformance.Spec;

namespace GupConformance.Engine;

/// <summary>Options of <see cref="GupArb.Sequences(Profile, Facet, GupArbOptions?)"/>.</summary>
public sealed record GupArbOptions
{
    /// <summary>The longest sequence: a test of FsCheck size s gets min(s, MaxLength) actions (at least one).</summary>
    public int MaxLength { get; init; } = RunOptions.DefaultLength;

    /// <summary>The generator's move and template weights (<see cref="GeneratorWeights.Default"/> when null).</summary>
    public GeneratorWeights? Weights { get; init; }
}

/// <summary>
/// FsCheck arbitraries of GUP command sequences, for properties of your own:
/// <c>Prop.ForAll(GupArb.Sequences(profile, facets), seq =&gt; ...)</c>.
/// <para>
/// The generator is the suite's state-aware <see cref="SequenceGenerator"/> (every command is one the model accepts in
/// the state the earlier ones left; swarm testing on), the shrinker the suite's <see cref="Shrinker"/> (chunk removal,
/// smaller arguments, refcount folds; every candidate valid). FsCheck draws a 64-bit generator seed per test and its
/// size bounds the length, as it bounds a list's: with <c>EndSize = 10</c> no sequence is longer than 10 actions.
/// A sequence is a function of FsCheck's seed and size alone, so both FsCheck replays work: a whole run from
/// <c>Replay = "(seed,gamma)"</c> and a single step from <c>"(seed,gamma,size)"</c>. That is why the run's coverage
/// steering (which makes a sequence depend on the sequences before it) is not used here.
/// </para>
/// </summary>
public static class GupArb
{
    /// <summary>Sequences under <paramref name="profile"/> using the commands of <paramref name="facets"/> (restricted to the profile's).</summary>
    public static Arbitrary<GupSequence> Sequences(Profile profile, Facet facets, GupArbOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(profile);
        options ??= new GupArbOptions();
        if (options.MaxLength <= 0)
        {
            throw new ArgumentException("MaxLength must be positive", nameof(options));
        }

        var generator = new SequenceGenerator(profile, facets, options.Weights);
        var shrinker = new Shrinker(profile, facets);
        var max = options.MaxLength;
        var gen = Gen.Sized(size => SeedGen.Select(seed =>
        {
            var commands = generator.Generate(seed, Math.Clamp(size, 1, max), out var stepped);
            return new GupSequence(profile, commands, seed, commands.Length, stepped);
        }));
        return Arb.From(gen, seq => Shrink(shrinker, seq));
    }

    /// <summary>
    /// One 64-bit generator seed from FsCheck's random stream, size-independent (four 16-bit draws). The conformance
    /// run draws its sequence seeds the same way, so a seed names the same sequence in both.
    /// </summary>
    internal static Gen<ulong> SeedGen { get; } =
        from a in Gen.Choose(0, 0xFFFF)
        from b in Gen.Choose(0, 0xFFFF)
        from c in Gen.Choose(0, 0xFFFF)
        from d in Gen.Choose(0, 0xFFFF)
        select ((ulong)(uint)a << 48) | ((ulong)(uint)b << 32) | ((ulong)(uint)c << 16) | (uint)d;

    private static IEnumerable<GupSequence> Shrink(Shrinker shrinker, GupSequence seq)
    {
        // FsCheck asks for the shrinks of a value after the property has judged it, so the failing action is known.
        foreach (var candidate in shrinker.Candidates([.. seq.Commands], seq.FailedAction))
        {
            yield return new GupSequence(seq.Profile, candidate, seq.Seed, seq.OriginalLength);
        }
    }
}
