namespace NetPolicy.Loader.Lab;

/// <summary>The transport a lab probe uses.</summary>
public enum LabProtocol
{
    /// <summary>TCP: a real connect to a listening socket.</summary>
    Tcp,

    /// <summary>UDP: a datagram to an echo server, answered.</summary>
    Udp,

    /// <summary>SCTP: a crafted INIT chunk through a raw socket, seen by a raw socket at the destination (the test kernel
    /// has no SCTP sockets).</summary>
    Sctp,
}
