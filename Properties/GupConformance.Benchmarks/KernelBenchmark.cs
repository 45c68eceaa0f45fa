using System.Diagnostics;
using System.Globalization;
using GupConformance.Engine;
using GupConformance.Engine.Plugins;
using GupConformance.Spec;

namespace GupConformance.Benchmarks;

/// <summary>
/// The figures of a real kernel under test (Fixtures/Kernel): how long its first build took (recorded in the cache
/// when it was built), how long a boot takes (QEMU start to the handshake), and how many commands per second a
/// conformance run checks through the VM (every command sent counts, inspections included; runs whose guest had
/// to be restarted after a fault are in the figure too, and the number of guests started is printed).
/// <code>dotnet run --project Properties/GupConformance.Benchmarks -c Release -- --kernel 6.12 [--sequences N] [--profile ID]</code>
/// </summary>
public static class KernelBenchmark
{
    public static int Run(string[] args)
    {
        string? tree = null;
        string? profileId = null;
        var sequences = 40;
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--kernel":
                    tree = args[i + 1];
                    break;
                case "--sequences":
                    sequences = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
                    break;
                case "--profile":
                    profileId = args[i + 1];
                    break;
                default:
                    Console.Error.WriteLine($"usage: GupConformance.Benchmarks --kernel 6.12|6.1|PATH [--sequences N] [--profile ID] (unknown option {args[i]})");
                    return 2;
            }
        }

        profileId ??= tree switch
        {
            "6.12" => Profiles.Linux612Stable.Id,
            "6.1" => Profiles.Linux61Stable.Id,
            _ => null,
        };
        if (tree is null || profileId is null || Profiles.Find(profileId) is not { } profile)
        {
            Console.Error.WriteLine("usage: GupConformance.Benchmarks --kernel 6.12|6.1|PATH [--sequences N] [--profile ID] (a tree of your own needs --profile)");
            return 2;
        }

        KernelImage image;
        try
        {
            image = KernelLauncher.Build(tree, Console.Error.WriteLine);
        }
        catch (PluginSetupException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 2;
        }

        var accel = "?";
        var options = KernelLauncher.Adjust(new ProcessOptions { CommandTimeout = TimeSpan.FromSeconds(240) }, null) with
        {
            Stderr = line =>
            {
                var at = line.IndexOf("under QEMU (", StringComparison.Ordinal);
                if (at >= 0)
                {
                    accel = line[(at + "under QEMU (".Length)..].TrimEnd(')');
                }
            },
        };
        var boot = Stopwatch.StartNew();
        using var factory = ProcessImplementationFactory.Start(KernelLauncher.Launch(image), options);
        var bootSeconds = boot.Elapsed.TotalSeconds;

        var clock = Stopwatch.StartNew();
        var r = ConformanceRun.Run(factory, profile, new RunOptions
        {
            Sequences = sequences,
            CommandTimeout = TimeSpan.FromMilliseconds(KernelLauncher.DefaultTimeoutMs),
            MaxShrinkRuns = KernelLauncher.DefaultMaxShrinkRuns,
        });
        var s = clock.Elapsed.TotalSeconds;

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"GupConformance kernel benchmark: Linux {image.Release} ({tree}), profile {profile.Id}, {sequences} sequences x 40 actions, seed 1, {Environment.ProcessorCount} CPU(s), QEMU {accel}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"build:    {image.BuildSeconds / 60}m{image.BuildSeconds % 60:D2}s when these inputs were built ({(image.Cached ? "cached" : "built now")}; {Path.GetDirectoryName(image.Image)})"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"boot:     {bootSeconds:F1} s from QEMU start to the handshake"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"checking: {r.CommandsExecuted} commands in {s:F1} s = {r.CommandsExecuted / s:F0} commands/s, {r.SequencesRun / s:F2} sequences/s ({factory.ProcessesStarted} guest(s) booted; {(r.Conformant ? "conformant" : "NOT conformant")})"));
        return 0;
    }
}
