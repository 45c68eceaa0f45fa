using GupConformance.Spec;

namespace GupConformance.Engine.Plugins;

/// <summary>
/// Optional for an implementation: before the executor executes a state-changing action it announces the
/// inspections it will make right after it (every folio the model knows, then the vmstat counters), so an
/// out-of-process implementation can send the action and its inspections as one batch. The executor still calls
/// <see cref="IGupImplementation.Execute"/> for each of them, in that order; a call that does not match the
/// announcement simply goes out on its own.
/// </summary>
public interface IPrefetchingImplementation
{
    void Expect(Command action, IReadOnlyList<Command> inspections);
}
