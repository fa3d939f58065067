namespace NetPolicy.Loader;

/// <summary>The appliers' shared fallback: a delta the kernel refuses is followed by a full apply.</summary>
internal static class NetfilterFallback
{
    /// <summary>Applies a delta; when the kernel refuses it, forgets what was applied and applies the whole ruleset, an
    /// error of which names both refusals.</summary>
    /// <param name="applyDelta">Writes the delta.</param>
    /// <param name="forget">Drops what the applier remembers having applied.</param>
    /// <param name="applyFull">Writes the whole ruleset.</param>
    /// <returns>How the ruleset was applied.</returns>
    public static NetfilterApplyMode DeltaOrFull(Action applyDelta, Action forget, Action applyFull)
    {
        try
        {
            applyDelta();
            return NetfilterApplyMode.Incremental;
        }
        catch (KernelOperationException deltaError)
        {
            forget();
            try
            {
                applyFull();
            }
            catch (KernelOperationException fullError)
            {
                throw new KernelOperationException($"{fullError.Message} (a full apply, after the incremental apply was refused: {deltaError.Message})", fullError.Operation, fullError.Errno, fullError);
            }

            return NetfilterApplyMode.Full;
        }
    }
}
