using System.Diagnostics;
using GupConformance.Engine;
using GupConformance.Engine.Plugins;
using GupConformance.Spec;

namespace GupConformance.Tests;

/// <summary>
/// The process protocol (Spec/PROTOCOL.md): the Python and the native C implementations conform through it, and
/// every fault of a deliberately faulty implementation (protocol-faults/*.py) becomes a named failure with the
/// sequence prefix that led to it — never a hang, never a crash of the engine. Time limits are short and bounded.
/// </summary>
public sealed class ProtocolTests
{
    private static readonly string Faults = Path.Combine(AppContext.BaseDirectory, "protocol-faults");
    private static readonly string PythonImpl = Path.Combine(AppContext.BaseDirectory, "python", "gup_impl.py");

    /// <summary>Bounded limits, generous enough for a loaded CI machine.</summary>
    private static readonly ProcessOptions Quick = new()
    {
        CommandTimeout = TimeSpan.FromSeconds(4),
        StartTimeout = TimeSpan.FromSeconds(20),
        RunTimeout = TimeSpan.FromSeconds(60),
    };

    /// <summary>For the hanging implementation: every attempt costs the per-command limit.</summary>
    private static readonly ProcessOptions HangLimit = Quick with { CommandTimeout = TimeSpan.FromMilliseconds(700) };

    private static ProcessLaunch Python(string script) => PythonInterpreter.Launch(script);

    private static ProcessLaunch Fault(string script) => Python(Path.Combine(Faults, script));

    private static RunResult Run(IImplementationFactory factory, string profile, int sequences, int maxShrinkRuns = 1500, bool stopAtFirstFailure = false, GeneratorWeights? weights = null) =>
        ConformanceRun.Run(factory, Profiles.Get(profile), new RunOptions
        {
            Sequences = sequences,
            Length = 40,
            MaxShrinkRuns = maxShrinkRuns,
            StopAtFirstFailure = stopAtFirstFailure,
            CommandTimeout = TimeSpan.FromSeconds(5),
            Weights = weights,
        });

    private static string Describe(RunResult r) => string.Join("; ",
        r.Verdicts.Where(v => v.Outcome == Outcome.Fail).Select(v => $"{v.Rule.Id}: {v.Note}").Concat(r.Problems)
            .Concat(r.Counterexamples.Select(c => $"{c.Kind}: {c.Message}")));

    // linux-6.18 is checked end to end through the runner (PluginArgumentTests).
    [Theory]
    [InlineData("linux-6.2")]
    public void Python_implementation_conforms_for_core(string profile)
    {
        using var factory = ProcessImplementationFactory.Start(Python(PythonImpl), Quick);
        var manifest = factory.ManifestFor(Profiles.Get(profile));
        Assert.NotNull(manifest);
        Assert.Equal(Facet.Core | Facet.LargeFolios | Facet.ZeroPage, manifest.Facets);

        var r = Run(factory, profile, 120);

        Assert.True(r.Conformant, Describe(r));
        Assert.Equal(1, factory.ProcessesStarted);
        foreach (var v in r.Verdicts.Where(v => v.Rule.Facet is Facet.IovIter or Facet.Bio or Facet.FrameVector or Facet.Netfs))
        {
            Assert.Equal(Outcome.NotApplicable, v.Outcome);
        }
    }

    [SkippableTheory]
    [InlineData("linux-6.18", false)]
    [InlineData("linux-6.5", false)]
    [InlineData("linux-6.18", true)]
    public void Native_C_implementation_conforms_through_its_host(string profile, bool stdoutReaderThread)
    {
        Skip.IfNot(File.Exists(PluginResolver.NativeHostPath), "gcc was not available at build time");
        using var factory = PluginResolver.Start("native:bundled", Quick with { StdoutReaderThread = stdoutReaderThread });
        Assert.Equal("c-kernel-style", factory.Name);

        var r = Run(factory, profile, 120);

        Assert.True(r.Conformant, Describe(r));
        Assert.Equal(Outcome.Pass, r.Verdicts.Single(v => v.Rule.Id == "PIN-BIAS-SMALL").Outcome);
    }

    [Theory]
    [InlineData("malformed_json.py", ProtocolFault.MalformedJson, false)]
    [InlineData("unknown_command.py", ProtocolFault.UnknownCommand, false)]
    [InlineData("unknown_message.py", ProtocolFault.UnknownMessage, false)]
    [InlineData("missing_field.py", ProtocolFault.MissingField, false)]
    [InlineData("wrong_type.py", ProtocolFault.WrongType, false)]
    [InlineData("out_of_order.py", ProtocolFault.OutOfOrder, false)]
    [InlineData("missing_response.py", ProtocolFault.MissingResponse, false)]
    [InlineData("extra_output.py", ProtocolFault.ExtraOutput, false)]
    [InlineData("exits_mid_run.py", ProtocolFault.ProcessExited, false)]
    [InlineData("segfaults.py", ProtocolFault.KilledBySignal, false)]
    [InlineData("hangs.py", ProtocolFault.Hang, false)]
    [InlineData("malformed_json.py", ProtocolFault.MalformedJson, true)]
    [InlineData("extra_output.py", ProtocolFault.ExtraOutput, true)]
    [InlineData("exits_mid_run.py", ProtocolFault.ProcessExited, true)]
    [InlineData("segfaults.py", ProtocolFault.KilledBySignal, true)]
    [InlineData("hangs.py", ProtocolFault.Hang, true)]
    public void A_protocol_fault_is_a_named_failure_with_the_sequence_prefix(string script, ProtocolFault fault, bool stdoutReaderThread)
    {
        var clock = Stopwatch.StartNew();
        var options = (fault == ProtocolFault.Hang ? HangLimit : Quick) with { StdoutReaderThread = stdoutReaderThread };
        using var factory = ProcessImplementationFactory.Start(Fault(script), options);

        // Two sequences: every one fails, and each failure is shrunk a little (every attempt starts a fresh process).
        var r = Run(factory, "linux-6.18", 2, maxShrinkRuns: fault == ProtocolFault.Hang ? 2 : 4, stopAtFirstFailure: true);

        Assert.False(r.Conformant);
        var name = $"ProcessProtocolException[{fault}]";
        Assert.Contains(r.Problems, p => p.Contains(name, StringComparison.Ordinal));
        var cx = Assert.Single(r.Counterexamples);
        Assert.Equal(FailureKind.Crash, cx.Kind);
        Assert.Contains($"protocol fault {fault}", cx.Message, StringComparison.Ordinal);
        Assert.NotNull(cx.FailedAction);
        Assert.NotEmpty(cx.Commands);
        Assert.True(cx.FailedAction < cx.Commands.Count + 1);
        // Every fault script misbehaves on the first batch holding a gup: the prefix is short and ends at or after one.
        Assert.Contains(cx.Commands.Take(cx.FailedAction!.Value + 1), c => c is Gup);
        if (fault == ProtocolFault.KilledBySignal)
        {
            Assert.Contains("SIGSEGV", cx.Message, StringComparison.Ordinal);
        }

        if (fault == ProtocolFault.ProcessExited)
        {
            Assert.Contains("exited with code 3", cx.Message, StringComparison.Ordinal);
            Assert.Contains("giving up", cx.Message, StringComparison.Ordinal);
        }

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(90), $"took {clock.Elapsed}");
    }

    [Fact]
    public void Stderr_chatter_is_captured_and_not_a_fault()
    {
        var lines = 0;
        using var factory = ProcessImplementationFactory.Start(Fault("stderr_chatter.py"), Quick with { Stderr = _ => Interlocked.Increment(ref lines) });

        var r = Run(factory, "linux-6.18", 3);

        Assert.Empty(r.Problems);
        Assert.Empty(r.Counterexamples);
        Assert.True(Volatile.Read(ref lines) > 0);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_reply_written_in_pieces_is_read_as_one_line(bool stdoutReaderThread)
    {
        using var factory = ProcessImplementationFactory.Start(Fault("dribbles.py"), Quick with { StdoutReaderThread = stdoutReaderThread });

        var r = Run(factory, "linux-6.18", 3);

        Assert.True(r.CommandsExecuted > 0);
        Assert.Empty(r.Problems);
        Assert.Empty(r.Counterexamples);
        Assert.Equal(1, factory.ProcessesStarted);
    }

    [Fact]
    public void Batching_sends_an_action_and_its_inspections_as_one_batch()
    {
        using var batched = ProcessImplementationFactory.Start(Python(PythonImpl), Quick);
        using var single = ProcessImplementationFactory.Start(Python(PythonImpl), Quick with { Batching = false });

        var a = Run(batched, "linux-6.18", 10);
        var b = Run(single, "linux-6.18", 10);

        // The same sequences, the same verdicts: batching changes the number of round trips, nothing else.
        Assert.Equal(b.CommandsExecuted, a.CommandsExecuted);
        Assert.Equal(b.Verdicts.Select(v => (v.Rule.Id, v.Outcome, v.Exercised)), a.Verdicts.Select(v => (v.Rule.Id, v.Outcome, v.Exercised)));
    }

    [Fact]
    public void A_version_mismatch_names_both_versions()
    {
        var e = Assert.Throws<PluginSetupException>(() => ProcessImplementationFactory.Start(Fault("version_2.py"), Quick));

        Assert.Contains("protocol version 1", e.Message, StringComparison.Ordinal);
        Assert.Contains("speaks 2", e.Message, StringComparison.Ordinal);
        Assert.Contains("fix:", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_manifest_claiming_a_facet_its_profile_lacks_is_refused()
    {
        var e = Assert.Throws<PluginSetupException>(() => ProcessImplementationFactory.Start(Fault("bad_facet.py"), Quick));

        Assert.Contains("iov_iter", e.Message, StringComparison.Ordinal);
        Assert.Contains("linux-5.6", e.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void A_segfault_in_a_native_library_is_a_failure_naming_the_signal()
    {
        Skip.IfNot(File.Exists(PluginResolver.NativeHostPath), "gcc was not available at build time");
        var lib = NativeLibraries.Build("crashing", NativeLibraries.Crashing);
        using var factory = PluginResolver.Start("native:" + lib, Quick);

        // Only refcount-1 regions and no steering toward other start refcounts: the tiny library reports refcount 1 for
        // every folio, so a region mapped at another refcount would diverge before any call could crash it.
        var smallOnly = GeneratorWeights.Default with
        {
            RegionWeights = GeneratorWeights.Default.RegionWeights.ToDictionary(kv => kv.Key, kv => kv.Key == RegionTemplates.Small ? 1 : 0, StringComparer.Ordinal),
            DirectedPercent = 0,
        };
        var r = Run(factory, "linux-6.18", 3, maxShrinkRuns: 4, stopAtFirstFailure: false, weights: smallOnly);

        // (The tiny library also diverges on refcounts; the crash is its own counterexample.)
        var cx = Assert.Single(r.Counterexamples, c => c.Kind == FailureKind.Crash);
        Assert.True(cx.Message!.Contains("protocol fault KilledBySignal", StringComparison.Ordinal), cx.Message);
        Assert.Contains("signal 11 (SIGSEGV)", cx.Message, StringComparison.Ordinal);
        Assert.IsType<Gup>(cx.Commands[cx.FailedAction!.Value]);
    }
}

/// <summary>Tiny C libraries for the native tests, compiled with gcc into a temp folder.</summary>
internal static class NativeLibraries
{
    private const string Common = """
        #include <stdlib.h>
        #include <string.h>
        #include "gupconformance.h"
        struct gupc_instance { int unused; };
        const char *gupc_name(void) { return "tiny"; }
        int gupc_manifest(unsigned int i, struct gupc_manifest *m) { if (i) return -1; m->profile = "linux-6.18"; m->facets = GUPC_FACET_CORE; return 0; }
        struct gupc_instance *gupc_create(const char *p) { (void)p; return calloc(1, sizeof(struct gupc_instance)); }
        const char *gupc_error(struct gupc_instance *i) { (void)i; return ""; }
        void gupc_destroy(struct gupc_instance *i) { free(i); }
        """;

    /// <summary>Answers map and inspections plausibly, then segfaults on the first gup.</summary>
    public const string Crashing = Common + """
        uint32_t gupc_abi_version(void) { return GUPC_ABI_VERSION; }
        int gupc_execute(struct gupc_instance *i, const struct gupc_command *c, struct gupc_observation *o) {
            (void)i;
            switch (c->op) {
            case GUPC_OP_GUP: *(volatile int *)0 = 1; return 0;
            case GUPC_OP_INSPECT_FOLIO: o->present = GUPC_OBS_REFCOUNT | GUPC_OBS_MAYBE_DMA_PINNED | GUPC_OBS_DIRTY; o->refcount = 1; return 0;
            case GUPC_OP_READ_VMSTAT: o->present = GUPC_OBS_ACQUIRED | GUPC_OBS_RELEASED; return 0;
            default: o->present = GUPC_OBS_RESULT; return 0;
            }
        }
        """;

    /// <summary>Every symbol, but built for another ABI version.</summary>
    public const string WrongAbi = Common + """
        uint32_t gupc_abi_version(void) { return 99; }
        int gupc_execute(struct gupc_instance *i, const struct gupc_command *c, struct gupc_observation *o) { (void)i; (void)c; (void)o; return 0; }
        """;

    /// <summary>A shared library without the ABI's symbols.</summary>
    public const string NoSymbols = "int unrelated(void) { return 42; }\n";

    public static bool GccAvailable
    {
        get
        {
            try
            {
                using var p = Process.Start(new ProcessStartInfo("gcc", "--version") { RedirectStandardOutput = true, RedirectStandardError = true });
                p!.WaitForExit(10000);
                return p.ExitCode == 0;
            }
            catch (System.ComponentModel.Win32Exception)
            {
                return false;
            }
        }
    }

    /// <summary>Compiles <paramref name="source"/> into a shared library; returns its path.</summary>
    public static string Build(string name, string source)
    {
        var dir = Path.Combine(Path.GetTempPath(), "gupconformance-native-tests", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Directory.CreateDirectory(dir);
        var c = Path.Combine(dir, name + ".c");
        var so = Path.Combine(dir, "lib" + name + ".so");
        File.WriteAllText(c, source);
        var include = Path.Combine(AppContext.BaseDirectory, "native", "include");
        var psi = new ProcessStartInfo("gcc") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { "-shared", "-fPIC", "-O1", "-I", include, "-o", so, c })
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit(30000);
        Assert.True(p.ExitCode == 0, $"gcc failed: {err}");
        return so;
    }
}
