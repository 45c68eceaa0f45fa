namespace GupConformance.Tests.Snapshots;

/// <summary>The snapshot workflow itself: received on mismatch with a diff, accept (never under CI=true), stale received removed, paths.</summary>
public sealed class SnapshotAssertTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "gupconformance-snapshots-" + Guid.NewGuid().ToString("N"));

    public SnapshotAssertTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Func<string, string?> Env(params (string Key, string Value)[] vars) =>
        key => vars.FirstOrDefault(v => v.Key == key).Value;

    private string Verified => Path.Combine(_dir, "T.M.verified.md");

    private string Received => Path.Combine(_dir, "T.M.received.md");

    [Fact]
    public void A_missing_snapshot_fails_and_writes_the_received_file()
    {
        var o = SnapshotAssert.Check(_dir, "T.M", "md", "hello\n", Env());
        Assert.False(o.Passed);
        Assert.Contains("New snapshot", o.Message, StringComparison.Ordinal);
        Assert.Equal("hello\n", File.ReadAllText(Received));
        Assert.False(File.Exists(Verified));
    }

    [Fact]
    public void A_mismatch_writes_received_and_shows_a_readable_diff()
    {
        File.WriteAllText(Verified, "a\nb\nc\nd\n");
        var o = SnapshotAssert.Check(_dir, "T.M", "md", "a\nB\nc\nd\n", Env());
        Assert.False(o.Passed);
        Assert.Contains("- b\n+ B\n", o.Message, StringComparison.Ordinal);
        Assert.Contains("GUPCONFORMANCE_ACCEPT=1", o.Message, StringComparison.Ordinal);
        Assert.Equal("a\nB\nc\nd\n", File.ReadAllText(Received));
        Assert.Equal("a\nb\nc\nd\n", File.ReadAllText(Verified));
    }

    [Fact]
    public void Accept_replaces_the_verified_file_and_removes_the_received_one()
    {
        File.WriteAllText(Verified, "old\n");
        File.WriteAllText(Received, "stale\n");
        var o = SnapshotAssert.Check(_dir, "T.M", "md", "new\n", Env(("GUPCONFORMANCE_ACCEPT", "1")));
        Assert.True(o.Passed);
        Assert.True(o.Accepted);
        Assert.Equal("new\n", File.ReadAllText(Verified));
        Assert.False(File.Exists(Received));
    }

    [Fact]
    public void Accept_is_refused_under_CI_true()
    {
        File.WriteAllText(Verified, "old\n");
        var o = SnapshotAssert.Check(_dir, "T.M", "md", "new\n", Env(("GUPCONFORMANCE_ACCEPT", "1"), ("CI", "true")));
        Assert.False(o.Passed);
        Assert.False(o.Accepted);
        Assert.Contains("refused under CI=true", o.Message, StringComparison.Ordinal);
        Assert.Equal("old\n", File.ReadAllText(Verified));
        Assert.Equal("new\n", File.ReadAllText(Received));
    }

    [Fact]
    public void A_match_removes_a_stale_received_file_and_ignores_line_ending_differences()
    {
        File.WriteAllText(Verified, "same\nlines\n");
        File.WriteAllText(Received, "something else\n");
        var o = SnapshotAssert.Check(_dir, "T.M", "md", "same\r\nlines\r\n", Env());
        Assert.True(o.Passed);
        Assert.False(File.Exists(Received));
    }

    [Fact]
    public void Paths_mapped_to_slash_underscore_resolve_under_the_repository()
    {
        var expected = RepoPaths.Of("Properties", "GupConformance.Tests", "Snapshots");
        Assert.Equal(expected, SnapshotAssert.SourceDirectory("/_/Properties/GupConformance.Tests/Snapshots/ReportSnapshotTests.cs"));
        Assert.Equal(expected, SnapshotAssert.SourceDirectory("/_/Snapshots/ReportSnapshotTests.cs"));
        Assert.Equal(Path.GetDirectoryName(Verified), SnapshotAssert.SourceDirectory(Path.Combine(_dir, "T.cs")));
    }

    [Fact]
    public void Every_verified_snapshot_belongs_to_a_test()
    {
        var dir = RepoPaths.Of("Properties", "GupConformance.Tests", "Snapshots");
        var methods = typeof(ReportSnapshotTests).GetMethods().Select(m => $"ReportSnapshotTests.{m.Name}").ToHashSet(StringComparer.Ordinal);
        foreach (var file in Directory.GetFiles(dir, "*.verified.*"))
        {
            var name = Path.GetFileName(file);
            var stem = name[..name.IndexOf(".verified.", StringComparison.Ordinal)];
            Assert.True(
                methods.Any(m => stem == m || (stem.StartsWith(m + "_", StringComparison.Ordinal) && stem[(m.Length + 1)..].Contains('=', StringComparison.Ordinal))),
                $"{name} belongs to no test of ReportSnapshotTests (delete it)");
        }
    }
}
