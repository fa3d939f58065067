using System.Collections;
using System.Reflection;
using NetPolicy.Compiler;
using NetPolicy.Compiler.Tests.E2e;

namespace NetPolicy.Loader.Tests.Support;

/// <summary>Every cluster snapshot the ported upstream e2e NetworkPolicy suite (NetPolicy.Compiler.Tests.E2e) builds,
/// collected by running each of its test cases with <see cref="NetpolModel.Recorded"/> set, so the kernel tests replay
/// exactly those scenarios on the datapath.</summary>
internal static class E2eScenarios
{
    private static readonly Lazy<IReadOnlyList<(string Name, ClusterSnapshot Snapshot)>> s_all = new(Collect);

    public static IReadOnlyList<(string Name, ClusterSnapshot Snapshot)> All => s_all.Value;

    private static List<(string Name, ClusterSnapshot Snapshot)> Collect()
    {
        var result = new List<(string, ClusterSnapshot)>();
        var types = typeof(NetpolModel).Assembly.GetTypes()
            .Where(t => t.Namespace == typeof(NetpolModel).Namespace && t.Name.StartsWith("NetpolE2e", StringComparison.Ordinal))
            .OrderBy(t => t.Name, StringComparer.Ordinal);
        foreach (var type in types)
        {
            foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.Instance).OrderBy(m => m.Name, StringComparer.Ordinal))
            {
                if (method.GetCustomAttribute<FactAttribute>() is null)
                {
                    continue;
                }

                foreach (var arguments in Cases(type, method))
                {
                    var recorded = new List<ClusterSnapshot>();
                    NetpolModel.Recorded.Value = recorded;
                    try
                    {
                        var instance = Activator.CreateInstance(type);
                        var returned = method.Invoke(instance, arguments);
                        if (returned is Task task)
                        {
                            task.GetAwaiter().GetResult();
                        }
                    }
                    finally
                    {
                        NetpolModel.Recorded.Value = null;
                    }

                    var name = $"{type.Name}.{method.Name}({string.Join(", ", arguments.Select(a => a?.ToString()))})";
                    for (var i = 0; i < recorded.Count; i++)
                    {
                        result.Add((recorded.Count == 1 ? name : $"{name}#{i}", recorded[i]));
                    }
                }
            }
        }

        return result;
    }

    private static IEnumerable<object?[]> Cases(Type type, MethodInfo method)
    {
        if (method.GetCustomAttribute<TheoryAttribute>() is null)
        {
            yield return [];
            yield break;
        }

        foreach (var inline in method.GetCustomAttributes<InlineDataAttribute>())
        {
            foreach (var row in inline.GetData(method))
            {
                yield return row;
            }
        }

        foreach (var member in method.GetCustomAttributes<MemberDataAttribute>())
        {
            var source = (object?)type.GetProperty(member.MemberName, BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)?.GetValue(null)
                ?? type.GetField(member.MemberName, BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)?.GetValue(null)
                ?? type.GetMethod(member.MemberName, BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)?.Invoke(null, member.Parameters);
            foreach (var row in (IEnumerable)source!)
            {
                yield return row switch
                {
                    object?[] array => array,
                    _ => throw new InvalidOperationException($"unsupported MemberData row in {type.Name}.{method.Name}"),
                };
            }
        }
    }
}
