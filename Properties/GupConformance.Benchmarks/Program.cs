using System.Diagnostics;
using System.Globalization;
using GupConformance.Engine;
using GupConformance.Engine.Plugins;
using GupConformance.Fixtures;
using GupConformance.Spec;

namespace GupConformance.Benchmarks;

/// <summary>
/// Operations checked per second: the same conformance run (same profile, seed, sequences, facets) against the
/// in-process C# reference implementation, the C implementation through the native host, and the Python process
/// implementation, each out-of-process one with and without batching. Every command sent counts as one operation,
/// the inspections included; the model's work is part of every figure.
/// <code>dotnet run --project Properties/GupConformance.Benchmarks -c Release -- [--sequences N] [--profile ID]</code>
/// </summary>
public static class Program
{
    private const Facet Facets = Facet.Core | Facet.LargeFolios | Facet.ZeroPage;

    public static int Main(string[] args)
    {
        // A real kernel in QEMU (Fixtures/Kernel): build time, boot time, commands per second (KernelBenchmark).
        if (args.Contains("--kernel", StringComparer.Ordinal))
        {
            return KernelBenchmark.Run(args);
        }

        var sequences = 200;
        var profile = Profiles.Default;
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--sequences":
                    sequences = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
                    break;
                case "--profile":
                    profile = Profiles.Get(args[i + 1]);
                    break;
                default:
                    Console.Error.WriteLine($"usage: GupConformance.Benchmarks [--sequences N] [--profile ID] (unknown option {args[i]})");
                    return 2;
            }
        }

        var python = "process:python3 " + Path.Combine(AppContext.BaseDirectory, "python", "gup_impl.py");
        var cases = new List<(string Name, Func<IImplementationFactory> Make)>
        {
            ("C# reference, in-process", () => new Restricted(new KernelStyleFactory())),
        };
        if (File.Exists(PluginResolver.NativeHostPath))
        {
            cases.Add(("C native host, batched", () => PluginResolver.Start("native:bundled")));
            cases.Add(("C native host, unbatched", () => PluginResolver.Start("native:bundled", new ProcessOptions { Batching = false })));
        }

        cases.Add(("Python process, batched", () => PluginResolver.Start(python)));
        cases.Add(("Python process, unbatched", () => PluginResolver.Start(python, new ProcessOptions { Batching = false })));

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"GupConformance benchmark: profile {profile.Id}, facets {Facets}, {sequences} sequences x 40 actions, seed 1, {Environment.ProcessorCount} CPU(s)"));
        Console.WriteLine($"{"Implementation",-28} {"commands",10} {"seconds",8} {"ops/s",10} {"seq/s",8} {"vs in-process",14}");
        double? baseline = null;
        foreach (var (name, make) in cases)
        {
            var factory = make();
            try
            {
                // A short warm-up (JIT, process start), then the measured run.
                ConformanceRun.Run(factory, profile, new RunOptions { Sequences = 5 });
                var clock = Stopwatch.StartNew();
                var r = ConformanceRun.Run(factory, profile, new RunOptions { Sequences = sequences });
                var s = clock.Elapsed.TotalSeconds;
                var rate = r.CommandsExecuted / s;
                baseline ??= rate;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{name,-28} {r.CommandsExecuted,10} {s,8:F2} {rate,10:F0} {r.SequencesRun / s,8:F1} {rate / baseline.Value,13:P0}{(r.Conformant ? string.Empty : "  (NOT CONFORMANT)")}"));
            }
            finally
            {
                (factory as IDisposable)?.Dispose();
            }
        }

        return 0;
    }

    /// <summary>The reference implementation claiming only the facets the other implementations cover, so all run the same sequences.</summary>
    private sealed class Restricted(IImplementationFactory inner) : IImplementationFactory
    {
        public string Name => inner.Name;

        public CapabilityManifest? ManifestFor(Profile profile) => inner.ManifestFor(profile) is { } m ? m with { Facets = m.Facets & Facets } : null;

        public IGupImplementation Create(Profile profile) => inner.Create(profile);
    }
}
