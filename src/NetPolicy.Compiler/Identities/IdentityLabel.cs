namespace NetPolicy.Compiler.Identities;

/// <summary>One label of a security identity: a source, a key and a value.</summary>
/// <param name="Source">Where the label comes from.</param>
/// <param name="Key">The key.</param>
/// <param name="Value">The value (empty for reserved labels).</param>
public sealed record IdentityLabel(IdentityLabelSource Source, string Key, string Value)
{
    /// <summary>Formats the label with its source prefix: <c>reserved:host</c>, <c>ns:name=prod</c>, <c>nslabel:team=a</c>, <c>pod:app=web</c>.</summary>
    /// <returns>The text; distinct labels always give distinct text.</returns>
    public override string ToString() => Source switch
    {
        IdentityLabelSource.Reserved => "reserved:" + Key,
        IdentityLabelSource.NamespaceName => "ns:name=" + Value,
        IdentityLabelSource.Namespace => "nslabel:" + Key + "=" + Value,
        _ => "pod:" + Key + "=" + Value,
    };
}
