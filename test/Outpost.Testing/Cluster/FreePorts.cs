using System.Net;
using System.Net.Sockets;

namespace Outpost.Testing.Cluster;

/// <summary>Finds loopback ports nothing listens on, for silos and servers started by tests.</summary>
public static class FreePorts
{
    private static readonly HashSet<int> Handed = [];

    public static int Next()
    {
        lock (Handed)
        {
            while (true)
            {
                using var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                var port = ((IPEndPoint)listener.LocalEndpoint).Port;
                listener.Stop();

                // Several silos start at once; never hand the same port out twice in one test run.
                if (Handed.Add(port))
                {
                    return port;
                }
            }
        }
    }
}
