namespace NetPolicy.Compiler.Model;

/// <summary>The direction of traffic a policy rule applies to, seen from the selected pod.</summary>
public enum PolicyDirection
{
    /// <summary>Traffic entering the selected pod.</summary>
    Ingress = 0,

    /// <summary>Traffic leaving the selected pod.</summary>
    Egress = 1,
}
