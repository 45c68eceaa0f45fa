using System.CommandLine;
using System.Globalization;
using GupConformance.Engine;
using GupConformance.Fixtures;
using GupConformance.Spec;

namespace GupConformance.Runner;

/// <summary>
/// gupconformance: runs the conformance suite against an implementation under one profile or all it claims.
/// Exit codes: 0 conformant, 1 not conformant, 2 bad arguments.
/// </summary>
public static class Program
{
    public const int ExitConformant = 0;
    public const int ExitNotConformant = 1;
    public const int ExitBadArguments = 2;

    /// <summary>The implementations the runner knows, by their --impl name.</summary>
    public static IReadOnlyDictionary<string, Func<IImplementationFactory>> Implementations { get; } =
        new SortedDictionary<string, Func<IImplementationFactory>>(StringComparer.Ordinal)
        {
            ["reference"] = () => new KernelStyleFactory(),
        };

    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>The whole command line behaviour, with the output streams given (for tests).</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Length > 0 && string.Equals(args[0], "merge", StringComparison.Ordinal))
        {
            return MergeCommand.Run(args[1..], stdout, stderr);
        }

        if (args.Contains("--live", StringComparer.Ordinal) || args.Contains("--live-restore", StringComparer.Ordinal) || ReplaysLiveTrace(args))
        {
            return LiveMode.Run(args, stdout, stderr);
        }

        var profileOpt = new Option<string>("--profile")
        {
            Description = $"Profile id, or 'all' for every profile the implementation claims (see --list-profiles)",
            DefaultValueFactory = _ => Profiles.Default.Id,
        };
        var implOpt = new Option<string>("--impl")
        {
            Description = $"Implementation to check ({string.Join(", ", Implementations.Keys)})",
            DefaultValueFactory = _ => "reference",
        };
        var seedOpt = new Option<string>("--seed")
        {
            Description = $"Run seed (a 64-bit number, decimal or 0x-hex, or 'random'): the same seed replays the same run",
            DefaultValueFactory = _ => RunOptions.DefaultSeed.ToString(CultureInfo.InvariantCulture),
        };
        var sequencesOpt = new Option<int>("--sequences")
        {
            Description = "Number of generated command sequences per profile",
            DefaultValueFactory = _ => RunOptions.DefaultSequences,
        };
        var lengthOpt = new Option<int>("--length")
        {
            Description = "Actions per sequence",
            DefaultValueFactory = _ => RunOptions.DefaultLength,
        };
        var timeoutOpt = new Option<int>("--timeout-ms")
        {
            Description = "Time limit for one call into the implementation, in milliseconds",
            DefaultValueFactory = _ => RunOptions.DefaultTimeoutMs,
        };
        var shardOpt = new Option<string?>("--shard")
        {
            Description = "Run only shard I of N (I/N, e.g. 2/4): every shard generates the same sequences and runs its share; 'gupconformance merge' combines the shards' --report-json files into the whole run's report",
        };
        var listProfilesOpt = new Option<bool>("--list-profiles") { Description = "List the profiles and exit" };
        var listRulesOpt = new Option<bool>("--list-rules") { Description = "List the rules (those of --profile, if given) and exit" };
        var reportMdOpt = new Option<string?>("--report-md") { Description = "Also write the report as Markdown to this file" };
        var reportJsonOpt = new Option<string?>("--report-json") { Description = "Also write the report as JSON (schema: Spec/report.schema.json) to this file" };
        var reportJUnitOpt = new Option<string?>("--report-junit") { Description = "Also write the report as JUnit XML (one test case per rule, failures with their counterexamples) to this file" };
        var reportTimingsOpt = new Option<bool>("--report-timings") { Description = "Include elapsed times in the Markdown and JSON reports (they are then no longer byte-reproducible)" };
        var corpusOpt = new Option<string>("--corpus")
        {
            Description = "Regression corpus folder: its traces are replayed before generation, and every failure is saved there as a trace",
            DefaultValueFactory = _ => RegressionCorpus.DefaultDirectory,
        };
        var noCorpusOpt = new Option<bool>("--no-corpus") { Description = "Neither replay nor write the regression corpus" };
        var replayOpt = new Option<string?>("--replay") { Description = "Replay one trace file (its profile, and its implementation unless --impl is given) and exit" };
        var trustOpt = new Option<bool>("--trust-trace-impl") { Description = "With --replay: start the process or native implementation the trace names (it runs that command line); without it, such a trace needs --impl" };
        var emitOpt = new Option<string?>("--emit-reproducer") { Description = "Write each counterexample as a standalone xunit test (C#) into this folder" };
        var applicabilityOpt = new Option<bool>("--list-applicability") { Description = "Print the per-profile rule applicability table (Markdown) and exit" };
        var maxShrinkOpt = new Option<int?>("--max-shrink-runs")
        {
            Description = $"How many executions one shrink may use (default {new RunOptions().MaxShrinkRuns.ToString(CultureInfo.InvariantCulture)}; {Engine.Plugins.KernelLauncher.DefaultMaxShrinkRuns.ToString(CultureInfo.InvariantCulture)} for a real kernel, where a candidate that crashes the guest costs a boot)",
        };
        var maxCxOpt = new Option<int>("--max-counterexamples")
        {
            Description = "How many distinct failures are shrunk and reported (triaging a real kernel wants more than the default)",
            DefaultValueFactory = _ => new RunOptions().MaxCounterexamples,
        };
        var exhaustiveOpt = new Option<int?>("--exhaustive")
        {
            Description = "Instead of random sequences: check every sequence of up to N actions over a bounded alphabet after a fixed set-up, deduplicated by model state (N = 2 finishes in minutes per profile)",
        };

        var root = new RootCommand("GupConformance: property-based conformance checking of the Linux page pin/reference accounting (get_user_pages / pin_user_pages).");
        foreach (var o in new Option[]
        {
            profileOpt, implOpt, seedOpt, sequencesOpt, lengthOpt, timeoutOpt, listProfilesOpt, listRulesOpt,
            reportMdOpt, reportJsonOpt, reportJUnitOpt, reportTimingsOpt, corpusOpt, noCorpusOpt, replayOpt, trustOpt, emitOpt, applicabilityOpt,
            exhaustiveOpt, shardOpt, maxCxOpt, maxShrinkOpt,
        })
        {
            root.Options.Add(o);
        }

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            stderr.WriteLine($"error: {parse.Errors[0].Message} (see --help)");
            return ExitBadArguments;
        }

        root.SetAction(p =>
        {
            var corpusGiven = p.GetResult(corpusOpt) is { Implicit: false };
            var outputs = new RunnerOutputs
            {
                MarkdownPath = p.GetValue(reportMdOpt),
                JsonPath = p.GetValue(reportJsonOpt),
                JUnitPath = p.GetValue(reportJUnitOpt),
                Timings = p.GetValue(reportTimingsOpt),
                ReproducerDirectory = p.GetValue(emitOpt),
                CorpusDirectory = p.GetValue(noCorpusOpt) ? null : p.GetValue(corpusOpt),
            };

            // Every output is checked before anything runs: a run is never thrown away because a path was wrong.
            var outputProblem = (outputs.MarkdownPath is { } mdPath ? OutputPaths.FileProblem("--report-md", mdPath) : null)
                ?? (outputs.JsonPath is { } jsonPath ? OutputPaths.FileProblem("--report-json", jsonPath) : null)
                ?? (outputs.JUnitPath is { } junitPath ? OutputPaths.FileProblem("--report-junit", junitPath) : null)
                ?? (outputs.ReproducerDirectory is { } emitPath ? OutputPaths.DirectoryProblem("--emit-reproducer", emitPath) : null);
            if (outputProblem is not null)
            {
                return Bad(stderr, outputProblem);
            }

            if (outputs.CorpusDirectory is { } corpusPath && OutputPaths.DirectoryProblem("--corpus", corpusPath) is { } corpusProblem)
            {
                if (corpusGiven)
                {
                    return Bad(stderr, corpusProblem + " (or use --no-corpus)");
                }

                // The default corpus folder is a convenience: where it cannot be written, run without it and say so.
                stderr.WriteLine($"warning: {corpusProblem}; running without the regression corpus");
                outputs = outputs with { CorpusDirectory = null };
            }
            if (p.GetValue(applicabilityOpt))
            {
                stdout.Write(CoverageView.RenderApplicability());
                return ExitConformant;
            }

            // A real kernel gets a longer default limit: after a fault the next run boots a fresh guest.
            var timeoutGiven = p.GetResult(timeoutOpt) is { Implicit: false };
            int TimeoutFor(string impl) => !timeoutGiven && Engine.Plugins.PluginResolver.IsKernel(impl)
                ? Engine.Plugins.KernelLauncher.DefaultTimeoutMs
                : p.GetValue(timeoutOpt);

            if (p.GetResult(replayOpt) is { Implicit: false })
            {
                var tracePath = p.GetValue(replayOpt);
                if (string.IsNullOrWhiteSpace(tracePath))
                {
                    return Bad(stderr, "--replay needs a trace file path (got an empty one)");
                }

                var explicitImpl = p.GetResult(implOpt) is { Implicit: false } ? p.GetValue(implOpt) : null;
                var timeout = p.GetValue(timeoutOpt);
                return outputs.Replay(tracePath, explicitImpl, p.GetValue(trustOpt), name => Resolve(name, TimeoutFor(name), stderr),
                    new RunOptions { CommandTimeout = TimeSpan.FromMilliseconds(timeout > 0 ? timeout : RunOptions.DefaultTimeoutMs) }, stdout, stderr);
            }

            var implName = p.GetValue(implOpt) ?? "reference";
            var (factory, error) = Resolve(implName, TimeoutFor(implName), stderr);
            if (factory is null)
            {
                return Bad(stderr, error!);
            }

            using var disposeFactory = factory as IDisposable;
            var profileArg = p.GetValue(profileOpt) ?? Profiles.Default.Id;
            var profileGiven = p.GetResult(profileOpt) is { Implicit: false };

            if (p.GetValue(listProfilesOpt))
            {
                ListProfiles(stdout, factory);
                return ExitConformant;
            }

            if (p.GetValue(listRulesOpt))
            {
                Profile? only = null;
                if (profileGiven && !string.Equals(profileArg, "all", StringComparison.Ordinal))
                {
                    only = Profiles.Find(profileArg);
                    if (only is null)
                    {
                        return Bad(stderr, UnknownProfile(profileArg));
                    }
                }

                ListRules(stdout, only);
                return ExitConformant;
            }

            var sequences = p.GetValue(sequencesOpt);
            var length = p.GetValue(lengthOpt);
            var timeoutMs = TimeoutFor(implName);
            if (sequences <= 0)
            {
                return Bad(stderr, $"--sequences must be a positive number (got {sequences.ToString(CultureInfo.InvariantCulture)}); e.g. --sequences {RunOptions.DefaultSequences.ToString(CultureInfo.InvariantCulture)}");
            }

            if (length <= 0)
            {
                return Bad(stderr, $"--length must be a positive number (got {length.ToString(CultureInfo.InvariantCulture)}); e.g. --length {RunOptions.DefaultLength.ToString(CultureInfo.InvariantCulture)}");
            }

            if (timeoutMs <= 0)
            {
                return Bad(stderr, $"--timeout-ms must be a positive number of milliseconds (got {timeoutMs.ToString(CultureInfo.InvariantCulture)}); e.g. --timeout-ms {RunOptions.DefaultTimeoutMs.ToString(CultureInfo.InvariantCulture)}");
            }

            var maxShrinkRuns = p.GetValue(maxShrinkOpt)
                ?? (Engine.Plugins.PluginResolver.IsKernel(implName) ? Engine.Plugins.KernelLauncher.DefaultMaxShrinkRuns : new RunOptions().MaxShrinkRuns);
            if (maxShrinkRuns <= 0)
            {
                return Bad(stderr, $"--max-shrink-runs must be a positive number (got {maxShrinkRuns.ToString(CultureInfo.InvariantCulture)})");
            }

            var maxCounterexamples = p.GetValue(maxCxOpt);
            if (maxCounterexamples <= 0)
            {
                return Bad(stderr, $"--max-counterexamples must be a positive number (got {maxCounterexamples.ToString(CultureInfo.InvariantCulture)})");
            }

            var seedText = p.GetValue(seedOpt) ?? string.Empty;
            if (!TryParseSeed(seedText, out var seed))
            {
                return Bad(stderr, $"--seed must be a 64-bit unsigned number (decimal or 0x-hex) or 'random' (got '{seedText}')");
            }

            List<Profile> profiles;
            if (string.Equals(profileArg, "all", StringComparison.Ordinal))
            {
                profiles = Profiles.All.Where(x => factory.ManifestFor(x) is not null).ToList();
                if (profiles.Count == 0)
                {
                    return Bad(stderr, $"implementation '{implName}' claims no profile");
                }
            }
            else
            {
                var profile = Profiles.Find(profileArg);
                if (profile is null)
                {
                    return Bad(stderr, UnknownProfile(profileArg));
                }

                if (factory.ManifestFor(profile) is null)
                {
                    var claimed = Profiles.All.Where(x => factory.ManifestFor(x) is not null).Select(x => x.Id);
                    return Bad(stderr, $"implementation '{implName}' does not claim profile '{profile.Id}'; it claims: {string.Join(", ", claimed)} (or use --profile all)");
                }

                profiles = [profile];
            }

            if (p.GetValue(exhaustiveOpt) is { } depth)
            {
                if (p.GetValue(shardOpt) is not null)
                {
                    return Bad(stderr, "--shard splits a generated run; --exhaustive runs are not sharded");
                }

                if (depth < 0)
                {
                    return Bad(stderr, $"--exhaustive needs a depth of 0 or more actions (got {depth.ToString(CultureInfo.InvariantCulture)}); e.g. --exhaustive 2");
                }

                var failed = false;
                foreach (var profile in profiles)
                {
                    var r = ExhaustiveRun.Run(factory, profile, depth, TimeSpan.FromMilliseconds(timeoutMs), implName);
                    stdout.Write(ExhaustiveRun.Render(r));
                    stderr.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{profile.Id}: exhaustive depth {depth} in {r.Elapsed.TotalSeconds:F1} s"));
                    failed |= !r.Passed;
                }

                return failed ? ExitNotConformant : ExitConformant;
            }

            RunShard? shard = null;
            if (p.GetValue(shardOpt) is { } shardText && (shard = RunShard.Parse(shardText, out var shardError)) is null)
            {
                return Bad(stderr, shardError!);
            }

            var options = new RunOptions
            {
                Shard = shard,
                Seed = seed,
                Sequences = sequences,
                Length = length,
                CommandTimeout = TimeSpan.FromMilliseconds(timeoutMs),
                MaxCounterexamples = maxCounterexamples,
                MaxShrinkRuns = maxShrinkRuns,
                ImplementationId = implName,
                CorpusDirectory = outputs.CorpusDirectory,
            };
            return RunProfiles(stdout, stderr, factory, profiles, options, outputs);
        });

        // Help and parse errors go to the given writers, so tests (and embedders) see them.
        return parse.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr });
    }

    /// <summary>--replay naming a live trace (format gupconformance-live-trace/1) goes to the live runner.</summary>
    private static bool ReplaysLiveTrace(string[] args)
    {
        var i = Array.IndexOf(args, "--replay");
        if (i < 0 || i + 1 >= args.Length || string.IsNullOrWhiteSpace(args[i + 1]))
        {
            return false;
        }

        try
        {
            return Engine.Live.LiveTraceFile.IsLiveTrace(TraceFile.ReadBounded(args[i + 1]));
        }
        catch (TraceFileException)
        {
            return false;
        }
    }

    /// <summary>
    /// The implementation an --impl name (or a trace's recorded one) stands for: a built-in, or process:"PROGRAM ARGS" /
    /// native:PATH — an implementation in another process (Spec/PROTOCOL.md), started here. Null and why, when neither.
    /// </summary>
    private static (IImplementationFactory? Factory, string? Error) Resolve(string implName, int timeoutMs, TextWriter stderr)
    {
        if (Engine.Plugins.PluginResolver.HasScheme(implName))
        {
            try
            {
                // A kernel's build and boot lines are progress the user should see while waiting.
                Action<string>? progress = Engine.Plugins.PluginResolver.IsKernel(implName) ? stderr.WriteLine : null;
                return (Engine.Plugins.PluginResolver.Start(implName, new Engine.Plugins.ProcessOptions
                {
                    CommandTimeout = Engine.Plugins.ProcessOptions.CommandLimitFor(TimeSpan.FromMilliseconds(Math.Max(1, timeoutMs))),
                    Progress = progress,
                }), null);
            }
            catch (Engine.Plugins.PluginSetupException e)
            {
                return (null, e.Message);
            }
        }

        return Implementations.TryGetValue(implName, out var make)
            ? (make(), null)
            : (null, $"unknown implementation '{implName}'; known implementations: {string.Join(", ", Implementations.Keys)}, or process:\"PROGRAM ARGS\", native:PATH.so (use --impl NAME)");
    }

    private static int Bad(TextWriter stderr, string message)
    {
        stderr.WriteLine($"error: {message}");
        return ExitBadArguments;
    }

    private static string UnknownProfile(string id)
        => $"unknown profile '{id}'; known profiles: {string.Join(", ", Profiles.All.Select(x => x.Id))} (or 'all')";

    /// <summary>Decimal, 0x-hex, or "random" (a fresh seed, printed in the header so the run can be replayed).</summary>
    public static bool TryParseSeed(string text, out ulong seed)
    {
        text = text.Trim();
        if (string.Equals(text, "random", StringComparison.OrdinalIgnoreCase))
        {
            seed = (ulong)System.Random.Shared.NextInt64(long.MaxValue);
            return true;
        }

        if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            return ulong.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out seed);
        }

        return ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out seed);
    }

    private static int RunProfiles(TextWriter stdout, TextWriter stderr, IImplementationFactory factory, List<Profile> profiles, RunOptions options, RunnerOutputs outputs)
    {
        var results = new List<RunResult>();
        var total = System.Diagnostics.Stopwatch.StartNew();
        foreach (var profile in profiles)
        {
            var progress = new ProgressPrinter(stderr, profile.Id);
            RunResult result;
            try
            {
                result = ConformanceRun.Run(factory, profile, options with { Progress = progress.Update });
            }
            catch (Exception e)
            {
                progress.Done(null);
                stderr.WriteLine($"error: the run under {profile.Id} stopped: {e.GetType().Name}: {e.Message}");
                return ExitNotConformant;
            }

            progress.Done(result);
            if (results.Count > 0)
            {
                stdout.WriteLine();
                stdout.WriteLine(new string('=', 100));
                stdout.WriteLine();
            }

            stdout.Write(ReportWriter.Render(result));
            stdout.Flush();
            results.Add(result);
        }

        if (results.Count > 1)
        {
            stdout.WriteLine();
            stdout.WriteLine("All profiles:");
            var width = results.Max(r => r.Profile.Id.Length);
            foreach (var r in results)
            {
                stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  {r.Profile.Id.PadRight(width)}  {(r.Conformant ? "CONFORMANT" : "NOT CONFORMANT"),-14}  {r.Count(Outcome.Pass),3} pass, {r.Count(Outcome.Fail),3} fail, {r.Count(Outcome.NotApplicable),3} n/a, {r.Count(Outcome.ExpectedDivergence),3} expected divergence"));
            }

            var ok = results.Count(r => r.Conformant);
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Verdict: {ok} of {results.Count} profiles conformant"));
            stderr.WriteLine(string.Create(CultureInfo.InvariantCulture, $"total elapsed {total.Elapsed.TotalSeconds:F1} s"));
        }

        if (!outputs.Write(results, factory, stdout, stderr))
        {
            return ExitNotConformant;
        }

        if (options.Shard is { } shard)
        {
            // A share alone cannot judge the run as a whole (a rule another shard exercises is "never exercised" here):
            // a shard fails only on a failing sequence or a problem, and the merge of all shards gives the verdict.
            var failed = results.Any(r => r.Problems.Count > 0 || r.FailingSequences > 0 || r.Counterexamples.Count > 0);
            stdout.WriteLine($"Shard {shard}: {(failed ? "a sequence of this share failed" : "every sequence of this share passed")}; the verdict of the run is the merge's: gupconformance merge SHARD.json...");
            return failed ? ExitNotConformant : ExitConformant;
        }

        return results.All(r => r.Conformant) ? ExitConformant : ExitNotConformant;
    }

    private static void ListProfiles(TextWriter stdout, IImplementationFactory factory)
    {
        var width = Profiles.All.Max(p => p.Id.Length);
        stdout.WriteLine($"{"Profile".PadRight(width)}  Kind      Claimed  Title");
        foreach (var p in Profiles.All)
        {
            var kind = p.IsProposal ? "proposal" : "released";
            var claimed = factory.ManifestFor(p) is null ? "no" : "yes";
            var def = p == Profiles.Default ? " (default)" : string.Empty;
            stdout.WriteLine($"{p.Id.PadRight(width)}  {kind,-8}  {claimed,-7}  {p.Title}{def}");
        }
    }

    private static void ListRules(TextWriter stdout, Profile? profile)
    {
        var rules = profile is null ? Rules.All : Rules.All.Where(r => r.Applies(profile)).ToList();
        var width = rules.Max(r => r.Id.Length);
        if (profile is not null)
        {
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{rules.Count} rules apply to {profile.Id}:"));
        }

        stdout.WriteLine($"{"Rule".PadRight(width)}  Level   Facet         Title");
        foreach (var r in rules)
        {
            stdout.WriteLine($"{r.Id.PadRight(width)}  {ReportWriter.LevelText(r.Level),-6}  {r.Facet,-12}  {r.Title}");
        }
    }

    /// <summary>Progress on stderr: a line at most every two seconds (or a live line on a terminal), then the elapsed time.</summary>
    private sealed class ProgressPrinter
    {
        private readonly TextWriter _err;
        private readonly string _profile;
        private readonly bool _live;
        private TimeSpan _last = TimeSpan.Zero;
        private bool _wroteLive;

        public ProgressPrinter(TextWriter err, string profile)
        {
            _err = err;
            _profile = profile;
            _live = ReferenceEquals(err, Console.Error) && !Console.IsErrorRedirected;
        }

        public void Update(RunProgress p)
        {
            var every = _live ? TimeSpan.FromMilliseconds(200) : TimeSpan.FromSeconds(2);
            if (p.Elapsed - _last < every)
            {
                return;
            }

            _last = p.Elapsed;
            var text = string.Create(CultureInfo.InvariantCulture,
                $"[{_profile}] {p.SequencesDone}/{p.SequencesTotal} sequences, {p.FailingSequences} failing{(p.Shrinking ? ", shrinking" : string.Empty)} ({p.Elapsed.TotalSeconds:F1} s)");
            if (_live)
            {
                _err.Write("\r" + text.PadRight(79));
                _wroteLive = true;
            }
            else
            {
                _err.WriteLine(text);
            }
        }

        public void Done(RunResult? r)
        {
            if (_wroteLive)
            {
                _err.Write("\r" + new string(' ', 79) + "\r");
            }

            if (r is not null)
            {
                var rate = r.Elapsed.TotalSeconds > 0 ? r.SequencesRun / r.Elapsed.TotalSeconds : 0;
                _err.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"[{_profile}] {r.SequencesRun} sequences, {r.CommandsExecuted} commands in {r.Elapsed.TotalSeconds:F1} s ({rate:F0} sequences/s)"));
            }
        }
    }
}
