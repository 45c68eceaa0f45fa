namespace GupConformance.Engine.Plugins;

/// <summary>
/// Turns an --impl value with a scheme into a factory: <c>process:"PROGRAM ARGS"</c> (any program speaking the
/// process protocol), <c>native:PATH</c> (a shared library with the C ABI of Spec/gupconformance.h, run inside
/// the native host process, never inside the engine) or <c>kernel:6.12|6.1|PATH</c> (a real kernel booted in QEMU,
/// <see cref="KernelLauncher"/>). Every unusable value is a <see cref="PluginSetupException"/> with one line naming
/// the cause and the fix.
/// </summary>
public static class PluginResolver
{
    public const string ProcessScheme = "process:";
    public const string NativeScheme = "native:";

    /// <summary>The name of the bundled C implementation for <c>native:bundled</c>.</summary>
    public const string Bundled = "bundled";

    /// <summary>True when the value names a scheme (it has a ':'), as opposed to a built-in implementation name.</summary>
    public static bool HasScheme(string impl) => impl.Contains(':', StringComparison.Ordinal);

    /// <summary>Where the build puts the native host and the bundled C implementation.</summary>
    public static string NativeDirectory => Path.Combine(AppContext.BaseDirectory, "native");

    public static string NativeHostPath => Path.Combine(NativeDirectory, "gupconformance-host");

    public static string BundledLibraryPath => Path.Combine(NativeDirectory, "libgupnative.so");

    /// <summary>The environment variable that overrides the profiles a kernel claims (comma-separated ids).</summary>
    public const string KernelProfilesVariable = "GUPCONFORMANCE_KERNEL_PROFILES";

    public static ProcessLaunch Launch(string impl, Action<string>? progress = null)
    {
        if (impl.StartsWith(KernelLauncher.Scheme, StringComparison.Ordinal))
        {
            var image = KernelLauncher.Build(KernelLauncher.Tree(impl), progress);
            return KernelLauncher.Launch(image, Environment.GetEnvironmentVariable(KernelProfilesVariable));
        }

        if (impl.StartsWith(ProcessScheme, StringComparison.Ordinal))
        {
            return ProcessLaunch.Parse(impl[ProcessScheme.Length..]);
        }

        if (impl.StartsWith(NativeScheme, StringComparison.Ordinal))
        {
            var path = impl[NativeScheme.Length..].Trim();
            if (path.Length == 0)
            {
                throw new PluginSetupException($"--impl native: needs the path of a shared library; e.g. --impl native:{Bundled} (the bundled C implementation) or --impl native:./libmyimpl.so");
            }

            if (string.Equals(path, Bundled, StringComparison.Ordinal))
            {
                path = BundledLibraryPath;
            }

            if (!File.Exists(NativeHostPath))
            {
                throw new PluginSetupException($"the native host {NativeHostPath} was not built (gcc was missing when the runner was built); install gcc and rebuild (dotnet build), or use --impl process:\"PROGRAM ARGS\"");
            }

            if (!File.Exists(path))
            {
                var hint = path == BundledLibraryPath
                    ? "the bundled C implementation was not built; install gcc and rebuild (dotnet build)"
                    : $"pass the path of an existing shared library (e.g. build one with gcc -shared -fPIC -o libmy.so my.c -I Spec), or native:{Bundled}";
                throw new PluginSetupException($"library '{path}' not found; {hint}");
            }

            return new ProcessLaunch(NativeHostPath, [Path.GetFullPath(path)]);
        }

        var colon = impl.IndexOf(':', StringComparison.Ordinal);
        throw new PluginSetupException($"unknown implementation scheme '{impl[..(colon + 1)]}' in --impl {impl}; use a built-in name, {ProcessScheme}\"PROGRAM ARGS\", {NativeScheme}PATH.so or {KernelLauncher.Scheme}6.12|6.1|PATH");
    }

    /// <summary>True for a value naming a real kernel (<c>kernel:</c>).</summary>
    public static bool IsKernel(string impl) => impl.StartsWith(KernelLauncher.Scheme, StringComparison.Ordinal);

    /// <summary>
    /// Starts the implementation an --impl value names and performs the handshake. A kernel is built first (progress
    /// to <see cref="ProcessOptions.Progress"/>) and gets the longer time limits a booting guest needs.
    /// </summary>
    public static ProcessImplementationFactory Start(string impl, ProcessOptions? options = null)
    {
        options ??= new ProcessOptions();
        if (IsKernel(impl))
        {
            options = KernelLauncher.Adjust(options, options.Progress);
        }

        return ProcessImplementationFactory.Start(Launch(impl, options.Progress), options);
    }
}
