namespace GupConformance.Engine.Plugins;

/// <summary>The named ways an out-of-process implementation can break the process protocol (Spec/PROTOCOL.md §6).</summary>
public enum ProtocolFault
{
    /// <summary>The process could not be started (no such program, not executable).</summary>
    StartFailed,

    /// <summary>The implementation speaks a protocol version the engine does not.</summary>
    VersionMismatch,

    /// <summary>The handshake or a manifest is not what the protocol asks for.</summary>
    BadHandshake,

    /// <summary>A line on stdout is not a JSON object.</summary>
    MalformedJson,

    /// <summary>A message of a type the protocol does not define.</summary>
    UnknownMessage,

    /// <summary>The implementation reported that it does not know a command (error code "unknown_command").</summary>
    UnknownCommand,

    /// <summary>A required field is missing.</summary>
    MissingField,

    /// <summary>A field has the wrong JSON type or an impossible value.</summary>
    WrongType,

    /// <summary>An observation carries a field the protocol does not define.</summary>
    UnknownField,

    /// <summary>A response answers another request than the one outstanding.</summary>
    OutOfOrder,

    /// <summary>A batch response carries fewer observations than the batch had commands.</summary>
    MissingResponse,

    /// <summary>A stdout line longer than the engine accepts for one message (32 MiB): the process was killed.</summary>
    LineTooLong,

    /// <summary>Output on stdout that answers no request (more responses or observations than requests).</summary>
    ExtraOutput,

    /// <summary>The implementation reported a structured error for a command or request.</summary>
    ImplementationError,

    /// <summary>The process exited (or closed stdout) while the engine still needed it.</summary>
    ProcessExited,

    /// <summary>The process was killed by a signal (segfault, abort, …).</summary>
    KilledBySignal,

    /// <summary>No response within the per-command time limit: the process was killed.</summary>
    Hang,

    /// <summary>The run (one command sequence) exceeded the per-run time limit: the process was killed.</summary>
    RunTimeLimit,
}

/// <summary>An exception whose failure kind the engine should report by name instead of by exception type.</summary>
public interface INamedFailure
{
    /// <summary>The failure kind, e.g. <c>ProcessProtocolException[MalformedJson]</c>: failures of one name are one kind.</summary>
    string FailureName { get; }
}

/// <summary>
/// A protocol fault of an out-of-process implementation: the executor reports it as a crash of the sequence
/// (a Fail verdict) naming <see cref="Fault"/>, with the sequence prefix that led to it.
/// </summary>
public sealed class ProcessProtocolException : Exception, INamedFailure
{
    public ProcessProtocolException(ProtocolFault fault, string detail, Exception? inner = null)
        : base($"protocol fault {fault}: {detail}", inner)
    {
        Fault = fault;
        Detail = detail;
    }

    public ProtocolFault Fault { get; }

    /// <summary>The fix the implementation itself suggested with a structured error ("fix" field), if any.</summary>
    public string? Fix { get; init; }

    public string Detail { get; }

    public string FailureName => $"{nameof(ProcessProtocolException)}[{Fault}]";
}

/// <summary>
/// Bad input to the suite itself (an --impl that cannot be used): one line naming the cause and the fix. The
/// runner prints it and exits with code 2.
/// </summary>
public sealed class PluginSetupException : Exception
{
    public PluginSetupException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}
