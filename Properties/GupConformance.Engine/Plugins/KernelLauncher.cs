using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace GupConformance.Engine.Plugins;

/// <summary>A kernel image built (or found in the cache) by Fixtures/Kernel/build-kernel.sh.</summary>
public sealed record KernelImage(string Image, string Initramfs, string Label, string Release, int BuildSeconds, bool Cached, string Cache);

/// <summary>
/// <c>kernel:6.12</c>, <c>kernel:6.1</c>, <c>kernel:PATH</c>: a real Linux kernel as an implementation. The tree is
/// built once with the in-kernel adapter (Fixtures/Kernel/build-kernel.sh, cached per tree, configuration and
/// adapter source), then every implementation process is Fixtures/Kernel/vmhost.py, which boots it in QEMU and
/// bridges the process protocol to the guest server. So a kernel is an ordinary process plug-in: hangs, crashes
/// and malformed output are the named faults of <see cref="ProcessImplementation"/>, and the host adds the
/// guest's panics, oopses and unanticipated WARNs, with an excerpt of the guest log.
/// </summary>
public static class KernelLauncher
{
    public const string Scheme = "kernel:";

    /// <summary>Where the build copies Fixtures/Kernel (next to the runner and the tests).</summary>
    public static string ScriptDirectory => Path.Combine(AppContext.BaseDirectory, "Kernel");

    public static string BuildScript => Path.Combine(ScriptDirectory, "build-kernel.sh");

    public static string HostScript => Path.Combine(ScriptDirectory, "vmhost.py");

    /// <summary>A boot under TCG on a busy machine takes tens of seconds: the handshake may take this long.</summary>
    public static readonly TimeSpan BootTimeout = TimeSpan.FromMinutes(5);

    /// <summary>The default per-call limit for a kernel (a restart after a fault boots a fresh guest).</summary>
    public const int DefaultTimeoutMs = 300_000;

    /// <summary>
    /// The runner's shrink budget for a kernel: a candidate that crashes or WARNs the guest costs a fresh boot (seconds
    /// under TCG), so a shrink gets fewer executions than an in-process implementation's 1500.
    /// </summary>
    public const int DefaultMaxShrinkRuns = 300;

    /// <summary>A run on a guest under TCG may take minutes.</summary>
    public static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(10);

    /// <summary>The tree an --impl value names (the part after <c>kernel:</c>); a one-line error when it is empty.</summary>
    public static string Tree(string impl)
    {
        var tree = impl[Scheme.Length..].Trim();
        if (tree.Length == 0)
        {
            throw new PluginSetupException("--impl kernel: needs a kernel: kernel:6.12 or kernel:6.1 (Debian's linux-source packages) or kernel:PATH (your own kernel source tree)");
        }

        return tree;
    }

    /// <summary>
    /// The cached image for a tree, or null and why not: builds and installs nothing (build-kernel.sh --check).
    /// </summary>
    public static (KernelImage? Image, string? Why) Cached(string tree)
    {
        try
        {
            return (RunScript(tree, check: true, progress: null), null);
        }
        catch (PluginSetupException e)
        {
            return (null, e.Message);
        }
    }

    /// <summary>Builds (or finds) the image for a tree; progress lines go to <paramref name="progress"/>.</summary>
    public static KernelImage Build(string tree, Action<string>? progress) => RunScript(tree, check: false, progress);

    private static KernelImage RunScript(string tree, bool check, Action<string>? progress)
    {
        if (!File.Exists(BuildScript))
        {
            throw new PluginSetupException($"the kernel scripts are missing from {ScriptDirectory}; rebuild the runner (dotnet build) so Fixtures/Kernel is copied next to it");
        }

        var psi = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = new UTF8Encoding(false),
            StandardErrorEncoding = new UTF8Encoding(false),
        };
        psi.ArgumentList.Add(BuildScript);
        if (check)
        {
            psi.ArgumentList.Add("--check");
        }

        psi.ArgumentList.Add(tree);
        Process process;
        try
        {
            process = Process.Start(psi) ?? throw new PluginSetupException("could not start bash to build the kernel");
        }
        catch (Win32Exception e)
        {
            throw new PluginSetupException($"could not start bash to build the kernel: {e.Message}", e);
        }

        using (process)
        {
            string? lastError = null;
            var stderrDone = new ManualResetEventSlim();
            var pump = new Thread(() =>
            {
                try
                {
                    while (process.StandardError.ReadLine() is { } line)
                    {
                        if (line.StartsWith("error: ", StringComparison.Ordinal))
                        {
                            // Said once, by the exception this becomes, not also as progress.
                            lastError = line["error: ".Length..];
                            continue;
                        }

                        if (line.StartsWith("not built: ", StringComparison.Ordinal))
                        {
                            lastError = line;
                        }

                        progress?.Invoke(line);
                    }
                }
                catch (IOException)
                {
                }
                finally
                {
                    stderrDone.Set();
                }
            }) { IsBackground = true, Name = "gupconformance-kernel-build" };
            pump.Start();
            var stdout = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            stderrDone.Wait(TimeSpan.FromSeconds(5));
            if (process.ExitCode != 0)
            {
                throw new PluginSetupException($"kernel:{tree}: {lastError ?? $"build-kernel.sh exited with code {process.ExitCode.ToString(CultureInfo.InvariantCulture)}"}");
            }

            var json = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault()
                ?? throw new PluginSetupException($"kernel:{tree}: build-kernel.sh printed no result line");
            try
            {
                using var doc = JsonDocument.Parse(json);
                var r = doc.RootElement;
                return new KernelImage(
                    r.GetProperty("image").GetString()!,
                    r.GetProperty("initramfs").GetString()!,
                    r.GetProperty("label").GetString()!,
                    r.GetProperty("release").GetString()!,
                    r.GetProperty("build_seconds").GetInt32(),
                    r.GetProperty("cached").GetBoolean(),
                    r.GetProperty("cache").GetString()!);
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                throw new PluginSetupException($"kernel:{tree}: build-kernel.sh printed an unreadable result line: {ProcessWire.Excerpt(json)}", e);
            }
        }
    }

    /// <summary>How the engine starts one guest of an image: the VM host, run without a shell. With
    /// <paramref name="live"/> the guest runs the live layer's agent instead of the guest server.</summary>
    public static ProcessLaunch Launch(KernelImage image, string? profiles = null, bool live = false)
    {
        var logs = Path.Combine(image.Cache, "logs");
        Directory.CreateDirectory(logs);
        var args = new List<string>
        {
            HostScript, "--image", image.Image, "--initramfs", image.Initramfs, "--label", image.Label,
            "--guest-log", Path.Combine(logs, $"last-failure-{Sanitize(image.Label)}.log"),
        };
        if (!string.IsNullOrWhiteSpace(profiles))
        {
            args.Add("--profiles");
            args.Add(profiles.Trim());
        }

        if (live)
        {
            args.Add("--live");
        }

        return new ProcessLaunch("python3", args);
    }

    /// <summary>Options for a kernel: room for booting, and the guest's boot lines shown as progress.</summary>
    public static ProcessOptions Adjust(ProcessOptions options, Action<string>? progress) => options with
    {
        StartTimeout = options.StartTimeout < BootTimeout ? BootTimeout : options.StartTimeout,
        RunTimeout = options.RunTimeout < RunTimeout ? RunTimeout : options.RunTimeout,
        Stderr = options.Stderr ?? progress,
    };

    private static string Sanitize(string s) => new(s.Select(c => char.IsLetterOrDigit(c) || c is '.' or '-' ? c : '_').ToArray());
}
