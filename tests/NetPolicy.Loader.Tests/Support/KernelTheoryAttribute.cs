namespace NetPolicy.Loader.Tests.Support;

/// <summary>A theory that needs the kernel; skipped like <see cref="KernelFactAttribute"/>, never under <c>CI=true</c>.</summary>
public sealed class KernelTheoryAttribute : TheoryAttribute
{
    public KernelTheoryAttribute()
    {
        if (KernelRequirements.SkipReason is { } reason)
        {
            Skip = reason;
        }
    }
}
