namespace NetPolicy.Compiler.Iptables;

/// <summary>Settings for <see cref="IptablesRenderer.Render(Ir.CompiledPolicySet, IptablesRenderOptions?)"/>.</summary>
public sealed class IptablesRenderOptions
{
    /// <summary>Gets or sets how packets of tracked connections are treated.</summary>
    /// <value>The default is <see cref="IptablesConntrackMode.Conntrack"/>.</value>
    public IptablesConntrackMode ConntrackMode { get; set; } = IptablesConntrackMode.Conntrack;

    internal void Validate()
    {
        if (!Enum.IsDefined(ConntrackMode))
        {
            throw new ArgumentException($"IptablesRenderOptions.ConntrackMode has the undefined value {(int)ConntrackMode}; use Conntrack or Strict.", nameof(ConntrackMode));
        }
    }
}
