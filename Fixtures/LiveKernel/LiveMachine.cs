using System.Diagnostics;

namespace GupConformance.Fixtures.LiveKernel;

/// <summary>
/// The machine a live run probes and drives: this one (<see cref="HostMachine"/>: its /proc and /sys, a local
/// livehelper per session) or a test VM booted from a kernel under test (<see cref="LiveGuest"/>: the same through
/// the guest's live agent). The live fixture asks only these questions, so what it probes, changes and puts back is
/// the same code on both.
/// </summary>
internal interface ILiveMachine : IDisposable
{
    /// <summary>"this machine", "the 6.12 guest": for messages.</summary>
    string Name { get; }

    /// <summary>The machine ends with the run (a VM): nothing it changes needs a journal, no other run shares it.</summary>
    bool Throwaway { get; }

    /// <summary>Still running (a VM can die under a run).</summary>
    bool Alive { get; }

    /// <summary>Where the O_DIRECT data file may go, in order of preference.</summary>
    IReadOnlyList<DataPlace> DataPlaces { get; }

    /// <summary>Why the live run cannot use this machine before probing it (not Linux, not root, no helper), or null.</summary>
    string? Unavailable(bool assumeNotRoot);

    bool Exists(string path);

    /// <summary>A file's whole content, or null when it cannot be read.</summary>
    string? Read(string path);

    bool Write(string path, string value);

    /// <summary>The names in a directory, or null when it cannot be listed.</summary>
    IReadOnlyList<string>? List(string directory);

    /// <summary>Creates the data file (pseudo-random content); an exception names what went wrong.</summary>
    void CreateFile(string path, int bytes);

    void Delete(string path);

    /// <summary>A fresh livehelper on the data file: one session's process.</summary>
    ILiveChannel StartHelper(string dataFile);
}

/// <summary>
/// A place for the live run's O_DIRECT data: a file the run creates (and removes), or an existing block device it
/// only reads and writes (<paramref name="Create"/> false).
/// </summary>
internal sealed record DataPlace(string Path, bool Create);

/// <summary>One livehelper process, wherever it runs: a request line in, one reply line out.</summary>
internal interface ILiveChannel
{
    /// <summary>The helper's first line: what it could open.</summary>
    string Ready { get; }

    bool Exited { get; }

    /// <summary>Sends one line and returns the reply; throws <see cref="InvalidOperationException"/> naming the cause
    /// when the helper died, <see cref="TimeoutException"/> (after ending it) when it did not answer.</summary>
    string Exchange(string line);

    /// <summary>Asks the helper to end ("quit") and waits a bounded time; ends it by force otherwise.</summary>
    void Quit();

    /// <summary>Ends the helper at once.</summary>
    void Kill();
}

/// <summary>The machine this process runs on.</summary>
internal sealed class HostMachine(string helperPath) : ILiveMachine
{
    public string Name => "this machine";

    public bool Throwaway => false;

    public bool Alive => true;

    public IReadOnlyList<DataPlace> DataPlaces =>
        [.. new[] { "/var/tmp", "/tmp", AppContext.BaseDirectory }.Select(d => new DataPlace(Path.Combine(d, LiveRestoreJournal.DataFileNameFor(Environment.ProcessId)), Create: true))];

    public string? Unavailable(bool assumeNotRoot)
    {
        if (!OperatingSystem.IsLinux())
        {
            return "not Linux";
        }

        if (assumeNotRoot || !LiveKernelFactory.IsRoot())
        {
            return "not root: exact pin counter deltas need /proc/sys/vm/stat_refresh (root only), frame numbers in pagemap need CAP_SYS_ADMIN";
        }

        return File.Exists(helperPath) ? null : $"livehelper was not built (no gcc at build time?): {helperPath}";
    }

    public bool Exists(string path) => File.Exists(path) || Directory.Exists(path);

    public string? Read(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllText(path) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public bool Write(string path, string value)
    {
        try
        {
            File.WriteAllText(path, value);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    public IReadOnlyList<string>? List(string directory) =>
        Directory.Exists(directory) ? [.. Directory.EnumerateFileSystemEntries(directory).Select(Path.GetFileName).OfType<string>()] : null;

    public void CreateFile(string path, int bytes)
    {
        var data = new byte[bytes];
        new Random(1).NextBytes(data);
        File.WriteAllBytes(path, data);
    }

    public void Delete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    public ILiveChannel StartHelper(string dataFile)
    {
        var psi = new ProcessStartInfo(helperPath, [dataFile])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        return new ProcessChannel(Process.Start(psi) ?? throw new InvalidOperationException("livehelper did not start"));
    }

    public void Dispose()
    {
    }
}

/// <summary>A livehelper process on this machine, over its stdin and stdout.</summary>
internal sealed class ProcessChannel : ILiveChannel
{
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(30);
    private readonly Process _process;

    public ProcessChannel(Process process)
    {
        _process = process;
        Ready = ReadLine() ?? throw new InvalidOperationException("livehelper exited at start: " + _process.StandardError.ReadToEnd());
    }

    public string Ready { get; }

    public bool Exited
    {
        get
        {
            try
            {
                return _process.HasExited;
            }
            catch (InvalidOperationException)
            {
                return true;
            }
        }
    }

    public string Exchange(string line)
    {
        _process.StandardInput.WriteLine(line);
        _process.StandardInput.Flush();
        return ReadLine() ?? throw new InvalidOperationException($"livehelper died on '{line}': {_process.StandardError.ReadToEnd()}");
    }

    private string? ReadLine()
    {
        var task = _process.StandardOutput.ReadLineAsync();
        if (!task.Wait(ReplyTimeout))
        {
            Kill();
            throw new TimeoutException("livehelper did not answer within 30 s");
        }

        return task.Result;
    }

    public void Quit()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.StandardInput.WriteLine("quit");
                _process.StandardInput.Flush();
                if (!_process.WaitForExit(10_000))
                {
                    Kill();
                }
            }
        }
        catch (IOException)
        {
            Kill();
        }
        finally
        {
            _process.Dispose();
        }
    }

    public void Kill()
    {
        try
        {
            _process.Kill();
        }
        catch (InvalidOperationException)
        {
        }
    }
}
