using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace GupConformance.Oracles;

/// <summary>
/// One shared, unchangeable list per distinct list of exercised rules. A run's commands exercise a few hundred distinct
/// lists, but each step worked out its own copy: every executor and tally that counts commands per list then counted
/// tens of thousands of lists of the same few contents. Shared, the same contents are the same object, so counting by
/// list is counting by contents.
/// </summary>
internal static class ExercisedLists
{
    // Bounded: rule ids come from the catalogue, so the distinct lists are few; past the bound a list is simply not shared.
    private const int Bound = 1 << 14;

    private static readonly ConcurrentDictionary<IReadOnlyList<string>, string[]> Lists = new(SameRules.Instance);

    /// <summary>The shared list with the contents of <paramref name="rules"/> (in its order).</summary>
    public static IReadOnlyList<string> Shared(List<string> rules)
    {
        if (rules.Count == 0)
        {
            return [];
        }

        if (Lists.TryGetValue(rules, out var shared))
        {
            return shared;
        }

        var copy = rules.ToArray();
        return Lists.Count < Bound ? Lists.GetOrAdd(copy, copy) : copy;
    }

    /// <summary>The same rule ids in the same order. The ids are nearly always the catalogue's own string objects, so they
    /// are hashed by reference (equal ids in other objects still compare equal, in a bucket of their own at worst).</summary>
    private sealed class SameRules : IEqualityComparer<IReadOnlyList<string>>
    {
        public static readonly SameRules Instance = new();

        public bool Equals(IReadOnlyList<string>? x, IReadOnlyList<string>? y)
        {
            if (ReferenceEquals(x, y))
            {
                return true;
            }

            if (x is null || y is null || x.Count != y.Count)
            {
                return false;
            }

            for (var i = 0; i < x.Count; i++)
            {
                if (!string.Equals(x[i], y[i], StringComparison.Ordinal))
                {
                    return false;
                }
            }

            return true;
        }

        public int GetHashCode(IReadOnlyList<string> rules)
        {
            var h = new HashCode();
            for (var i = 0; i < rules.Count; i++)
            {
                h.Add(RuntimeHelpers.GetHashCode(rules[i]));
            }

            return h.ToHashCode();
        }
    }
}
