using GupConformance.Oracles;
using GupConformance.Spec;

namespace GupConformance.Tests;

/// <summary>
/// Tests written to kill mutants that survived Stryker.NET (stryker/RESULTS.md): each pins down a behaviour of the
/// model or of the reference implementation that the differential runs did not reach.
/// </summary>
public sealed partial class MutantKillerTests
{
    [Fact]
    public void The_initial_model_state_is_empty()
    {
        var s = GupModel.Init(Profiles.Get("linux-6.18"));
        Assert.Empty(s.Folios);
        Assert.Equal(0, s.Acquired);
        Assert.Equal(0, s.Released);
    }
}
