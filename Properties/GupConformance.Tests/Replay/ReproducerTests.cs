using System.Reflection;
using System.Runtime.Loader;
using GupConformance.Engine;
using GupConformance.Fixtures;
using GupConformance.Spec;
using GupConformance.Tests.Snapshots;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace GupConformance.Tests.Replay;

/// <summary>
/// Emitted reproducers are real tests: compiled in memory with Roslyn (Microsoft.CodeAnalysis.CSharp) against
/// the Spec, Fixtures and xunit assemblies this test runs with, they fail against the broken implementation they
/// came from (with the first divergent observation) and pass against the reference implementation.
/// </summary>
public sealed class ReproducerTests
{
    public static TheoryData<string, string> Broken => ReportSnapshotTests.Broken;

    [Theory]
    [MemberData(nameof(Broken))]
    public void The_emitted_reproducer_compiles_and_fails_against_the_broken_implementation(string impl, string profile)
    {
        var result = ReportSnapshotTests.RunBroken(impl, profile);
        var c = result.Counterexamples[0];
        var failing = CompileAndRun(ReproducerEmitter.Emit(c));
        Assert.NotNull(failing);
        if (c.Kind == FailureKind.Divergence)
        {
            // It fails on the first divergent observation, expecting what the model allows.
            Assert.IsAssignableFrom<Xunit.Sdk.XunitException>(failing);
            Assert.Contains(c.Mismatches[0].Allowed[0], failing!.Message, StringComparison.Ordinal);
        }

        // The same commands against the reference implementation: the reproducer passes.
        var passing = CompileAndRun(ReproducerEmitter.Emit(c, ReproducerEmitter.FactoryExpression("reference")));
        Assert.Null(passing);
    }

    [Fact]
    public void Command_literals_rebuild_equal_commands()
    {
        var cmds = Profiles.All.SelectMany(p => new SequenceGenerator(p, p.Facets).Generate(3, 40)).ToArray();
        var code = $$"""
            using GupConformance.Spec;
            public static class Commands
            {
                public static Command[] All() => new Command[] { {{string.Join(",\n", cmds.Select(ReproducerEmitter.Literal))}} };
            }
            """;
        var assembly = Compile(code);
        var rebuilt = (Command[])assembly.GetType("Commands")!.GetMethod("All")!.Invoke(null, null)!;
        Assert.Equal(cmds, rebuilt);
    }

    /// <summary>Compiles the reproducer, runs its one [Fact] method, and returns the exception it failed with (null: it passed).</summary>
    private static Exception? CompileAndRun(string code)
    {
        var assembly = Compile(code);
        var type = Assert.Single(assembly.GetTypes(), t => t.GetMethods().Any(m => m.GetCustomAttribute<FactAttribute>() is not null));
        var method = type.GetMethods().Single(m => m.GetCustomAttribute<FactAttribute>() is not null);
        var instance = Activator.CreateInstance(type);
        try
        {
            method.Invoke(instance, null);
            return null;
        }
        catch (TargetInvocationException e)
        {
            return e.InnerException;
        }
    }

    private static Assembly Compile(string code)
    {
        var trusted = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        var references = trusted
            .Concat([typeof(Command).Assembly.Location, typeof(KernelStyleFactory).Assembly.Location, typeof(FactAttribute).Assembly.Location, typeof(Assert).Assembly.Location])
            .Distinct(StringComparer.Ordinal)
            .Select(p => MetadataReference.CreateFromFile(p));
        var compilation = CSharpCompilation.Create(
            "Reproducer" + Guid.NewGuid().ToString("N"),
            [CSharpSyntaxTree.ParseText(code, new CSharpParseOptions(LanguageVersion.Latest))],
            references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        using var pe = new MemoryStream();
        var emitted = compilation.Emit(pe);
        var errors = emitted.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error || d.Severity == DiagnosticSeverity.Warning).ToList();
        Assert.True(emitted.Success && errors.Count == 0, "the emitted code does not compile cleanly:\n" + string.Join("\n", errors) + "\n\n" + code);
        pe.Position = 0;
        return AssemblyLoadContext.Default.LoadFromStream(pe);
    }
}
