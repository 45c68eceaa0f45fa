using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using GupConformance.Spec;
using GupConformance.Spec.Live;

namespace GupConformance.Engine.Live;

/// <summary>One step of a live trace: the command, the model's change, what the kernel showed, what disagreed.</summary>
public sealed record LiveTraceStep(int Index, string Command, string Change, IReadOnlyDictionary<string, string> Observed, IReadOnlyList<TraceMismatch> Mismatches);

/// <summary>
/// A shrunk live counterexample as a file (format <see cref="FormatId"/>, files named <c>*.live-trace.json</c> in the
/// same corpus folder as core traces): the live commands themselves, the live profile, the kernel and the machine facts
/// it was found on, what the kernel showed at each step, and the violated rules. <c>--replay</c> runs its commands on
/// the running kernel again and says whether the disagreement is still there.
/// </summary>
public sealed record LiveTraceFile
{
    public const string FormatId = "gupconformance-live-trace/1";

    public const string Extension = ".live-trace.json";

    public string Format { get; init; } = FormatId;

    public required string SuiteVersion { get; init; }

    public required string Kernel { get; init; }

    public required string LiveProfile { get; init; }

    /// <summary>The machine facts of the run (zero page on read faults, THP, mTHP, hugetlb pool, probes).</summary>
    public required LiveEnvironment Environment { get; init; }

    public required ulong RunSeed { get; init; }

    public required string SeedReplayCommand { get; init; }

    public required IReadOnlyList<Command> Commands { get; init; }

    public IReadOnlyList<LiveTraceStep> Steps { get; init; } = [];

    public IReadOnlyList<string> ViolatedRules { get; init; } = [];

    public bool Reproduced { get; init; } = true;

    public static LiveTraceFile From(LiveCounterexample c, LiveRunResult run, string seedReplayCommand) => new()
    {
        SuiteVersion = Spec.SuiteVersion.Value,
        Kernel = run.Environment.KernelRelease,
        LiveProfile = run.ProfileId,
        Environment = run.Environment,
        RunSeed = run.Options.Seed,
        SeedReplayCommand = seedReplayCommand,
        Commands = [.. c.Shrunk],
        Steps = [.. c.Steps.Select(s => new LiveTraceStep(s.Index, s.Command, s.Change, s.Observed,
            [.. s.Mismatches.Select(m => new TraceMismatch(m.Command, m.Field, m.Observed, m.Allowed, m.Rules))]))],
        ViolatedRules = c.ViolatedRules,
        Reproduced = c.Reproduced,
    };

    public string ToJson() => TraceJson.Serialize(this);

    /// <summary>True when the file's "format" names a live trace (so one --replay option serves both kinds).</summary>
    public static bool IsLiveTrace(string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("format", out var f)
                && f.ValueKind == JsonValueKind.String && f.GetString() == FormatId;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>Parses and checks a live trace: the required fields present, at least one live command, nothing null.</summary>
    public static LiveTraceFile FromJson(string json)
    {
        LiveTraceFile? t;
        try
        {
            t = JsonSerializer.Deserialize<LiveTraceFile>(json, TraceJson.Options);
        }
        catch (Exception e) when (e is JsonException or NotSupportedException)
        {
            throw new TraceFileException($"not a valid live trace: {e.Message}", e);
        }

        if (t is null || t.Format != FormatId)
        {
            throw new TraceFileException($"not a live trace (format must be {FormatId})");
        }

        if (t.Commands is null || t.Commands.Count == 0 || t.Commands.Any(c => c is not LiveCommand))
        {
            throw new TraceFileException("'commands' must hold at least one live command and nothing else");
        }

        if (t.Environment is null || t.LiveProfile is null || t.Kernel is null || t.ViolatedRules is null || t.Steps is null || t.SeedReplayCommand is null)
        {
            throw new TraceFileException("a required field of the live trace is missing or null (environment, liveProfile, kernel, steps, violatedRules, seedReplayCommand)");
        }

        return t;
    }

    /// <summary>e.g. <c>linux-6.18--6.12.118--LIVE-DIO-PIN--3f2a9c1d.live-trace.json</c>.</summary>
    public string FileName()
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(LiveProfile + "\n" + string.Join("\n", Commands.Select(TraceJson.Command))));
        var what = ViolatedRules.Count > 0 ? ViolatedRules[0] : "failure";
        var name = $"{RegressionCorpus.Short(LiveProfile)}--{RegressionCorpus.Short(Kernel)}--{what}--{Convert.ToHexString(hash, 0, 4).ToLowerInvariant()}";
        return new string([.. name.Select(ch => char.IsAsciiLetterOrDigit(ch) || ch is '-' or '.' or '_' ? ch : '_')]) + Extension;
    }

    /// <summary>Writes the trace into the corpus folder (created if needed); returns its path.</summary>
    public string Write(string directory)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, FileName());
        File.WriteAllText(path, ToJson());
        return path.Replace('\\', '/');
    }

    public IReadOnlyList<LiveCommand> LiveCommands => [.. Commands.Cast<LiveCommand>()];

    public static string ReplayCommand(string path) => "gupconformance --replay " + RegressionCorpus.Quote(path.Replace('\\', '/'));

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"live trace of {LiveProfile} on {Kernel}: {Commands.Count} commands, {string.Join(", ", ViolatedRules)}");
}
