using GupConformance.Runner;

namespace GupConformance.Tests.Live;

/// <summary>The live options get the main job's checks: every bad value exits 2 with one line naming it, before
/// anything on the machine is touched.</summary>
public sealed class LiveArgumentTests
{
    [Theory]
    [InlineData("--sequences must be a positive number (got '0')", "--live", "--sequences", "0")]
    [InlineData("--sequences must be a positive number (got '-3')", "--live", "--sequences", "-3")]
    [InlineData("--sequences must be a positive number (got 'many')", "--live", "--sequences", "many")]
    [InlineData("--length must be a positive number (got '0')", "--live", "--length", "0")]
    [InlineData("--length must be a positive number (got '-1')", "--live", "--length", "-1")]
    [InlineData("--length must be a positive number (got nothing)", "--live", "--length")]
    [InlineData("--seed must be a 64-bit unsigned number (decimal or 0x-hex) or 'random' (got '18446744073709551616')", "--live", "--seed", "18446744073709551616")]
    [InlineData("--seed must be a 64-bit unsigned number (decimal or 0x-hex) or 'random' (got '-1')", "--live", "--seed", "-1")]
    [InlineData("--seed must be a 64-bit unsigned number (decimal or 0x-hex) or 'random' (got nothing)", "--live", "--seed")]
    [InlineData("unknown live profile 'linux-9.9'; known: linux-6.18", "--live", "--live-profile", "linux-9.9")]
    [InlineData("--live-profile needs a value", "--live", "--live-profile")]
    [InlineData("unknown live option '--frobnicate'", "--live", "--frobnicate")]
    [InlineData("--live-restore takes no other option", "--live-restore", "--seed", "1")]
    public void A_bad_live_argument_exits_2_with_one_line_naming_it(string expected, params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = Program.Run(args, stdout, stderr);
        Assert.Equal(2, code);
        var line = Assert.Single(stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: " + expected, line, StringComparison.Ordinal);
        Assert.Empty(stdout.ToString());
    }
}
