using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using GupConformance.Spec;

namespace GupConformance.Engine;

/// <summary>One declared expected divergence, as a trace stores it.</summary>
public sealed record TraceDivergence(string Rule, string Reason);

/// <summary>The capability manifest of the implementation a trace was recorded from.</summary>
public sealed record TraceManifest(string Implementation, string Profile, IReadOnlyList<string> Facets, IReadOnlyList<TraceDivergence> ExpectedDivergences);

/// <summary>What the implementation reported for one action of a trace (implicit inspections are not listed).</summary>
public sealed record TraceObservation(int Action, string Command, IReadOnlyDictionary<string, string>? Fields);

/// <summary>One field outside what the model allows, at the failing action.</summary>
public sealed record TraceMismatch(string Command, string Field, string? Observed, IReadOnlyList<string> Allowed, IReadOnlyList<string> Rules);

/// <summary>
/// A shrunk counterexample as a self-contained file (format <see cref="FormatId"/>, schema
/// <c>Spec/trace.schema.json</c>): the command records themselves (so it stays valid when the generator changes),
/// the profile, the manifest, what the implementation observed, the violated rules and the seeds. A trace is
/// replayed by executing its commands; the seeds only document where it came from.
/// </summary>
public sealed record TraceFile
{
    public const string FormatId = "gupconformance-trace/1";

    public string Format { get; init; } = FormatId;

    public required string SuiteVersion { get; init; }

    /// <summary>The implementation the failure was recorded from (the runner's --impl name).</summary>
    public required string Implementation { get; init; }

    public required string Profile { get; init; }

    public required TraceManifest Manifest { get; init; }

    public required ulong RunSeed { get; init; }

    /// <summary>The generator seed of the original (unshrunk) sequence, as 0x-hex, if known.</summary>
    public string? SequenceSeed { get; init; }

    /// <summary>The command line that replays the whole run by seed.</summary>
    public required string SeedReplayCommand { get; init; }

    /// <summary>divergence, crash, timeout, model-error or invalid.</summary>
    public required string Kind { get; init; }

    public required IReadOnlyList<Command> Commands { get; init; }

    public int? FailedAction { get; init; }

    public string? FailedCommand { get; init; }

    public IReadOnlyList<TraceObservation> Observations { get; init; } = [];

    public IReadOnlyList<TraceMismatch> Mismatches { get; init; } = [];

    public IReadOnlyList<string> ViolatedRules { get; init; } = [];

    public string? Message { get; init; }

    [JsonIgnore]
    public ulong? SequenceSeedValue => SequenceSeed is { } s && s.StartsWith("0x", StringComparison.Ordinal)
        && ulong.TryParse(s.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var v) ? v : null;

    /// <summary>The failure signature a replay must show again: the violated rules, or the failure kind.</summary>
    [JsonIgnore]
    public IReadOnlyList<string> Signature
    {
        get
        {
            var unexpected = ViolatedRules.Where(id => Manifest.ExpectedDivergences.All(d => !string.Equals(d.Rule, id, StringComparison.Ordinal))).ToList();
            return unexpected.Count > 0 ? unexpected : [Kind];
        }
    }

    public static string KindText(FailureKind k) => k switch
    {
        FailureKind.Divergence => "divergence",
        FailureKind.Crash => "crash",
        FailureKind.Timeout => "timeout",
        FailureKind.ModelError => "model-error",
        _ => "invalid",
    };

    public static TraceFile From(Counterexample c, CapabilityManifest manifest, RunOptions options) => new()
    {
        SuiteVersion = Spec.SuiteVersion.Value,
        Implementation = c.Implementation,
        Profile = c.ProfileId,
        Manifest = new TraceManifest(
            manifest.Implementation,
            manifest.ProfileId,
            FacetNames(manifest.Facets),
            [.. manifest.Divergences.Select(d => new TraceDivergence(d.RuleId, d.Reason))]),
        RunSeed = options.Seed,
        SequenceSeed = c.SequenceSeed is { } s ? "0x" + s.ToString("x16", CultureInfo.InvariantCulture) : null,
        SeedReplayCommand = c.ReplayCommand,
        Kind = KindText(c.Kind),
        Commands = [.. c.Commands],
        FailedAction = c.FailedAction,
        FailedCommand = c.FailedCommand,
        Observations = [.. c.Steps.Select(st => new TraceObservation(st.Action, st.Command, st.Observed))],
        Mismatches = [.. c.Mismatches.Select(m => new TraceMismatch(m.Command, m.Field, m.Observed, m.Allowed, m.Rules))],
        ViolatedRules = [.. c.ViolatedRules],
        Message = c.Message,
    };

    /// <summary>The facet names of a set, in declaration order (e.g. Core, LargeFolios).</summary>
    public static IReadOnlyList<string> FacetNames(Facet facets) =>
        [.. Enum.GetValues<Facet>().Where(f => f is not Facet.None and not Facet.All && (facets & f) == f).Select(f => f.ToString())];

    public static Facet ParseFacets(IEnumerable<string> names) =>
        names.Aggregate(Facet.None, (acc, n) => acc | Enum.Parse<Facet>(n, ignoreCase: false));

    public string ToJson() => TraceJson.Serialize(this);

    public static TraceFile FromJson(string json)
    {
        var t = JsonSerializer.Deserialize<TraceFile>(json, TraceJson.Options)
            ?? throw new JsonException("the trace is empty");
        if (!string.Equals(t.Format, FormatId, StringComparison.Ordinal))
        {
            throw new JsonException($"unknown trace format '{t.Format}' (expected {FormatId})");
        }

        return t;
    }
}

/// <summary>
/// The JSON form of commands and traces: camelCase names, enums as their names (so a renumbering never changes a
/// trace's meaning), commands tagged by "op" (<see cref="Command"/>), derived read-only properties left out, LF.
/// </summary>
public static class TraceJson
{
    public static JsonSerializerOptions Options { get; } = CreateOptions();

    public static string Serialize<T>(T value)
    {
        var json = JsonSerializer.Serialize(value, Options);
        return json.Replace("\r\n", "\n", StringComparison.Ordinal) + "\n";
    }

    /// <summary>One command as compact JSON, e.g. {"op":"gup","call":1,...}.</summary>
    public static string Command(Command command) =>
        JsonSerializer.Serialize(command, new JsonSerializerOptions(Options) { WriteIndented = false });

    private static JsonSerializerOptions CreateOptions()
    {
        var o = new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            WriteIndented = true,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            AllowOutOfOrderMetadataProperties = true,
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            TypeInfoResolver = new DefaultJsonTypeInfoResolver { Modifiers = { DropDerivedProperties } },
        };
        o.Converters.Add(new JsonStringEnumConverter());
        o.MakeReadOnly();
        return o;
    }

    /// <summary>Leaves out a command's computed properties (e.g. MapRegion.End): only constructor data is stored.</summary>
    private static void DropDerivedProperties(JsonTypeInfo info)
    {
        if (info.Kind != JsonTypeInfoKind.Object || !typeof(Command).IsAssignableFrom(info.Type))
        {
            return;
        }

        var ctorParams = info.Type.GetConstructors(BindingFlags.Public | BindingFlags.Instance)
            .SelectMany(c => c.GetParameters()).Select(p => p.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
        for (var i = info.Properties.Count - 1; i >= 0; i--)
        {
            var prop = info.Properties[i];
            if (prop.Set is null && prop.AttributeProvider is PropertyInfo pi && !ctorParams.Contains(pi.Name))
            {
                info.Properties.RemoveAt(i);
            }
        }
    }
}
