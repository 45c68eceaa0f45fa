using GupConformance.Oracles;
using GupConformance.Spec;

namespace GupConformance.Engine;

/// <summary>
/// Chunk-removal shrinking (ddmin-style) over a sequence of actions. Candidates are produced lazily, largest
/// removals first: the prefix up to the failing action (when known), then every sequence with one chunk of
/// n/2, n/4, … 1 consecutive actions removed. Only candidates that the model accepts when replayed from
/// <see cref="GupModel.Init"/> (every precondition holds, every step succeeds) are yielded.
/// </summary>
public sealed class Shrinker
{
    private readonly Profile _profile;
    private readonly Facet _facets;

    public Shrinker(Profile profile, Facet facets)
    {
        _profile = profile;
        _facets = facets & profile.Facets;
    }

    public IEnumerable<Command[]> Candidates(Command[] actions, int? failedAction = null)
    {
        var prefixLength = -1;
        if (failedAction is { } k && k >= 0 && k + 1 < actions.Length)
        {
            prefixLength = k + 1;
            yield return actions[..prefixLength];
        }

        var n = actions.Length;
        for (var chunk = n / 2; chunk >= 1; chunk /= 2)
        {
            for (var start = 0; start < n; start += chunk)
            {
                var end = Math.Min(n, start + chunk);
                var candidate = new Command[n - (end - start)];
                Array.Copy(actions, 0, candidate, 0, start);
                Array.Copy(actions, end, candidate, start, n - end);
                var samePrefix = end == n && start == prefixLength;
                if (candidate.Length == 0 || samePrefix || !IsValid(candidate))
                {
                    continue;
                }

                yield return candidate;
            }
        }
    }

    /// <summary>True when the model accepts every command in order, starting from its initial state.</summary>
    public bool IsValid(IReadOnlyList<Command> actions) => Validate(_profile, _facets, actions) is null;

    /// <summary>Null when valid; otherwise the index of the first refused command and why.</summary>
    public static string? Validate(Profile profile, Facet facets, IReadOnlyList<Command> actions)
    {
        var state = GupModel.Init(profile);
        for (var i = 0; i < actions.Count; i++)
        {
            var cmd = actions[i];
            if ((cmd.Needs & facets & profile.Facets) == 0)
            {
                return $"command {i}: needs facet {cmd.Needs}";
            }

            try
            {
                var why = GupModel.Precondition(state, cmd);
                if (why is not null)
                {
                    return $"command {i}: {why}";
                }

                state = GupModel.Step(state, cmd).Next;
            }
            catch (Exception e)
            {
                return $"command {i}: the model threw {e.GetType().Name}";
            }
        }

        return null;
    }
}
