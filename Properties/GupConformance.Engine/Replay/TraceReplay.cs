using GupConformance.Spec;

namespace GupConformance.Engine;

/// <summary>How a replayed trace ended, compared with the failure it recorded.</summary>
public enum ReplayVerdict
{
    /// <summary>It fails again with the same violated rules (or the same kind of crash / time-out).</summary>
    SameFailure,

    /// <summary>It fails, but differently.</summary>
    DifferentFailure,

    /// <summary>It passes now.</summary>
    Passed,

    /// <summary>The model refuses its commands under this profile and implementation's facets.</summary>
    Invalid,
}

/// <summary>The outcome of replaying one trace.</summary>
public sealed record ReplayResult(
    TraceFile Trace,
    string? TracePath,
    Profile Profile,
    string Implementation,
    ReplayVerdict Verdict,
    SequenceResult? Sequence,
    Counterexample? Counterexample,
    string? Message)
{
    public bool Failed => Verdict is ReplayVerdict.SameFailure or ReplayVerdict.DifferentFailure;

    public string Describe() => Verdict switch
    {
        ReplayVerdict.SameFailure => $"the recorded failure reproduces ({string.Join(", ", Trace.Signature)})",
        ReplayVerdict.DifferentFailure => $"it fails differently: recorded {string.Join(", ", Trace.Signature)}, now {string.Join(", ", Counterexample is { } c ? c.ViolatedRules.Count > 0 ? c.ViolatedRules : [TraceFile.KindText(c.Kind)] : [])}",
        ReplayVerdict.Passed => $"it passes now (recorded: {string.Join(", ", Trace.Signature)})",
        _ => $"the model refuses it: {Message}",
    };
}

/// <summary>Replays a <see cref="TraceFile"/> against an implementation: the stored commands, no generator involved.</summary>
public static class TraceReplay
{
    public static ReplayResult Replay(IImplementationFactory factory, TraceFile trace, string? tracePath, RunOptions options)
    {
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentNullException.ThrowIfNull(trace);
        ArgumentNullException.ThrowIfNull(options);
        var profile = Profiles.Find(trace.Profile)
            ?? throw new ArgumentException($"the trace names profile '{trace.Profile}', which does not exist", nameof(trace));
        var manifest = factory.ManifestFor(profile)
            ?? throw new ArgumentException($"implementation '{factory.Name}' does not claim profile '{profile.Id}'", nameof(factory));
        var implId = options.ImplementationId ?? factory.Name;
        var facets = manifest.Facets & profile.Facets;
        if (Shrinker.Validate(profile, facets, trace.Commands) is { } why)
        {
            return new ReplayResult(trace, tracePath, profile, implId, ReplayVerdict.Invalid, null, null, why);
        }

        using var executor = new SequenceExecutor(factory, profile, facets, options.CommandTimeout);
        var r = executor.Execute(trace.Commands, trace: true);
        if (r.Passed)
        {
            return new ReplayResult(trace, tracePath, profile, implId, ReplayVerdict.Passed, r, null, null);
        }

        var declared = manifest.Divergences.Select(d => d.RuleId).ToHashSet(StringComparer.Ordinal);
        var unexpected = r.ViolatedRules.Where(id => !declared.Contains(id)).ToList();
        if (r.Status == SequenceStatus.Diverged && unexpected.Count == 0)
        {
            // Only declared expected divergences: conformant for this implementation.
            return new ReplayResult(trace, tracePath, profile, implId, ReplayVerdict.Passed, r, null, null);
        }

        var c = Counterexample.Of(r, trace.Commands, declared, 1, implId, profile.Id, trace.RunSeed, trace.SeedReplayCommand, trace.Commands.Count, 0) with
        {
            SequenceSeed = trace.SequenceSeedValue,
            FromTrace = tracePath,
        };
        var kind = c.Kind;
        var now = kind == FailureKind.Divergence ? (IReadOnlyList<string>)unexpected : [TraceFile.KindText(kind)];
        var same = now.Order(StringComparer.Ordinal).SequenceEqual(trace.Signature.Order(StringComparer.Ordinal), StringComparer.Ordinal);
        return new ReplayResult(trace, tracePath, profile, implId, same ? ReplayVerdict.SameFailure : ReplayVerdict.DifferentFailure, r, c, null);
    }

    /// <summary>Reads and replays a trace file.</summary>
    public static ReplayResult ReplayFile(IImplementationFactory factory, string path, RunOptions options) =>
        Replay(factory, TraceFile.Load(path), path.Replace('\\', '/'), options);
}
