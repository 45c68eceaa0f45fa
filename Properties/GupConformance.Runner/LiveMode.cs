using System.Globalization;
using GupConformance.Engine.Live;
using GupConformance.Fixtures.LiveKernel;
using GupConformance.Oracles.Live;

namespace GupConformance.Runner;

/// <summary>
/// <c>gupconformance --live [--seed N] [--sequences N] [--length N] [--live-profile ID] [--no-hugetlb] [--no-mthp]</c>:
/// the live run against the running kernel. Exit codes as for the main job; Not applicable exits 0 with the reason.
/// </summary>
public static class LiveMode
{
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var options = new LiveRunOptions();
        string? profileId = null;
        bool hugetlb = true, mthp = true;
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            try
            {
                switch (args[i])
                {
                    case "--live":
                        break;
                    case "--seed":
                        options = options with { Seed = ulong.Parse(Next(), CultureInfo.InvariantCulture) };
                        break;
                    case "--sequences":
                        options = options with { Sequences = int.Parse(Next(), CultureInfo.InvariantCulture) };
                        break;
                    case "--length":
                        options = options with { Length = int.Parse(Next(), CultureInfo.InvariantCulture) };
                        break;
                    case "--live-profile":
                        profileId = Next();
                        break;
                    case "--no-hugetlb":
                        hugetlb = false;
                        break;
                    case "--no-mthp":
                        mthp = false;
                        break;
                    default:
                        stderr.WriteLine($"error: unknown live option '{args[i]}' (live options: --seed, --sequences, --length, --live-profile {string.Join("|", LiveProfile.All.Select(p => p.Id))}, --no-hugetlb, --no-mthp)");
                        return Program.ExitBadArguments;
                }
            }
            catch (Exception e) when (e is FormatException or OverflowException or ArgumentException)
            {
                stderr.WriteLine($"error: {e.Message}");
                return Program.ExitBadArguments;
            }
        }

        LiveProfile? profile = null;
        if (profileId is not null && (profile = LiveProfile.Find(profileId)) is null)
        {
            stderr.WriteLine($"error: unknown live profile '{profileId}'; known: {string.Join(", ", LiveProfile.All.Select(p => p.Id))}");
            return Program.ExitBadArguments;
        }

        LiveRunResult result;
        IReadOnlyList<string> cleanup;
        using (var factory = new LiveKernelFactory(useHugetlb: hugetlb, useMthp: mthp))
        {
            result = new LiveConformanceRun(factory, profile).Run(options);
            factory.Dispose();
            cleanup = factory.CleanupReport;
        }

        stdout.Write(result.Render());
        foreach (var c in cleanup)
        {
            stdout.WriteLine("cleanup: " + c);
        }

        if (result.Verdict != LiveVerdict.NotApplicable)
        {
            stdout.WriteLine($"Replay: gupconformance --live --seed {options.Seed.ToString(CultureInfo.InvariantCulture)} --sequences {options.Sequences.ToString(CultureInfo.InvariantCulture)} --length {options.Length.ToString(CultureInfo.InvariantCulture)}{(profileId is null ? string.Empty : " --live-profile " + profileId)}");
        }

        return result.Verdict == LiveVerdict.Fail ? Program.ExitNotConformant : Program.ExitConformant;
    }
}
