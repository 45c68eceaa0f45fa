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

    /// <summary>The largest trace file read: 64 MiB (a 20,000-command trace is about 4 MiB).</summary>
    public const long MaxFileBytes = 64L << 20;

    /// <summary>The most commands a trace may hold.</summary>
    public const int MaxCommands = 100_000;

    private static readonly HashSet<string> Kinds = new(StringComparer.Ordinal) { "divergence", "crash", "timeout", "model-error", "invalid" };

    /// <summary>
    /// Parses a trace and checks it against what <c>Spec/trace.schema.json</c> requires (every required field present
    /// and not null, at least one command, no null entries, known kind and facets, in-range indexes) and the sanity
    /// limits. Anything else is a <see cref="TraceFileException"/> naming what is wrong.
    /// </summary>
    public static TraceFile FromJson(string json)
    {
        TraceFile? t;
        try
        {
            t = JsonSerializer.Deserialize<TraceFile>(json, TraceJson.Options);
        }
        catch (JsonException e)
        {
            throw new TraceFileException($"not a valid trace: {e.Message}", e);
        }
        catch (NotSupportedException e)
        {
            throw new TraceFileException($"not a valid trace: {e.Message}", e);
        }

        if (t is null)
        {
            throw new TraceFileException("the trace is empty (JSON null)");
        }

        t.Validate();
        return t;
    }

    /// <summary>Reads a trace file: only a regular, non-empty file of at most <see cref="MaxFileBytes"/> is opened (a
    /// FIFO, a device or a symbolic-link loop is refused without reading it).</summary>
    public static TraceFile Load(string path)
    {
        var json = ReadBounded(path);
        try
        {
            return FromJson(json);
        }
        catch (TraceFileException e)
        {
            throw new TraceFileException($"{path}: {e.Message}", e);
        }
    }

    /// <summary>The text of a trace file (core or live), read with the checks of <see cref="Load"/>.</summary>
    public static string ReadBounded(string path)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            throw new TraceFileException("the trace path is empty");
        }

        FileInfo info;
        try
        {
            info = new FileInfo(path);
            if (info.LinkTarget is not null)
            {
                // Follows the whole chain; a loop or a dangling link ends here.
                var target = info.ResolveLinkTarget(returnFinalTarget: true) as FileInfo;
                if (target is null || !target.Exists)
                {
                    throw new TraceFileException($"{path} is a symbolic link to nothing that exists");
                }

                info = target;
            }
        }
        catch (IOException e)
        {
            throw new TraceFileException($"{path} cannot be resolved ({e.Message})", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new TraceFileException($"{path} cannot be read ({e.Message})", e);
        }

        if (Directory.Exists(info.FullName))
        {
            throw new TraceFileException($"{path} is a folder, not a trace file");
        }

        if (!info.Exists)
        {
            throw new TraceFileException($"{path} does not exist");
        }

        // FIFOs, sockets and devices report size 0: refusing empty files keeps them from ever being opened.
        if (info.Length == 0)
        {
            throw new TraceFileException($"{path} is empty or not a regular file");
        }

        if (info.Length > MaxFileBytes)
        {
            throw new TraceFileException($"{path} holds {info.Length.ToString(CultureInfo.InvariantCulture)} bytes, over the {MaxFileBytes.ToString(CultureInfo.InvariantCulture)}-byte limit for a trace");
        }

        string json;
        try
        {
            using var stream = new FileStream(info.FullName, FileMode.Open, FileAccess.Read, FileShare.Read);
            using var bytes = new MemoryStream((int)info.Length);
            var buffer = new byte[64 * 1024];
            int n;
            while ((n = stream.Read(buffer, 0, buffer.Length)) > 0)
            {
                bytes.Write(buffer, 0, n);
                if (bytes.Length > MaxFileBytes)
                {
                    throw new TraceFileException($"{path} grew past the {MaxFileBytes.ToString(CultureInfo.InvariantCulture)}-byte limit for a trace while it was read");
                }
            }

            json = System.Text.Encoding.UTF8.GetString(bytes.GetBuffer(), 0, (int)bytes.Length);
        }
        catch (IOException e)
        {
            throw new TraceFileException($"{path} cannot be read ({e.Message})", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new TraceFileException($"{path} cannot be read ({e.Message})", e);
        }

        return json;
    }

    private void Validate()
    {
        static void Need(bool ok, string what)
        {
            if (!ok)
            {
                throw new TraceFileException(what);
            }
        }

        Need(string.Equals(Format, FormatId, StringComparison.Ordinal), $"unknown trace format '{Format}' (expected {FormatId})");
        Need(SuiteVersion is not null, "'suiteVersion' is missing or null");
        Need(!string.IsNullOrEmpty(Implementation), "'implementation' is missing, null or empty");
        Need(!string.IsNullOrEmpty(Profile), "'profile' is missing, null or empty");
        Need(SeedReplayCommand is not null, "'seedReplayCommand' is missing or null");
        Need(Kind is not null && Kinds.Contains(Kind), $"'kind' must be one of {string.Join(", ", Kinds.Order(StringComparer.Ordinal))}");
        Need(Manifest is not null, "'manifest' is missing or null");
        Need(Manifest!.Implementation is not null && Manifest.Profile is not null, "'manifest' lacks 'implementation' or 'profile'");
        Need(Manifest.Facets is not null && Manifest.Facets.All(f => f is not null && Enum.TryParse<Facet>(f, ignoreCase: false, out var v) && v is not Facet.None and not Facet.All),
            "'manifest.facets' is missing, or names an unknown facet");
        Need(Manifest.ExpectedDivergences is not null && Manifest.ExpectedDivergences.All(d => d is not null && d.Rule is not null && d.Reason is not null),
            "'manifest.expectedDivergences' is null or holds an entry without 'rule' and 'reason'");
        Need(Commands is not null, "'commands' is missing or null");
        Need(Commands!.Count > 0, "'commands' is empty: a trace holds at least one command");
        Need(Commands.Count <= MaxCommands, $"'commands' holds {Commands.Count.ToString(CultureInfo.InvariantCulture)} commands, over the limit of {MaxCommands.ToString(CultureInfo.InvariantCulture)}");
        Need(Commands.All(c => c is not null), "'commands' holds a null entry");
        Need(FailedAction is null || (FailedAction >= 0 && FailedAction < Commands.Count), "'failedAction' is outside the commands");
        Need(Observations is not null && Observations.All(o => o is not null), "'observations' is null or holds a null entry");
        Need(Mismatches is not null && Mismatches.All(m => m is not null && m.Allowed is not null && m.Rules is not null), "'mismatches' is null or holds an incomplete entry");
        Need(ViolatedRules is not null && ViolatedRules.All(r => r is not null), "'violatedRules' is null or holds a null entry");
    }
}

/// <summary>A trace file that cannot be used: unreadable, too large, not JSON, or not what the trace schema requires.</summary>
public sealed class TraceFileException : Exception
{
    public TraceFileException(string message, Exception? inner = null)
        : base(message, inner)
    {
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
