using GupConformance.Runner;

namespace GupConformance.Tests;

/// <summary>The main job's command line: help, the exit codes, and a clear message for every bad argument.</summary>
public sealed class RunnerTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = Program.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void Help_lists_the_options_and_exits_0()
    {
        var (code, output, _) = Run("--help");
        Assert.Equal(0, code);
        foreach (var option in new[] { "--profile", "--seed", "--sequences", "--length", "--impl" })
        {
            Assert.Contains(option, output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_conformant_run_exits_0_and_prints_the_seed_and_the_rule_table()
    {
        var (code, output, _) = Run("--profile", "linux-6.8", "--seed", "5");
        Assert.Equal(0, code);
        Assert.Contains("Seed:", output, StringComparison.Ordinal);
        Assert.Contains("PIN-BIAS-SMALL", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("unknown profile", "--profile", "linux-9.99")]
    [InlineData("sequences", "--sequences", "0")]
    [InlineData("length", "--length", "-3")]
    [InlineData("seed", "--seed", "banana")]
    [InlineData("implementation", "--impl", "nope")]
    [InlineData("unrecognized", "--frobnicate")]
    public void A_bad_argument_exits_2_with_a_one_line_message_naming_it(string expected, params string[] args)
    {
        var (code, _, err) = Run(args);
        Assert.Equal(2, code);
        Assert.Contains(expected, err, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void An_unknown_profile_message_lists_the_known_profiles()
    {
        var (_, _, err) = Run("--profile", "linux-9.99");
        Assert.Contains("linux-6.18", err, StringComparison.Ordinal);
        Assert.Contains("proposal-2015-get-vaddr-pfns", err, StringComparison.Ordinal);
    }
}
