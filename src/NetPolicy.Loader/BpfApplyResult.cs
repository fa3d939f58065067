namespace NetPolicy.Loader;

/// <summary>What <see cref="BpfDatapath.Apply"/> wrote.</summary>
/// <param name="Upserted">Entries written.</param>
/// <param name="Deleted">Entries deleted (or zeroed, for array maps).</param>
/// <param name="Elapsed">How long writing took.</param>
public sealed record BpfApplyResult(int Upserted, int Deleted, TimeSpan Elapsed);
