using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NetPolicy.Compiler.Bpf;
using NetPolicy.Loader.Bpf;
using NetPolicy.Loader.Netns;

namespace NetPolicy.Loader;

/// <summary>The BPF datapath of one node: the shared maps, one loaded program pair per endpoint, their attachments, and
/// map synchronisation from <see cref="BpfMapImages"/> without reloading any program.</summary>
/// <remarks>
/// <para>Lifecycle: <see cref="Create"/> loads the embedded object once to create the shared maps; <see cref="Apply"/>
/// writes a compile's map images (the first time in full, then only the delta, in the order
/// <see cref="BpfMapDelta"/> documents); <see cref="Attach(uint, int)"/> loads an endpoint's program pair (its id
/// in <c>.rodata</c>, every map reused) and attaches it to the host side of the pod's veth. A policy change is a map
/// delta: programs are never reloaded. An attached endpoint without map entry fails closed.</para>
/// <para>Requires Linux with BPF, BTF and root (CAP_BPF, CAP_NET_ADMIN); tcx needs 6.6, older kernels get tc clsact.</para>
/// </remarks>
public sealed partial class BpfDatapath : IDisposable
{
    private static readonly string[] s_imageMaps =
    [
        BpfConstants.IPCacheHostMapName, BpfConstants.IPCacheLpmMapName, BpfConstants.EndpointsMapName,
        BpfConstants.RuleSetsMapName, BpfConstants.PolicyMapName,
    ];

    private readonly BpfDatapathOptions _options;
    private readonly ILogger _logger;
    private readonly BpfObject _maps;
    private readonly Dictionary<uint, BpfObject> _endpoints = [];
    private readonly Lock _lock = new();
    private bool _reusedPins;
    private bool _disposed;

    private BpfDatapath(BpfDatapathOptions options, BpfObject maps, bool reusedPins)
    {
        _options = options;
        _maps = maps;
        _reusedPins = reusedPins;
        _logger = (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger("NetPolicy.Loader");
    }

    /// <summary>Gets the images the maps hold, or <see langword="null"/> before the first <see cref="Apply"/>.</summary>
    public BpfMapImages? Images { get; private set; }

    /// <summary>Gets the options.</summary>
    public BpfDatapathOptions Options => _options;

    /// <summary>Creates the shared maps by loading the embedded datapath object once.</summary>
    /// <param name="options">Options, or <see langword="null"/> for the defaults.</param>
    /// <returns>The datapath.</returns>
    /// <exception cref="KernelOperationException">When the kernel refuses (privileges, missing BPF features).</exception>
    /// <exception cref="BpfVerifierException">When the verifier rejects the programs.</exception>
    public static BpfDatapath Create(BpfDatapathOptions? options = null)
    {
        options ??= new BpfDatapathOptions();
        var sizes = options.MapSizes ?? new BpfRenderOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxConntrackEntries, 1);
        var maps = BpfObject.OpenDatapath();
        var pinned = new List<BpfMap>();
        try
        {
            maps.GetMap(BpfConstants.IPCacheHostMapName).SetMaxEntries((uint)sizes.MaxIPCacheHostEntries);
            maps.GetMap(BpfConstants.IPCacheLpmMapName).SetMaxEntries((uint)sizes.MaxIPCacheLpmEntries);
            maps.GetMap(BpfConstants.EndpointsMapName).SetMaxEntries((uint)sizes.MaxEndpoints);
            maps.GetMap(BpfConstants.RuleSetsMapName).SetMaxEntries((uint)sizes.MaxRuleSets);
            maps.GetMap(BpfConstants.PolicyMapName).SetMaxEntries((uint)sizes.MaxPolicyEntries);
            maps.GetMap(BpfConstants.ConntrackMapName).SetMaxEntries((uint)options.MaxConntrackEntries);
            maps.SetReadOnlyData(Config(options, 0));
            if (options.PinDirectory is { } directory)
            {
                PreparePinDirectory(directory);
                foreach (var map in maps.Maps.Where(m => !m.IsInternal))
                {
                    var path = Path.Combine(directory, map.Name);
                    if (File.Exists(path))
                    {
                        var existing = BpfMap.OpenPinned(path);
                        pinned.Add(existing);
                        map.ReuseFrom(existing);
                    }
                }
            }

            maps.Load();
            if (options.PinDirectory is { } pinDirectory)
            {
                foreach (var map in maps.Maps.Where(m => !m.IsInternal && !File.Exists(Path.Combine(pinDirectory, m.Name))))
                {
                    map.Pin(Path.Combine(pinDirectory, map.Name));
                }
            }

            var datapath = new BpfDatapath(options, maps, pinned.Count > 0);
            if (datapath._logger.IsEnabled(LogLevel.Information))
            {
                datapath._logger.DatapathCreated(DatapathObject.BuildInfo.Split('\n')[0]);
            }

            return datapath;
        }
        catch
        {
            maps.Dispose();
            throw;
        }
        finally
        {
            // The loaded object holds its own references to reused maps.
            pinned.ForEach(m => m.Dispose());
        }
    }

    /// <summary>Removes the pins of <see cref="BpfDatapathOptions.PinDirectory"/> (the maps then go with the last
    /// program or process that uses them).</summary>
    public void Unpin()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_options.PinDirectory is not { } directory)
        {
            return;
        }

        foreach (var map in _maps.Maps.Where(m => !m.IsInternal))
        {
            var path = Path.Combine(directory, map.Name);
            if (File.Exists(path))
            {
                File.Delete(path);
            }
        }

        if (Directory.Exists(directory) && !Directory.EnumerateFileSystemEntries(directory).Any())
        {
            Directory.Delete(directory);
        }
    }

    /// <summary>Gets one of the shared maps (<c>np_policy</c>, <c>np_conntrack</c>, ...).</summary>
    /// <param name="name">The map name (see <see cref="BpfConstants"/>).</param>
    /// <returns>The map.</returns>
    public BpfMap GetMap(string name)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _maps.GetMap(name);
    }

    /// <summary>Writes map images: in full the first time, then only what changed since the last call.</summary>
    /// <param name="images">The images, rendered with the same <see cref="BpfDatapathOptions.MapSizes"/>.</param>
    /// <returns>What was written.</returns>
    /// <exception cref="KernelOperationException">When a map update fails; the maps then hold a mix of both images and
    /// the call should be repeated (it re-diffs from the last images applied in full).</exception>
    public BpfApplyResult Apply(BpfMapImages images)
    {
        ArgumentNullException.ThrowIfNull(images);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var clock = Stopwatch.StartNew();
            int upserted = 0, deleted = 0;
            if (Images is null)
            {
                if (_reusedPins)
                {
                    // Maps reused from pins hold what an earlier process wrote: remove what these images do not hold.
                    deleted += RemoveStale(images);
                    _reusedPins = false;
                }

                foreach (var name in new[] { BpfConstants.PolicyMapName, BpfConstants.RuleSetsMapName, BpfConstants.IPCacheLpmMapName, BpfConstants.IPCacheHostMapName, BpfConstants.EndpointsMapName })
                {
                    var image = images.GetMap(name);
                    upserted += Write(_maps.GetMap(name), image.Entries, image.KeySize, image.ValueSize);
                }
            }
            else
            {
                var delta = images.DiffFrom(Images);
                foreach (var change in delta.Changes)
                {
                    var map = _maps.GetMap(change.Map);
                    if (change.WritesValues)
                    {
                        upserted += change.Kind == BpfMapChangeKind.Upsert ? Write(map, change.Entries, map.KeySize, map.ValueSize) : 0;
                        deleted += change.Kind == BpfMapChangeKind.Delete ? Write(map, change.Entries, map.KeySize, map.ValueSize) : 0;
                    }
                    else
                    {
                        deleted += Remove(map, change.Entries, map.KeySize);
                    }
                }
            }

            Images = images;
            var result = new BpfApplyResult(upserted, deleted, clock.Elapsed);
            _logger.MapsApplied(upserted, deleted, result.Elapsed.TotalMilliseconds);
            return result;
        }
    }

    /// <summary>Loads (once) an endpoint's program pair, sharing every map, without attaching it; <c>BPF_PROG_TEST_RUN</c>
    /// works on the result.</summary>
    /// <param name="endpointId">The endpoint id (<see cref="BpfMapImages.EndpointIds"/>).</param>
    /// <returns>The programs.</returns>
    /// <exception cref="BpfVerifierException">When the verifier rejects the programs.</exception>
    public BpfEndpointPrograms LoadEndpoint(uint endpointId)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_endpoints.TryGetValue(endpointId, out var obj))
            {
                obj = BpfObject.OpenDatapath();
                try
                {
                    foreach (var map in obj.Maps)
                    {
                        if (!map.IsInternal)
                        {
                            map.ReuseFrom(_maps.GetMap(map.Name));
                        }
                    }

                    obj.SetReadOnlyData(Config(_options, endpointId));
                    obj.Load();
                }
                catch
                {
                    obj.Dispose();
                    throw;
                }

                _endpoints[endpointId] = obj;
                _logger.EndpointLoaded(endpointId);
            }

            return new BpfEndpointPrograms(endpointId, obj.GetProgram(BpfConstants.FromPodProgramName), obj.GetProgram(BpfConstants.ToPodProgramName));
        }
    }

    /// <summary>Loads an endpoint's programs and attaches them to its host-side veth, in the calling thread's network namespace.</summary>
    /// <param name="endpointId">The endpoint id.</param>
    /// <param name="hostInterfaceIndex">The interface index of the host side of the pod's veth.</param>
    /// <returns>The attachment; disposing it detaches exactly these programs.</returns>
    public BpfEndpointAttachment Attach(uint endpointId, int hostInterfaceIndex)
    {
        var programs = LoadEndpoint(endpointId);
        return AttachPrograms(programs, hostInterfaceIndex, null);
    }

    /// <summary>Loads an endpoint's programs and attaches them to its host-side veth in a given network namespace (the
    /// netlink calls run on that namespace's thread).</summary>
    /// <param name="endpointId">The endpoint id.</param>
    /// <param name="network">The namespace holding the interface.</param>
    /// <param name="hostInterfaceIndex">The interface index in that namespace.</param>
    /// <returns>The attachment; disposing it detaches exactly these programs, in that namespace.</returns>
    public BpfEndpointAttachment Attach(uint endpointId, NetworkNamespace network, int hostInterfaceIndex)
    {
        ArgumentNullException.ThrowIfNull(network);
        var programs = LoadEndpoint(endpointId);
        return network.Run(() => AttachPrograms(programs, hostInterfaceIndex, network.Run));
    }

    /// <summary>Removes every conntrack entry, so every flow is checked again at its next packet.</summary>
    /// <returns>How many entries were removed.</returns>
    public int FlushConntrack()
    {
        var map = GetMap(BpfConstants.ConntrackMapName);
        var keys = map.GetKeys().ToList();
        return keys.Count == 0 ? 0 : map.DeleteBatch(keys.SelectMany(k => k).ToArray(), keys.Count);
    }

    /// <summary>Reads the per-CPU counters, summed.</summary>
    /// <returns>Allowed, dropped, events lost, non-IP.</returns>
    public (ulong Allowed, ulong Dropped, ulong EventsLost, ulong NonIP) ReadStatistics()
    {
        var map = GetMap(BpfConstants.StatsMapName);
        ulong Sum(uint index) => map.TryLookupPerCpu<uint, ulong>(index, out var values) ? values.Aggregate(0UL, (a, v) => a + v) : 0;
        return (Sum(BpfConstants.StatAllowed), Sum(BpfConstants.StatDropped), Sum(BpfConstants.StatEventsLost), Sum(BpfConstants.StatNonIP));
    }

    /// <summary>Opens a reader of the verdict event ring buffer.</summary>
    /// <param name="onEvent">Called for every event, on the thread that polls.</param>
    /// <returns>The reader; call <see cref="RingBufferReader.Poll"/> or <see cref="RingBufferReader.Consume"/>.</returns>
    public RingBufferReader OpenEvents(Action<BpfVerdictEvent> onEvent)
    {
        ArgumentNullException.ThrowIfNull(onEvent);
        return new RingBufferReader(GetMap(BpfConstants.EventsMapName), record => onEvent(new BpfVerdictEvent(BpfEvent.ReadFrom(record))));
    }

    /// <summary>Unloads every program and releases the maps (attachments must be disposed first; attached programs stay
    /// in the kernel while attached).</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            foreach (var obj in _endpoints.Values)
            {
                obj.Dispose();
            }

            _endpoints.Clear();
            _maps.Dispose();
        }
    }

    private static void PreparePinDirectory(string directory)
    {
        var parent = Path.GetDirectoryName(Path.GetFullPath(directory)) ?? "/";
        if (string.Equals(parent, BpfFileSystem.DefaultPath, StringComparison.Ordinal))
        {
            BpfFileSystem.EnsureMounted();
        }

        if (!BpfFileSystem.IsMounted(parent) && !BpfFileSystem.IsMounted(directory))
        {
            throw new ArgumentException($"pin directory '{directory}' is not on a bpffs; use a directory below a bpffs mount such as {BpfFileSystem.DefaultPath}.", nameof(directory));
        }

        Directory.CreateDirectory(directory);
    }

    private int RemoveStale(BpfMapImages images)
    {
        var removed = 0;
        foreach (var name in s_imageMaps)
        {
            var map = _maps.GetMap(name);
            var image = images.GetMap(name);
            if (map.Type is NetPolicy.Loader.Bpf.BpfMapType.Array)
            {
                var zero = new byte[map.ValueSize];
                var value = new byte[map.ValueSize];
                for (uint index = 0; index < map.MaxEntries; index++)
                {
                    var key = BitConverter.GetBytes(index);
                    if (!image.TryGetValue(key, out _) && map.TryLookup(key, value) && value.AsSpan().IndexOfAnyExcept((byte)0) >= 0)
                    {
                        map.Update(key, zero);
                        removed++;
                    }
                }
            }
            else
            {
                foreach (var key in map.GetKeys().ToList())
                {
                    if (!image.TryGetValue(key, out _))
                    {
                        removed += map.Delete(key) ? 1 : 0;
                    }
                }
            }
        }

        return removed;
    }

    private static byte[] Config(BpfDatapathOptions options, uint endpointId)
    {
        var flags = (options.EmitAllowEvents ? BpfConstants.ConfigEmitAllow : 0) |
                    (options.FailOpen ? BpfConstants.ConfigFailOpen : 0) |
                    (options.PoliceHostTraffic ? BpfConstants.ConfigPoliceHost : 0);
        var bytes = new byte[BpfConfig.Size];
        new BpfConfig(endpointId, (uint)options.Mode, flags).WriteTo(bytes);
        return bytes;
    }

    private static int Write(BpfMap map, IReadOnlyList<BpfMapEntry> entries, int keySize, int valueSize)
    {
        if (entries.Count == 0)
        {
            return 0;
        }

        var keys = new byte[entries.Count * keySize];
        var values = new byte[entries.Count * valueSize];
        for (var i = 0; i < entries.Count; i++)
        {
            entries[i].Key.Span.CopyTo(keys.AsSpan(i * keySize, keySize));
            if (!entries[i].Value.IsEmpty)
            {
                entries[i].Value.Span.CopyTo(values.AsSpan(i * valueSize, valueSize));
            }
        }

        return map.UpdateBatch(keys, values, entries.Count);
    }

    private static int Remove(BpfMap map, IReadOnlyList<BpfMapEntry> entries, int keySize)
    {
        if (entries.Count == 0)
        {
            return 0;
        }

        var keys = new byte[entries.Count * keySize];
        for (var i = 0; i < entries.Count; i++)
        {
            entries[i].Key.Span.CopyTo(keys.AsSpan(i * keySize, keySize));
        }

        return map.DeleteBatch(keys, entries.Count);
    }

    private BpfEndpointAttachment AttachPrograms(BpfEndpointPrograms programs, int hostInterfaceIndex, Action<Action>? runInNamespace)
    {
        var fromPod = programs.FromPod.AttachTc(hostInterfaceIndex, TcDirection.Ingress, _options.AttachMode);
        try
        {
            var toPod = programs.ToPod.AttachTc(hostInterfaceIndex, TcDirection.Egress, _options.AttachMode);
            if (fromPod.Mode != TcAttachMode.Tcx)
            {
                _logger.AttachedWithClsact(programs.EndpointId, hostInterfaceIndex);
            }

            return new BpfEndpointAttachment(programs.EndpointId, fromPod, toPod, runInNamespace);
        }
        catch
        {
            fromPod.Dispose();
            throw;
        }
    }
}
