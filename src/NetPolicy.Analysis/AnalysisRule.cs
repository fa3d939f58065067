using System.Collections.Immutable;
using NetPolicy.Compiler;

namespace NetPolicy.Analysis;

/// <summary>Describes one check or result kind: its stable code, a short name, a one-line description and the default severity.</summary>
/// <param name="Code">The stable code, for example <c>NP4001</c>.</param>
/// <param name="Name">A short PascalCase name, for example <c>PolicySelectsNoPod</c> (SARIF <c>rule.name</c>).</param>
/// <param name="Description">A one-sentence description.</param>
/// <param name="DefaultSeverity">The severity findings of the rule have.</param>
public sealed record AnalysisRule(string Code, string Name, string Description, DiagnosticSeverity DefaultSeverity)
{
    /// <summary>Gets the rules of <see cref="PolicyLinter"/>, sorted by code.</summary>
    public static ImmutableArray<AnalysisRule> LintRules { get; } =
    [
        new(LintCodes.PolicySelectsNoPod, "PolicySelectsNoPod", "The policy's podSelector selects no pod of its namespace, so the policy has no effect.", DiagnosticSeverity.Warning),
        new(LintCodes.PeerSelectsNothing, "PeerSelectsNothing", "A from/to peer's pod or namespace selector selects no pod, so the peer allows nothing.", DiagnosticSeverity.Warning),
        new(LintCodes.PodNotIsolated, "PodNotIsolated", "The pod is not isolated for a direction although policies of its namespace isolate other pods for it.", DiagnosticSeverity.Warning),
        new(LintCodes.EgressBlocksDns, "EgressBlocksDns", "The pod's egress isolation allows DNS (UDP/53 or TCP/53) to no destination, so name lookups fail.", DiagnosticSeverity.Error),
        new(LintCodes.RedundantRule, "RedundantRule", "Every flow the rule allows is also allowed by another rule of the same policy and direction.", DiagnosticSeverity.Info),
        new(LintCodes.NamedPortNotFound, "NamedPortNotFound", "No pod the rule applies to declares the named port, so the port entry matches nothing.", DiagnosticSeverity.Warning),
        new(LintCodes.IPBlockCoversPods, "IPBlockCoversPods", "The ipBlock contains pod addresses, so it matches those pods whatever their labels.", DiagnosticSeverity.Warning),
    ];

    /// <summary>Gets the result kinds of <see cref="ConnectionDiffer"/> as rules (for SARIF), sorted by code.</summary>
    public static ImmutableArray<AnalysisRule> DiffRules { get; } =
    [
        new(LintCodes.ConnectionOpened, "ConnectionOpened", "A connection denied before is allowed after the change.", DiagnosticSeverity.Warning),
        new(LintCodes.ConnectionClosed, "ConnectionClosed", "A connection allowed before is denied after the change.", DiagnosticSeverity.Warning),
        new(LintCodes.ConnectionChanged, "ConnectionChanged", "A connection allowed before and after is allowed by a different rule.", DiagnosticSeverity.Info),
    ];
}
