using System.Net.Sockets;

namespace GupConformance.Fixtures.LiveKernel;

/// <summary>
/// The machine-wide lock that serialises live runs (the pin counters they read are global) and guards the restore
/// journal: an abstract Unix socket name, so no file is left behind and a run that dies releases it with its process.
/// </summary>
public static class LiveLock
{
    public const string Name = "gupconformance-live-kernel";

    /// <summary>Takes the lock, waiting up to <paramref name="wait"/>; null when it stayed taken or the wait was cancelled.</summary>
    public static IDisposable? Take(TimeSpan wait, CancellationToken cancel = default)
    {
        var endPoint = new UnixDomainSocketEndPoint("\0" + Name);
        var deadline = DateTime.UtcNow + wait;
        while (!cancel.IsCancellationRequested)
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                socket.Bind(endPoint);
                return socket;
            }
            catch (SocketException)
            {
                socket.Dispose();
            }

            if (DateTime.UtcNow >= deadline)
            {
                return null;
            }

            cancel.WaitHandle.WaitOne(200);
        }

        return null;
    }
}
