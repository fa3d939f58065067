using NetPolicy.Compiler.Model;

namespace NetPolicy.Compiler.Identities;

/// <summary>The label set an identity stands for.</summary>
internal readonly record struct IdentityKey(string Namespace, LabelSet NamespaceLabels, LabelSet PodLabels)
{
    public int CompareTo(IdentityKey other)
    {
        var c = string.CompareOrdinal(Namespace, other.Namespace);
        if (c == 0)
        {
            c = string.CompareOrdinal(NamespaceLabels.ToString(), other.NamespaceLabels.ToString());
        }

        return c != 0 ? c : string.CompareOrdinal(PodLabels.ToString(), other.PodLabels.ToString());
    }
}
