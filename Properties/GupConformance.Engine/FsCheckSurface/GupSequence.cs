using System.Globalization;
using System.Text;
using GupConformance.Oracles;
using GupConformance.Spec;

namespace GupConformance.Engine;

/// <summary>
/// One generated command sequence, as <see cref="GupArb.Sequences(Profile, Facet, GupArbOptions?)"/> hands it to an
/// FsCheck property: the commands (valid by construction under the profile), the generator seed the original sequence
/// came from and its length before shrinking. A shrunk sequence keeps both, so a report can say where it came from.
/// <see cref="ToString"/> is what FsCheck prints for it (Verbose, Original, Shrunk): one numbered command per line.
/// </summary>
public sealed class GupSequence
{
    private IReadOnlyList<StepOutcome>? _stepped;

    internal GupSequence(Profile profile, IReadOnlyList<Command> commands, ulong seed, int originalLength, IReadOnlyList<StepOutcome>? stepped = null)
    {
        Profile = profile;
        Commands = commands;
        Seed = seed;
        OriginalLength = originalLength;
        _stepped = stepped;
    }

    public Profile Profile { get; }

    public IReadOnlyList<Command> Commands { get; }

    /// <summary>The generator seed of the original sequence (<see cref="SequenceGenerator.Generate(ulong, int)"/>).</summary>
    public ulong Seed { get; }

    /// <summary>How many commands the original sequence had (before FsCheck shrank it).</summary>
    public int OriginalLength { get; }

    public int Count => Commands.Count;

    /// <summary>Where the last check of this sequence failed: the shrinker tries the prefix up to it first.</summary>
    internal int? FailedAction { get; set; }

    /// <summary>The model's outcomes the generator computed, handed out once (the first execution reuses them).</summary>
    internal IReadOnlyList<StepOutcome>? TakeStepped() => Interlocked.Exchange(ref _stepped, null);

    public override string ToString()
    {
        var sb = new StringBuilder();
        var n = Commands.Count.ToString(CultureInfo.InvariantCulture);
        var of = Commands.Count == OriginalLength ? string.Empty : $" (shrunk from {OriginalLength.ToString(CultureInfo.InvariantCulture)})";
        sb.Append(CultureInfo.InvariantCulture, $"GupSequence {Profile.Id}, seed 0x{Seed.ToString("x16", CultureInfo.InvariantCulture)}, {n} actions{of}:");
        for (var i = 0; i < Commands.Count; i++)
        {
            sb.Append('\n').Append(CultureInfo.InvariantCulture, $"  [{i}] {CommandText.Render(Commands[i], Profile)}");
        }

        return sb.ToString();
    }
}
