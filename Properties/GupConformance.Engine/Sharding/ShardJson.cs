using System.Globalization;
using System.Text.Json;

namespace GupConformance.Engine;

/// <summary>
/// What a run's JSON report says beyond the common fields, for sharded runs and their merge: the failing sequences (only
/// when there are any, so a conformant report is unchanged) and, for a shard, a "shard" object with what the merge
/// needs and the report does not otherwise hold (which shard, each counterexample's origin, problem counts).
/// </summary>
public static class ShardJson
{
    public static string SeedText(ulong seed) => "0x" + seed.ToString("x16", CultureInfo.InvariantCulture);

    internal static void WriteRunTail(Utf8JsonWriter w, RunResult r)
    {
        if (r.Failures.Count > 0)
        {
            w.WriteStartArray("failingSequences");
            foreach (var f in r.Failures)
            {
                WriteFailure(w, f);
            }

            w.WriteEndArray();
        }

        if (r.Options.Shard is not { } shard)
        {
            return;
        }

        w.WriteStartObject("shard");
        w.WriteNumber("index", shard.Index);
        w.WriteNumber("count", shard.Count);
        w.WriteNumber("maxCounterexamples", r.Options.MaxCounterexamples);
        w.WriteStartArray("counterexampleOrigins");
        foreach (var o in r.CounterexampleOrigins)
        {
            w.WriteStartObject();
            w.WriteNumber("position", o.Position);
            w.WriteStartArray("target");
            foreach (var t in o.Target)
            {
                w.WriteStringValue(t);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteStartObject("problemCounts");
        foreach (var (key, n) in r.ProblemCounts)
        {
            w.WriteNumber(key, n);
        }

        w.WriteEndObject();
        w.WriteStartObject("unknownRuleViolations");
        foreach (var v in r.UnknownRuleViolations())
        {
            w.WriteNumber(v.Key, v.Value);
        }

        w.WriteEndObject();
        w.WriteEndObject();
    }

    internal static void WriteFailure(Utf8JsonWriter w, FailingSequence f)
    {
        w.WriteStartObject();
        w.WriteNumber("position", f.Position);
        if (f.Seed is { } s)
        {
            w.WriteString("seed", SeedText(s));
        }

        w.WriteStartArray("failure");
        foreach (var id in f.Failure)
        {
            w.WriteStringValue(id);
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>Violations of rule ids the catalogue does not have (a model or check bug), from the run's problems.</summary>
    private static IEnumerable<KeyValuePair<string, long>> UnknownRuleViolations(this RunResult r) =>
        r.Failures.SelectMany(f => f.Failure)
            .Where(id => !id.Contains(':', StringComparison.Ordinal) && id is not "timeout" and not "invalid" && !Spec.Rules.Exists(id))
            .GroupBy(id => id, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new KeyValuePair<string, long>(g.Key, g.LongCount()));
}
