using GupConformance.Engine.Plugins;
using GupConformance.Runner;

namespace GupConformance.Tests;

/// <summary>
/// Bad input to the suite about plugged-in implementations: each is one line on stderr naming the cause and the fix,
/// and exit code 2.
/// </summary>
public sealed class PluginArgumentTests
{
    private static readonly string Faults = Path.Combine(AppContext.BaseDirectory, "protocol-faults");
    private static readonly string PythonImpl = Path.Combine(AppContext.BaseDirectory, "python", "gup_impl.py");

    private static (int Exit, string Error) RunRunner(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = Program.Run(args, stdout, stderr);
        return (exit, stderr.ToString());
    }

    private static void AssertBad((int Exit, string Error) r, params string[] mentions)
    {
        Assert.Equal(Program.ExitBadArguments, r.Exit);
        var line = Assert.Single(r.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.StartsWith("error: ", line, StringComparison.Ordinal);
        foreach (var m in mentions)
        {
            Assert.Contains(m, line, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Unknown_scheme() =>
        AssertBad(RunRunner("--impl", "ftp:somewhere"), "unknown implementation scheme 'ftp:'", "process:", "native:");

    [Fact]
    public void Missing_library() =>
        AssertBad(RunRunner("--impl", "native:/nonexistent/libnothing.so"), "'/nonexistent/libnothing.so' not found", "gcc -shared");

    [SkippableFact]
    public void Library_without_the_expected_symbols()
    {
        Skip.IfNot(File.Exists(PluginResolver.NativeHostPath) && NativeLibraries.GccAvailable, "needs gcc");
        var lib = NativeLibraries.Build("nosymbols", NativeLibraries.NoSymbols);
        AssertBad(RunRunner("--impl", "native:" + lib), "does not export gupc_abi_version", "fix: export every function declared in Spec/gupconformance.h");
    }

    [SkippableFact]
    public void Library_with_the_wrong_abi_version()
    {
        Skip.IfNot(File.Exists(PluginResolver.NativeHostPath) && NativeLibraries.GccAvailable, "needs gcc");
        var lib = NativeLibraries.Build("wrongabi", NativeLibraries.WrongAbi);
        AssertBad(RunRunner("--impl", "native:" + lib), "C ABI version 99", "host speaks version 1", "fix: rebuild");
    }

    [Fact]
    public void Process_that_cannot_start() =>
        AssertBad(RunRunner("--impl", "process:/nonexistent/bin/my-impl --flag"), "could not start '/nonexistent/bin/my-impl --flag'", "fix: check the program name");

    [Fact]
    public void Unbalanced_quote_in_the_command_line() =>
        AssertBad(RunRunner("--impl", "process:python3 'unterminated"), "unbalanced", "close the quote");

    [Fact]
    public void Unknown_profile_with_a_process_implementation() =>
        AssertBad(RunRunner("--impl", "process:" + PythonInterpreter.CommandLine(PythonImpl), "--profile", "linux-9.9"), "unknown profile 'linux-9.9'", "known profiles:");

    [Fact]
    public void Profile_the_process_does_not_claim() =>
        AssertBad(RunRunner("--impl", "process:" + PythonInterpreter.CommandLine(Path.Combine(Faults, "malformed_json.py")), "--profile", "linux-6.5"), "does not claim profile 'linux-6.5'", "linux-6.18");

    [Fact]
    public void Manifest_claiming_a_facet_the_profile_does_not_have() =>
        AssertBad(RunRunner("--impl", "process:" + PythonInterpreter.CommandLine(Path.Combine(Faults, "bad_facet.py"))), "claims facet iov_iter under profile 'linux-5.6'", "remove it from that manifest");

    [Fact]
    public void Protocol_version_mismatch() =>
        AssertBad(RunRunner("--impl", "process:" + PythonInterpreter.CommandLine(Path.Combine(Faults, "version_2.py"))), "the engine speaks protocol version 1, the implementation speaks 2", "fix:");

    [Fact]
    public void A_conforming_process_implementation_exits_zero()
    {
        var r = RunRunner("--impl", "process:" + PythonInterpreter.CommandLine(PythonImpl), "--profile", "linux-6.18", "--sequences", "150");
        Assert.True(r.Exit == Program.ExitConformant, r.Error);
    }
}
