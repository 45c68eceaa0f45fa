using GupConformance.Engine;
using GupConformance.Fixtures;
using GupConformance.Spec;

namespace GupConformance.Tests.Verdicts;

/// <summary>
/// Verdicts point at the bug: the action's own divergence comes before anything its inspections show, the rule broken
/// first is named first and the rules that failed after it are folded, a folio the implementation does not know is a
/// divergence of the behaviour that should have created it, and a failure that does not happen again is labelled so.
/// The implementations here wrap the reference and change one thing each.
/// </summary>
public sealed class VerdictTests
{
    private static readonly Profile P618 = Profiles.Get("linux-6.18");

    private static RunResult Run(IImplementationFactory factory, RunOptions? options = null) =>
        ConformanceRun.Run(factory, P618, (options ?? new RunOptions()) with { StopAtFirstFailure = true, MaxCounterexamples = 1 });

    [Fact]
    public void A_wrong_page_in_a_pages_array_is_shown_first_with_its_rule_named_first()
    {
        var r = Run(new Wrapped("wrong-page", o => o.Pages is { Count: > 0 } pages
            ? o with { Pages = [pages[0] with { First = pages[0].First + 1 }, .. pages.Skip(1)] }
            : o));

        var c = Assert.Single(r.Counterexamples);
        Assert.Equal(FailureKind.Divergence, c.Kind);
        var first = c.Mismatches[0];
        Assert.Equal("pages", first.Field);
        Assert.Equal(c.Cause, c.ViolatedRules[0]);
        Assert.Contains(c.Cause, first.Rules);

        var text = ReportWriter.RenderCounterexample(c);
        Assert.Contains($"Broken first: {c.Cause}", text, StringComparison.Ordinal);
        Assert.Contains("Broken first (the rule of the first check that failed):", text, StringComparison.Ordinal);
        if (c.Consequences.Count > 0)
        {
            Assert.Contains($"and {c.Consequences.Count} rule", text, StringComparison.Ordinal);
        }

        Assert.Contains("## Broken first", MarkdownReport.RenderCounterexample(c, "#"), StringComparison.Ordinal);
        Assert.Contains($"\"cause\": \"{c.Cause}\"", JsonReport.Render(r), StringComparison.Ordinal);
    }

    /// <summary>
    /// A *_remote call that finds a hole where the mm it was given has a page looked in another mm: GUP-REMOTE-TARGET-MM is
    /// broken first, not the reference the page would have taken (seed 16 of broken-remote-walks-caller-mm once cited
    /// REF-GET-PLUS-ONE). A remote call that fails the same way over a real hole keeps the hole's rule.
    /// </summary>
    [Fact]
    public void A_remote_walk_that_finds_a_hole_where_the_target_mm_has_a_page_breaks_the_target_rule_first()
    {
        var profile = Profiles.Get("proposal-2023-iov-extract-v8");
        var bug = Fixtures.Broken.BrokenImplementations.Find("broken-remote-walks-caller-mm")!;
        Command[] seq =
        [
            new MapRegion(4, RegionKind.Anon, 0x10019000, 1, Mm: 1),
            new Gup(9, EntryPoint.GetUserPagesRemote, 0x10019000, 1, Foll.None, true, Mm: 1),
        ];
        using var executor = new SequenceExecutor(bug.Factory, profile, profile.Facets, TimeSpan.FromSeconds(5));
        var result = executor.Execute(seq);
        Assert.Equal("result", result.Mismatches[0].Field);
        Assert.Equal("GUP-REMOTE-TARGET-MM", result.Cause);

        Assert.Equal("API-FAULT-HOLE", RuleScopes.Cause(["GUP-REMOTE-TARGET-MM", "API-FAULT-HOLE"], ["API-FAULT-HOLE"], "-EFAULT", ["-EFAULT"], "get_user_pages_remote(mm1, …)"));
        Assert.Equal("REF-GET-PLUS-ONE", RuleScopes.Cause(["GUP-REMOTE-TARGET-MM", "REF-GET-PLUS-ONE"], ["REF-GET-PLUS-ONE"], "2", ["1"], "get_user_pages_remote(mm1, …)"));
    }

    [Fact]
    public void An_inspection_the_implementation_cannot_answer_does_not_hide_the_actions_own_divergence()
    {
        // The wrong page of the pin is reported, and then the implementation also refuses to inspect a folio the
        // model knows. Before, the refusal was reported as a crash of the implementation and the pin's own pages
        // mismatch was never shown.
        var lied = false;
        var r = Run(new Wrapped("wrong-page-then-unknown-folio",
            o =>
            {
                if (o.Pages is not { Count: > 0 } pages)
                {
                    return o;
                }

                lied = true;
                return o with { Pages = [pages[0] with { First = pages[0].First + 1 }, .. pages.Skip(1)] };
            },
            inspect => lied ? throw new InvalidOperationException($"no folio {inspect.Folio}") : null,
            before: command => lied &= command is not MapRegion));

        var c = Assert.Single(r.Counterexamples);
        Assert.Equal(FailureKind.Divergence, c.Kind);
        Assert.Equal("pages", c.Mismatches[0].Field);
        Assert.Contains(c.Mismatches, m => m.Field == "folio");
    }

    [Fact]
    public void A_folio_the_implementation_does_not_know_is_a_divergence_of_the_rule_that_should_have_created_it()
    {
        var r = Run(new Wrapped("forgets-folios", o => o,
            inspect => inspect.Folio.EndsWith(".f1", StringComparison.Ordinal) ? throw new InvalidOperationException($"no folio {inspect.Folio}") : null));

        var c = Assert.Single(r.Counterexamples);
        Assert.Equal(FailureKind.Divergence, c.Kind);
        var m = c.Mismatches.First(x => x.Field == "folio");
        Assert.StartsWith("(unknown to the implementation: no folio", m.Observed, StringComparison.Ordinal);
        Assert.Equal(["(known)"], m.Allowed);
        Assert.NotEmpty(m.Rules);
        Assert.True(Rules.Exists(c.Cause!), c.Cause);
    }

    [Fact]
    public void A_time_out_that_does_not_happen_again_is_labelled_not_reproduced_and_not_a_divergence_at_step_minus_one()
    {
        var hung = 0;
        var r = Run(new Wrapped("hangs-once", o => o, before: command =>
        {
            if (command is Gup && Interlocked.Exchange(ref hung, 1) == 0)
            {
                Thread.Sleep(1500);
            }
        }), new RunOptions { CommandTimeout = TimeSpan.FromMilliseconds(300), Sequences = 5 });

        var c = Assert.Single(r.Counterexamples);
        Assert.False(c.Reproduced);
        Assert.Equal(FailureKind.Timeout, c.Kind);
        Assert.StartsWith("not reproduced: timed out at step ", c.NotReproducedNote, StringComparison.Ordinal);
        var text = ReportWriter.RenderCounterexample(c);
        Assert.Contains("(time-out, not reproduced)", text, StringComparison.Ordinal);
        Assert.DoesNotContain("[-1]", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Divergence", text, StringComparison.Ordinal);
        Assert.Contains("(not reproduced)", MarkdownReport.RenderCounterexample(c, "#"), StringComparison.Ordinal);
    }

    /// <summary>The reference implementation with its observations changed by <paramref name="change"/>, inspections
    /// answered or refused by <paramref name="inspect"/>, and <paramref name="before"/> run before every command.</summary>
    private sealed class Wrapped(string name, Func<Observation, Observation> change, Func<InspectFolio, Observation?>? inspect = null, Action<Command>? before = null)
        : IImplementationFactory
    {
        private readonly KernelStyleFactory _inner = new();

        public string Name => name;

        public CapabilityManifest? ManifestFor(Profile profile) => _inner.ManifestFor(profile) is { } m ? m with { Implementation = name } : null;

        public IGupImplementation Create(Profile profile) => new Instance(_inner.Create(profile), change, inspect, before);

        private sealed class Instance(IGupImplementation inner, Func<Observation, Observation> change, Func<InspectFolio, Observation?>? inspect, Action<Command>? before)
            : IGupImplementation
        {
            public Observation Execute(Command command)
            {
                before?.Invoke(command);
                if (command is InspectFolio i && inspect?.Invoke(i) is { } answer)
                {
                    return answer;
                }

                var o = inner.Execute(command);
                return command is Gup ? change(o) : o;
            }

            public void Dispose() => inner.Dispose();
        }
    }
}
