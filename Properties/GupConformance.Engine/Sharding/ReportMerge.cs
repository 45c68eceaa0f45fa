using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using GupConformance.Spec;

namespace GupConformance.Engine;

/// <summary>A set of shard reports that cannot be merged; the message is one line naming why.</summary>
public sealed class ReportMergeException(string message) : Exception(message);

/// <summary>The merged report: its JSON (the format of <see cref="JsonReport"/>), the verdict and a text summary.</summary>
public sealed record MergedReport(string Json, bool Conformant, string Summary);

/// <summary>
/// Merges the JSON reports of the shards of one run (<c>--shard I/N</c>, I = 1..N) into the report of the whole run.
/// Counts add up (every sequence ran in exactly one shard), rule outcomes and notes are judged again from the sums by
/// <see cref="ConformanceRun.Verdicts"/>, problems are counted again, the failing sequences are put back in stream order,
/// and the counterexamples are chosen as the whole run chooses them: in stream order, one per failure not yet captured,
/// up to the run's limit (a shard captures every failure new to it, so none the whole run would keep is missing; the
/// shrunk commands may differ, since a shard shrinks toward what is new to that shard). For a conformant
/// implementation the merge is byte for byte the whole run's report (timings off). Refused: reports of different suite
/// versions, implementations, profiles, seeds or budgets, a report that is not a shard, and a set of shards that is not
/// exactly 1..N.
/// </summary>
public static class ReportMerge
{
    public static MergedReport Merge(IReadOnlyList<(string Name, string Json)> reports)
    {
        ArgumentNullException.ThrowIfNull(reports);
        if (reports.Count == 0)
        {
            throw new ReportMergeException("merge needs the JSON reports of the shards (REPORT.json...)");
        }

        var docs = new List<(string Name, JsonObject Root, JsonArray Runs, int Index, int Count)>();
        foreach (var (name, json) in reports)
        {
            JsonObject root;
            try
            {
                root = JsonNode.Parse(json) as JsonObject ?? throw new ReportMergeException($"{name}: not a JSON report (no top-level object)");
            }
            catch (JsonException e)
            {
                throw new ReportMergeException($"{name}: not valid JSON ({e.Message.Split('\n')[0]})");
            }

            if (Str(root, "format") != JsonReport.FormatId)
            {
                throw new ReportMergeException($"{name}: not a gupconformance report (format '{Str(root, "format")}', expected '{JsonReport.FormatId}')");
            }

            var runs = root["runs"] as JsonArray;
            if (runs is null || runs.Count == 0)
            {
                throw new ReportMergeException($"{name}: the report has no runs");
            }

            var shards = runs.Select(r => r?["shard"] as JsonObject).ToList();
            if (shards.Any(s => s is null))
            {
                throw new ReportMergeException($"{name}: not a shard report (run it with --shard I/N)");
            }

            var index = (int)shards[0]!["index"]!;
            var count = (int)shards[0]!["count"]!;
            docs.Add((name, root, runs, index, count));
        }

        var first = docs[0];
        foreach (var d in docs.Skip(1))
        {
            Same(first.Name, d.Name, "suite versions", Str(first.Root, "suiteVersion"), Str(d.Root, "suiteVersion"));
            Same(first.Name, d.Name, "shard counts", N(first.Count), N(d.Count));
            Same(first.Name, d.Name, "profiles", string.Join(",", Profiles(first.Runs)), string.Join(",", Profiles(d.Runs)));
            for (var k = 0; k < first.Runs.Count; k++)
            {
                var (a, b) = ((JsonObject)first.Runs[k]!, (JsonObject)d.Runs[k]!);
                Same(first.Name, d.Name, "implementations", Str(a, "implementation"), Str(b, "implementation"));
                Same(first.Name, d.Name, "seeds", Str(a["options"]!, "seed"), Str(b["options"]!, "seed"));
                Same(first.Name, d.Name, "run options", a["options"]!.ToJsonString(), b["options"]!.ToJsonString());
                Same(first.Name, d.Name, "manifests", a["manifest"]!.ToJsonString(), b["manifest"]!.ToJsonString());
            }
        }

        var byIndex = docs.OrderBy(d => d.Index).ToList();
        foreach (var twice in byIndex.GroupBy(d => d.Index).Where(g => g.Count() > 1))
        {
            throw new ReportMergeException($"{twice.Last().Name}: shard {N(twice.Key)}/{N(first.Count)} is given twice");
        }

        var missing = Enumerable.Range(1, first.Count).Where(i => byIndex.All(d => d.Index != i)).ToList();
        if (missing.Count > 0)
        {
            var given = string.Join(", ", byIndex.Select(d => N(d.Index)));
            throw new ReportMergeException(missing.Count == 1
                ? $"shard {N(missing[0])}/{N(first.Count)} is missing (given: {given})"
                : $"shards {string.Join(", ", missing.Select(i => N(i)))} of {N(first.Count)} are missing (given: {given})");
        }

        var mergedRuns = new JsonArray();
        var conformant = true;
        var summary = new StringBuilder();
        for (var k = 0; k < first.Runs.Count; k++)
        {
            var (run, ok) = MergeRun([.. byIndex.Select(d => (d.Name, (JsonObject)d.Runs[k]!))], summary);
            mergedRuns.Add(run);
            conformant &= ok;
        }

        var top = new JsonObject
        {
            ["$schema"] = Str(first.Root, "$schema"),
            ["format"] = JsonReport.FormatId,
            ["suiteVersion"] = Str(first.Root, "suiteVersion"),
            ["conformant"] = conformant,
            ["runs"] = mergedRuns,
        };
        summary.Append(CultureInfo.InvariantCulture, $"Merged {N(docs.Count)} shards: {(conformant ? "CONFORMANT" : "NOT CONFORMANT")}\n");
        return new MergedReport(Write(top), conformant, summary.ToString());
    }

    private static (JsonObject Run, bool Conformant) MergeRun(List<(string Name, JsonObject Run)> shards, StringBuilder summary)
    {
        var first = shards[0].Run;
        var profileId = Str(first["profile"]!, "id");
        var profile = Spec.Profiles.Find(profileId) ?? throw new ReportMergeException($"{shards[0].Name}: profile '{profileId}' is not one of this suite's");
        var m = first["manifest"]!;
        var manifest = new CapabilityManifest(
            Str(m, "implementation"),
            Str(m, "profile"),
            TraceFile.ParseFacets(((JsonArray)m["facets"]!).Select(f => (string)f!)),
            [.. ((JsonArray)m["expectedDivergences"]!).Select(d => new ExpectedDivergence(Str(d!, "rule"), Str(d!, "reason")))]);
        var declared = manifest.Divergences.Select(d => d.RuleId).ToHashSet(StringComparer.Ordinal);
        var o = first["options"]!;
        var options = new RunOptions
        {
            Seed = ulong.Parse(Str(o, "seed"), CultureInfo.InvariantCulture),
            Sequences = (int)o["sequences"]!,
            Length = (int)o["length"]!,
            CommandTimeout = TimeSpan.FromMilliseconds((long)o["timeoutMs"]!),
        };
        var implementation = Str(first, "implementation");

        // Rules: sums of the counts, then the verdicts judged again from them.
        var exercised = new Dictionary<string, long>(StringComparer.Ordinal);
        var unexpected = new Dictionary<string, long>(StringComparer.Ordinal);
        var expected = new Dictionary<string, long>(StringComparer.Ordinal);
        var byCommand = new Dictionary<string, SortedDictionary<string, long>>(StringComparer.Ordinal);
        var ruleIds = ((JsonArray)first["rules"]!).Select(r => Str(r!, "id")).ToList();
        foreach (var (name, run) in shards)
        {
            var rules = (JsonArray)run["rules"]!;
            if (!rules.Select(r => Str(r!, "id")).SequenceEqual(ruleIds, StringComparer.Ordinal))
            {
                throw new ReportMergeException($"{name}: its rule table differs from {shards[0].Name}'s (different suite builds?)");
            }

            foreach (var r in rules)
            {
                var id = Str(r!, "id");
                Add(exercised, id, (long)r!["exercised"]!);
                Add(declared.Contains(id) ? expected : unexpected, id, (long)r["violations"]!);
                var cmds = byCommand.TryGetValue(id, out var c) ? c : byCommand[id] = new SortedDictionary<string, long>(StringComparer.Ordinal);
                foreach (var (kind, n) in (JsonObject)r["byCommand"]!)
                {
                    cmds[kind] = cmds.GetValueOrDefault(kind) + (long)n!;
                }
            }
        }

        var unknown = SumMaps(shards.Select(s => (JsonObject)s.Run["shard"]!["unknownRuleViolations"]!));
        foreach (var (id, n) in unknown)
        {
            Add(unexpected, id, n);
        }

        var verdicts = ConformanceRun.Verdicts(profile, manifest, exercised, unexpected, expected)
            .ToDictionary(v => v.Rule.Id, StringComparer.Ordinal);
        var rulesOut = new JsonArray();
        foreach (var r in (JsonArray)first["rules"]!)
        {
            var id = Str(r!, "id");
            var v = verdicts[id];
            var cmds = new JsonObject();
            foreach (var (kind, n) in byCommand[id])
            {
                cmds[kind] = n;
            }

            rulesOut.Add(new JsonObject
            {
                ["id"] = id,
                ["level"] = Str(r!, "level"),
                ["group"] = Str(r!, "group"),
                ["facet"] = Str(r!, "facet"),
                ["outcome"] = JsonReport.OutcomeId(v.Outcome),
                ["exercised"] = v.Exercised,
                ["violations"] = v.Violations,
                ["note"] = v.Note,
                ["byCommand"] = cmds,
            });
        }

        // Problems, as the whole run words them: the manifest's, check ids not in the catalogue, then kinds of failure.
        var problems = new List<string>();
        foreach (var d in manifest.Divergences.Where(d => !Rules.Exists(d.RuleId)))
        {
            problems.Add($"the manifest declares an expected divergence from unknown rule '{d.RuleId}'");
        }

        foreach (var (id, n) in unknown)
        {
            problems.Add($"a check names rule '{id}', which is not in the catalogue (violated in {N(n)} sequence(s))");
        }

        foreach (var (key, n) in SumMaps(shards.Select(s => (JsonObject)s.Run["shard"]!["problemCounts"]!)))
        {
            problems.Add($"{ConformanceRun.DescribeProblem(key)} in {N(n)} sequence(s)");
        }

        var warnings = shards.SelectMany(s => s.Run["warnings"] is JsonArray w ? w.Select(x => (string)x!) : []).Distinct(StringComparer.Ordinal).ToList();
        var conformant = problems.Count == 0 && verdicts.Values.All(v => v.Outcome != Outcome.Fail);

        // Counterexamples in stream order (corpus first), one per failure the earlier ones did not capture.
        var candidates = new List<(int Position, int Shard, int Order, JsonObject Node, HashSet<string> Target)>();
        var max = (int)first["shard"]!["maxCounterexamples"]!;
        for (var s = 0; s < shards.Count; s++)
        {
            var list = (JsonArray)shards[s].Run["counterexamples"]!;
            var origins = (JsonArray)shards[s].Run["shard"]!["counterexampleOrigins"]!;
            if (origins.Count != list.Count)
            {
                throw new ReportMergeException($"{shards[s].Name}: {N(list.Count)} counterexamples but {N(origins.Count)} origins (a damaged report?)");
            }

            for (var i = 0; i < list.Count; i++)
            {
                var origin = origins[i]!;
                candidates.Add(((int)origin["position"]!, s, i, (JsonObject)list[i]!,
                    ((JsonArray)origin["target"]!).Select(t => (string)t!).ToHashSet(StringComparer.Ordinal)));
            }
        }

        var captured = new HashSet<string>(StringComparer.Ordinal);
        var counterexamples = new JsonArray();
        foreach (var c in candidates.OrderBy(c => c.Position).ThenBy(c => c.Shard).ThenBy(c => c.Order))
        {
            if (counterexamples.Count >= max || c.Target.IsSubsetOf(captured))
            {
                continue;
            }

            captured.UnionWith(c.Target);
            var node = (JsonObject)c.Node.DeepClone();
            node["number"] = counterexamples.Count + 1;
            counterexamples.Add(node);
        }

        var failing = shards.SelectMany(s => s.Run["failingSequences"] is JsonArray f ? f.Select(x => x!.DeepClone()) : [])
            .OrderBy(f => (int)f["position"]!)
            .ToList();

        var totals = new JsonObject();
        foreach (var (key, value) in (JsonObject)first["totals"]!)
        {
            var values = shards.Select(s => (long)s.Run["totals"]![key]!).ToList();
            totals[key] = key == "elapsedMs" ? values.Max() : values.Sum();
        }

        var outcomes = new JsonObject();
        foreach (var oc in Enum.GetValues<Outcome>())
        {
            outcomes[JsonReport.OutcomeId(oc)] = verdicts.Values.Count(v => v.Outcome == oc);
        }

        var kinds = new JsonObject();
        foreach (var (kind, n) in SumMaps(shards.Select(s => (JsonObject)s.Run["commandsByKind"]!)))
        {
            kinds[kind] = n;
        }

        var result = new JsonObject
        {
            ["implementation"] = implementation,
            ["profile"] = first["profile"]!.DeepClone(),
            ["manifest"] = m.DeepClone(),
            ["options"] = o.DeepClone(),
            ["replayCommand"] = ConformanceRun.ReplayCommand(implementation, profile, options),
            ["conformant"] = conformant,
            ["outcomes"] = outcomes,
            ["totals"] = totals,
            ["rules"] = rulesOut,
            ["commandsByKind"] = kinds,
            ["problems"] = new JsonArray([.. problems.Select(p => (JsonNode)p)]),
        };
        if (warnings.Count > 0)
        {
            result["warnings"] = new JsonArray([.. warnings.Select(w => (JsonNode)w)]);
        }

        result["counterexamples"] = counterexamples;
        if (failing.Count > 0)
        {
            result["failingSequences"] = new JsonArray([.. failing]);
        }

        summary.Append(CultureInfo.InvariantCulture, $"{profileId} ({implementation}): {(conformant ? "CONFORMANT" : "NOT CONFORMANT")}: ");
        summary.Append(CultureInfo.InvariantCulture, $"{N(verdicts.Values.Count(v => v.Outcome == Outcome.Pass))} pass, {N(verdicts.Values.Count(v => v.Outcome == Outcome.Fail))} fail, ");
        summary.Append(CultureInfo.InvariantCulture, $"{N(verdicts.Values.Count(v => v.Outcome == Outcome.NotApplicable))} n/a, {N(verdicts.Values.Count(v => v.Outcome == Outcome.ExpectedDivergence))} expected divergence; ");
        summary.Append(CultureInfo.InvariantCulture, $"{totals["sequencesRun"]} sequences, {N(failing.Count)} failing, {N(counterexamples.Count)} counterexample(s)\n");
        foreach (var v in verdicts.Values.Where(v => v.Outcome == Outcome.Fail))
        {
            summary.Append(CultureInfo.InvariantCulture, $"  Fail  {v.Rule.Id}: {v.Note}\n");
        }

        foreach (var p in problems)
        {
            summary.Append("  Problem: ").Append(p).Append('\n');
        }

        foreach (var c in counterexamples)
        {
            var seed = c!["sequenceSeed"] is { } sq ? $", sequence seed {(string)sq!}" : string.Empty;
            summary.Append(CultureInfo.InvariantCulture, $"  Counterexample #{c["number"]}: {Str(c, "kind")}{seed}, {((JsonArray)c["commands"]!).Count} actions, rules {string.Join(", ", ((JsonArray)c["violatedRules"]!).Select(x => (string)x!))}\n");
        }

        return (result, conformant);
    }

    /// <summary>Written the way <see cref="JsonReport"/> writes: indented, relaxed escaping, LF, a final newline.</summary>
    private static string Write(JsonNode node)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            node.WriteTo(w);
        }

        return Encoding.UTF8.GetString(stream.ToArray()).Replace("\r\n", "\n", StringComparison.Ordinal) + "\n";
    }

    private static SortedDictionary<string, long> SumMaps(IEnumerable<JsonObject> maps)
    {
        var sum = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var map in maps)
        {
            foreach (var (key, n) in map)
            {
                sum[key] = sum.GetValueOrDefault(key) + (long)n!;
            }
        }

        return sum;
    }

    private static IEnumerable<string> Profiles(JsonArray runs) => runs.Select(r => Str(r!["profile"]!, "id"));

    private static void Same(string a, string b, string what, string x, string y)
    {
        if (!string.Equals(x, y, StringComparison.Ordinal))
        {
            throw new ReportMergeException($"cannot merge reports of different {what}: {a} has {x}, {b} has {y}");
        }
    }

    private static string Str(JsonNode node, string key) => node[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : string.Empty;

    private static void Add(Dictionary<string, long> d, string key, long n)
    {
        if (n != 0)
        {
            d[key] = d.GetValueOrDefault(key) + n;
        }
    }

    private static string N(long v) => v.ToString(CultureInfo.InvariantCulture);
}
