using System.Diagnostics;
using GupConformance.Engine.Plugins;

namespace GupConformance.Tests;

/// <summary>
/// The Python interpreter the tests start their plug-ins, fake guests and VM hosts with: python3 from PATH, resolved
/// once to the interpreter it runs (its sys.executable). Where python3 on PATH is a version manager's shim (pyenv's is a
/// shell script that works out the version on every start), each start through PATH took 0.33 s here against 0.06 s
/// for the interpreter itself, and the tests start Python a few hundred times. When the question cannot be answered,
/// the tests use python3 from PATH as before.
/// </summary>
internal static class PythonInterpreter
{
    private static readonly Lazy<string> Resolved = new(Resolve);

    /// <summary>The interpreter's path (or "python3").</summary>
    public static string Path => Resolved.Value;

    /// <summary>The interpreter started with <paramref name="arguments"/> (a script and its arguments).</summary>
    public static ProcessLaunch Launch(params string[] arguments) => new(Path, arguments);

    /// <summary>The same as a command line, quoted as a user would type it (for --impl process:… and --qemu).</summary>
    public static string CommandLine(params string[] arguments) => Launch(arguments).Display;

    private static string Resolve()
    {
        try
        {
            var psi = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add("import sys; print(sys.executable)");
            using var p = Process.Start(psi)!;
            var output = p.StandardOutput.ReadToEndAsync();
            _ = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(30_000))
            {
                p.Kill(entireProcessTree: true);
                return "python3";
            }

            var path = output.Result.Trim();
            return p.ExitCode == 0 && System.IO.Path.IsPathRooted(path) && File.Exists(path) ? path : "python3";
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
        {
            return "python3";
        }
    }
}
