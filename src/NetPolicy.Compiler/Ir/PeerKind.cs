namespace NetPolicy.Compiler.Ir;

/// <summary>What the peer field of a <see cref="PolicyEntry"/> holds.</summary>
public enum PeerKind
{
    /// <summary>Any peer (the rule has no <c>from</c>/<c>to</c>); the peer number is 0.</summary>
    Any = 0,

    /// <summary>A security identity.</summary>
    Identity = 1,

    /// <summary>An address class.</summary>
    AddressClass = 2,
}
