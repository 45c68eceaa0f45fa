using GupConformance.Engine;
using GupConformance.Fixtures;
using GupConformance.Fixtures.Broken;
using GupConformance.Spec;

namespace GupConformance.MutationTests;

/// <summary>
/// What kills a mutant: the reference implementation and the model must still agree under every profile (a
/// mutant of either makes them disagree), and every deliberately broken implementation must still be caught (a
/// mutant that makes the model lenient lets one through). Seeds are fixed, so a verdict is repeatable; the budget
/// is smaller than the main suite's so a mutant costs seconds, not minutes.
/// </summary>
public sealed class DifferentialTests
{
    private static readonly RunOptions Budget = new()
    {
        Seed = 1,
        Sequences = 60,
        Length = 40,
        StopAtFirstFailure = true,
        MaxShrinkRuns = 40,
        CommandTimeout = TimeSpan.FromSeconds(2),
    };

    public static TheoryData<string> AllProfiles() => [.. Profiles.All.Select(p => p.Id)];

    public static TheoryData<string> AllBroken() => [.. BrokenImplementations.All.Select(b => b.Name)];

    [Theory]
    [MemberData(nameof(AllProfiles))]
    public void Reference_and_model_agree_under(string profileId)
    {
        var result = ConformanceRun.Run(new KernelStyleFactory(), Profiles.Get(profileId), Budget);
        Assert.True(result.Conformant, ReportWriter.Render(result));
    }

    [Theory]
    [MemberData(nameof(AllBroken))]
    public void Broken_implementation_is_caught(string name)
    {
        var bug = BrokenImplementations.Find(name)!;
        // Caught or not is all this asks, so no shrinking: a mutant that lets no bug through costs one failing run per bug.
        var caught = bug.Declaration.WrongIn.Any(id => !ConformanceRun.Run(bug.Factory, Profiles.Get(id), Budget with { Sequences = 200, MaxShrinkRuns = 0 }).Conformant);
        Assert.True(caught, $"{name} is not caught under any profile where it is wrong");
    }
}
