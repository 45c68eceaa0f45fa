using GupConformance.Engine.Plugins;
using GupConformance.Spec;

namespace GupConformance.Tests.Scenarios;

/// <summary>
/// Replays a scenario on the C library and the Python process too. Apart from ScenarioSupport.cs because the
/// mutation test project (stryker/) links the scenario files but does not build those implementations.
/// </summary>
internal static partial class ScenarioSupport
{
    internal static readonly ProcessOptions Quick = new()
    {
        CommandTimeout = TimeSpan.FromSeconds(4),
        StartTimeout = TimeSpan.FromSeconds(20),
        RunTimeout = TimeSpan.FromSeconds(60),
    };

    /// <summary>The reference, the C library (when gcc built it) and the Python process all agree with the model.</summary>
    internal static void AssertCoreImplementationsAgree(string profileId, params Command[] actions)
    {
        AssertReferenceAgrees(profileId, actions);
        using (var python = ProcessImplementationFactory.Start(PythonInterpreter.Launch(Path.Combine(AppContext.BaseDirectory, "python", "gup_impl.py")), Quick))
        {
            AssertAgrees(python, profileId, actions);
        }

        if (File.Exists(PluginResolver.NativeHostPath))
        {
            using var native = PluginResolver.Start("native:bundled", Quick);
            AssertAgrees(native, profileId, actions);
        }
    }
}
