using System.Globalization;
using GupConformance.Engine;
using GupConformance.Spec;

namespace GupConformance.Runner;

/// <summary>
/// The runner's file outputs and trace replay: --report-md, --report-json, --report-timings, --corpus / --no-corpus,
/// --emit-reproducer and --replay. Kept apart from Program so the console behaviour stays where it was.
/// </summary>
public sealed record RunnerOutputs
{
    public string? MarkdownPath { get; init; }

    public string? JsonPath { get; init; }

    public string? JUnitPath { get; init; }

    public bool Timings { get; init; }

    public string? ReproducerDirectory { get; init; }

    /// <summary>The corpus folder (null with --no-corpus).</summary>
    public string? CorpusDirectory { get; init; }

    private ReportOptions ReportOptions => new() { IncludeTimings = Timings };

    /// <summary>Writes the reports and reproducers of a run; false (with a message) when a file cannot be written.</summary>
    public bool Write(IReadOnlyList<RunResult> results, IImplementationFactory factory, TextWriter stdout, TextWriter stderr)
    {
        try
        {
            if (MarkdownPath is { } md)
            {
                WriteFile(md, MarkdownReport.Render(results, ReportOptions));
                stderr.WriteLine($"wrote the Markdown report to {md}");
            }

            if (JsonPath is { } json)
            {
                WriteFile(json, JsonReport.Render(results, ReportOptions));
                stderr.WriteLine($"wrote the JSON report to {json}");
            }

            if (JUnitPath is { } junit)
            {
                WriteFile(junit, JUnitReport.Render(results, ReportOptions));
                stderr.WriteLine($"wrote the JUnit XML report to {junit}");
            }

            foreach (var c in results.SelectMany(r => r.Counterexamples))
            {
                if (c.TracePath is { } trace)
                {
                    stdout.WriteLine($"Counterexample #{c.Number.ToString(CultureInfo.InvariantCulture)} ({c.ProfileId}) saved as {trace}; replay it with: {c.TraceReplayCommand}");
                }
            }

            EmitReproducers(results.SelectMany(r => r.Counterexamples), factory, stderr);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"error: {e.Message}");
            return false;
        }
    }

    private void EmitReproducers(IEnumerable<Counterexample> counterexamples, IImplementationFactory factory, TextWriter stderr)
    {
        if (ReproducerDirectory is not { } dir)
        {
            return;
        }

        foreach (var c in counterexamples)
        {
            var path = Path.Combine(dir, ReproducerEmitter.FileName(c));
            WriteFile(path, ReproducerEmitter.Emit(c, ReproducerEmitter.FactoryExpression(c.Implementation, factory)));
            stderr.WriteLine($"wrote the reproducer {path}");
        }
    }

    private static void WriteFile(string path, string text)
    {
        if (Path.GetDirectoryName(path) is { Length: > 0 } dir)
        {
            Directory.CreateDirectory(dir);
        }

        File.WriteAllText(path, text);
    }

    /// <summary>--replay TRACE: replays one trace file; exit 1 when it still fails, 0 when it passes, 2 when it cannot.</summary>
    public int Replay(
        string tracePath,
        string? implOverride,
        bool trustTraceImplementation,
        Func<string, (IImplementationFactory? Factory, string? Error)> resolve,
        RunOptions options,
        TextWriter stdout,
        TextWriter stderr)
    {
        TraceFile trace;
        try
        {
            trace = TraceFile.Load(tracePath);
        }
        catch (TraceFileException e)
        {
            stderr.WriteLine($"error: cannot use the trace: {Engine.Plugins.Untrusted.Printable(e.Message)}");
            return Program.ExitBadArguments;
        }

        // A trace records the implementation's --impl name, so a process or native plugin can be started again from
        // it; but a trace may come from someone else, and that name is a command line: never run it unasked.
        if (implOverride is null && Engine.Plugins.PluginResolver.HasScheme(trace.Implementation) && !trustTraceImplementation)
        {
            stderr.WriteLine($"error: the trace was recorded from '{Engine.Plugins.Untrusted.Printable(trace.Implementation)}', which this replay would start as a program; check that command and pass --trust-trace-impl to run it, or choose an implementation with --impl NAME");
            return Program.ExitBadArguments;
        }

        var implName = implOverride ?? trace.Implementation;
        var (factory, error) = resolve(implName);
        if (factory is null)
        {
            stderr.WriteLine(implOverride is null
                ? $"error: the trace was recorded from '{implName}', which cannot be started here ({error}); choose one with --impl NAME"
                : $"error: {error}");
            return Program.ExitBadArguments;
        }

        using var disposeFactory = factory as IDisposable;
        if (Profiles.Find(trace.Profile) is not { } profile || factory.ManifestFor(profile) is null)
        {
            stderr.WriteLine($"error: implementation '{implName}' does not claim the trace's profile '{trace.Profile}'");
            return Program.ExitBadArguments;
        }

        var result = TraceReplay.Replay(factory, trace, tracePath.Replace('\\', '/'), options with { ImplementationId = implName });
        stdout.WriteLine($"GupConformance {SuiteVersion.Value} trace replay");
        stdout.WriteLine($"Trace:          {result.TracePath}");
        stdout.WriteLine($"Recorded from:  {trace.Implementation} under {trace.Profile} (suite {trace.SuiteVersion}), failing with {string.Join(", ", trace.Signature)}");
        stdout.WriteLine($"Implementation: {implName}");
        stdout.WriteLine($"Actions:        {trace.Commands.Count.ToString(CultureInfo.InvariantCulture)}");
        if (result.Counterexample is { } c)
        {
            stdout.WriteLine();
            stdout.Write(ReportWriter.RenderCounterexample(c));
            if (MarkdownPath is { } md)
            {
                WriteFile(md, MarkdownReport.RenderCounterexample(c, "#"));
                stderr.WriteLine($"wrote the Markdown report to {md}");
            }

            EmitReproducers([c], factory, stderr);
        }

        stdout.WriteLine();
        stdout.WriteLine($"Replay: {result.Describe()}");
        return result.Verdict switch
        {
            ReplayVerdict.Passed => Program.ExitConformant,
            ReplayVerdict.Invalid => Program.ExitBadArguments,
            _ => Program.ExitNotConformant,
        };
    }
}
