namespace NetPolicy.Compiler.Model;

/// <summary>The transport protocols a NetworkPolicy port can name.</summary>
/// <remarks>The numeric values are the IANA protocol numbers, so renderers can use them directly.</remarks>
public enum TransportProtocol
{
    /// <summary>TCP (IP protocol 6), the Kubernetes default.</summary>
    Tcp = 6,

    /// <summary>UDP (IP protocol 17).</summary>
    Udp = 17,

    /// <summary>SCTP (IP protocol 132).</summary>
    Sctp = 132,
}
