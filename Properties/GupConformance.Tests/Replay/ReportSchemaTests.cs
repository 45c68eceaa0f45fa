using System.Text.Json;
using System.Text.RegularExpressions;
using GupConformance.Engine;
using GupConformance.Fixtures;
using GupConformance.Spec;
using GupConformance.Tests.Snapshots;

namespace GupConformance.Tests.Replay;

/// <summary>The JSON report and the trace files follow their documented schemas (Spec/report.schema.json, Spec/trace.schema.json).</summary>
public sealed class ReportSchemaTests
{
    [Fact]
    public void The_JSON_report_follows_its_schema_with_and_without_counterexamples()
    {
        var broken = ReportSnapshotTests.RunBroken("broken-pin-bias-adds-refs", "linux-6.18");
        var reference = ConformanceRun.Run(new KernelStyleFactory(), Profiles.Get("linux-5.7"), new RunOptions { Sequences = 5, Length = 10 });
        using var schema = Load("report.schema.json");
        foreach (var json in new[] { JsonReport.Render([broken, reference]), JsonReport.Render(reference, new ReportOptions { IncludeTimings = true }) })
        {
            using var doc = JsonDocument.Parse(json);
            Assert.Empty(Validate(schema.RootElement, schema.RootElement, doc.RootElement, "$"));
        }

        // The validator does reject what the schema forbids.
        using var bad = JsonDocument.Parse("""{ "format": "other", "runs": [ { "rules": 3 } ], "extra": true }""");
        Assert.True(Validate(schema.RootElement, schema.RootElement, bad.RootElement, "$").Count >= 4);
    }

    [Fact]
    public void Trace_files_follow_their_schema()
    {
        var broken = ReportSnapshotTests.RunBroken("broken-api-get-accepts-pin", "linux-6.8");
        var c = broken.Counterexamples[0];
        var trace = TraceFile.From(c, broken.Manifest, broken.Options);
        using var schema = Load("trace.schema.json");
        using var doc = JsonDocument.Parse(trace.ToJson());
        Assert.Empty(Validate(schema.RootElement, schema.RootElement, doc.RootElement, "$"));
    }

    private static JsonDocument Load(string name) => JsonDocument.Parse(File.ReadAllText(RepoPaths.Of("Spec", name)));

    /// <summary>The errors of a value against one of the Spec schemas (for other test classes).</summary>
    internal static List<string> ValidateAgainst(string schemaFile, JsonElement value)
    {
        using var schema = Load(schemaFile);
        return Validate(schema.RootElement, schema.RootElement, value, "$");
    }

    /// <summary>A small JSON Schema validator: the keywords these two schemas use ($ref, type, const, enum, required,
    /// properties, additionalProperties, items, pattern, minimum, minItems).</summary>
    private static List<string> Validate(JsonElement root, JsonElement schema, JsonElement value, string path)
    {
        var errors = new List<string>();
        if (schema.TryGetProperty("$ref", out var r))
        {
            var target = root;
            foreach (var part in r.GetString()!.TrimStart('#', '/').Split('/'))
            {
                target = target.GetProperty(part);
            }

            return Validate(root, target, value, path);
        }

        if (schema.TryGetProperty("type", out var type))
        {
            var types = type.ValueKind == JsonValueKind.Array ? type.EnumerateArray().Select(t => t.GetString()!).ToList() : [type.GetString()!];
            if (!types.Any(t => Is(t, value)))
            {
                errors.Add($"{path}: expected {string.Join("|", types)}, got {value.ValueKind}");
                return errors;
            }
        }

        if (schema.TryGetProperty("const", out var k) && !JsonElement.DeepEquals(k, value))
        {
            errors.Add($"{path}: expected {k}");
        }

        if (schema.TryGetProperty("enum", out var e) && !e.EnumerateArray().Any(x => JsonElement.DeepEquals(x, value)))
        {
            errors.Add($"{path}: {value} not in the enum");
        }

        if (schema.TryGetProperty("pattern", out var pattern) && value.ValueKind == JsonValueKind.String
            && !Regex.IsMatch(value.GetString()!, pattern.GetString()!))
        {
            errors.Add($"{path}: '{value.GetString()}' does not match {pattern.GetString()}");
        }

        if (schema.TryGetProperty("minimum", out var min) && value.ValueKind == JsonValueKind.Number && value.GetDecimal() < min.GetDecimal())
        {
            errors.Add($"{path}: below {min}");
        }

        if (value.ValueKind == JsonValueKind.Object)
        {
            if (schema.TryGetProperty("required", out var req))
            {
                errors.AddRange(req.EnumerateArray().Where(n => !value.TryGetProperty(n.GetString()!, out _)).Select(n => $"{path}: missing {n.GetString()}"));
            }

            var props = schema.TryGetProperty("properties", out var p) ? p : default;
            foreach (var prop in value.EnumerateObject())
            {
                if (props.ValueKind == JsonValueKind.Object && props.TryGetProperty(prop.Name, out var ps))
                {
                    errors.AddRange(Validate(root, ps, prop.Value, $"{path}.{prop.Name}"));
                }
                else if (schema.TryGetProperty("additionalProperties", out var ap))
                {
                    if (ap.ValueKind == JsonValueKind.False)
                    {
                        errors.Add($"{path}: unexpected property {prop.Name}");
                    }
                    else if (ap.ValueKind == JsonValueKind.Object)
                    {
                        errors.AddRange(Validate(root, ap, prop.Value, $"{path}.{prop.Name}"));
                    }
                }
            }
        }

        if (value.ValueKind == JsonValueKind.Array)
        {
            if (schema.TryGetProperty("minItems", out var mi) && value.GetArrayLength() < mi.GetInt32())
            {
                errors.Add($"{path}: fewer than {mi} items");
            }

            if (schema.TryGetProperty("items", out var items))
            {
                var i = 0;
                foreach (var item in value.EnumerateArray())
                {
                    errors.AddRange(Validate(root, items, item, $"{path}[{i++}]"));
                }
            }
        }

        return errors;
    }

    private static bool Is(string type, JsonElement v) => type switch
    {
        "object" => v.ValueKind == JsonValueKind.Object,
        "array" => v.ValueKind == JsonValueKind.Array,
        "string" => v.ValueKind == JsonValueKind.String,
        "boolean" => v.ValueKind is JsonValueKind.True or JsonValueKind.False,
        "integer" => v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out _),
        "number" => v.ValueKind == JsonValueKind.Number,
        "null" => v.ValueKind == JsonValueKind.Null,
        _ => false,
    };
}
