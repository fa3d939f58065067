using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using NetPolicy.Loader.Native;

namespace NetPolicy.Loader.Bpf;

/// <summary>Reads the records a BPF program submits to a ring buffer map (BPF_MAP_TYPE_RINGBUF), via libbpf's ring_buffer.</summary>
/// <remarks>
/// Call <see cref="Poll"/> or <see cref="Consume"/> from one thread at a time; the callback runs on that thread, once
/// per record, with a span that is valid only during the call (copy what you keep). An exception thrown by the
/// callback stops the poll and is rethrown by it; records after it stay in the buffer. The reader keeps the map's
/// descriptor open until disposed.
/// </remarks>
/// <example>
/// <code>
/// using var events = new RingBufferReader(datapath.GetMap("np_events"), record => Console.WriteLine(record.Length));
/// while (!stopping) events.Poll(TimeSpan.FromMilliseconds(100));
/// </code>
/// </example>
public sealed unsafe class RingBufferReader : IDisposable
{
    private readonly Action<ReadOnlySpan<byte>> _onRecord;
    private readonly SafeRingBufferHandle _ring;
    private ExceptionDispatchInfo? _failure;

    /// <summary>Creates a reader over a ring buffer map.</summary>
    /// <param name="map">A created map of type <see cref="BpfMapType.RingBuffer"/>.</param>
    /// <param name="onRecord">Called once per record, on the polling thread.</param>
    /// <exception cref="ArgumentException"><paramref name="map"/> is not a ring buffer.</exception>
    /// <exception cref="InvalidOperationException">The map is not created yet.</exception>
    /// <exception cref="KernelOperationException">Mapping the ring buffer failed.</exception>
    public RingBufferReader(BpfMap map, Action<ReadOnlySpan<byte>> onRecord)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(onRecord);
        if (map.Type != BpfMapType.RingBuffer)
        {
            throw new ArgumentException($"BPF map '{map.Name}' is a {map.Type} map, not a ring buffer.", nameof(map));
        }

        _onRecord = onRecord;
        _ring = new SafeRingBufferHandle();
        var mapOwner = map.AddRef(out int fd);
        try
        {
            // A weak handle: the reader is alive whenever libbpf calls back, as callbacks happen only inside Poll and
            // Consume, and an unreachable reader can still be finalized.
            var self = GCHandle.Alloc(this, GCHandleType.Weak);
            using var capture = LibBpfLog.Begin();
            var options = new LibBpf.RingBufferOptions { Size = (nuint)sizeof(LibBpf.RingBufferOptions) };
            nint ring = LibBpf.RingBufferNew(fd, &OnSample, (void*)GCHandle.ToIntPtr(self), &options);
            if (ring == 0)
            {
                int errno = LibBpf.LastErrno();
                self.Free();
                throw KernelErrors.Create("ring_buffer__new", $"Opening ring buffer map '{map.Name}'", errno, capture.Messages);
            }

            _ring.Initialize(ring, self, mapOwner);
        }
        catch
        {
            mapOwner.DangerousRelease();
            throw;
        }
    }

    /// <summary>Waits up to <paramref name="timeout"/> for records and hands every available one to the callback.</summary>
    /// <param name="timeout">How long to wait when no record is ready; <see cref="Timeout.InfiniteTimeSpan"/> waits forever, zero does not wait.</param>
    /// <returns>The number of records handled (0 on timeout or when a signal interrupted the wait).</returns>
    /// <exception cref="ObjectDisposedException">The reader is disposed.</exception>
    /// <exception cref="KernelOperationException">epoll or the ring buffer failed.</exception>
    public int Poll(TimeSpan timeout)
    {
        int milliseconds = timeout == Timeout.InfiniteTimeSpan ? -1 : (int)Math.Clamp(timeout.TotalMilliseconds, 0, int.MaxValue);
        return Run(ring => LibBpf.RingBufferPoll(ring, milliseconds), "ring_buffer__poll");
    }

    /// <summary>Hands every record available now to the callback, without waiting.</summary>
    /// <returns>The number of records handled.</returns>
    /// <exception cref="ObjectDisposedException">The reader is disposed.</exception>
    /// <exception cref="KernelOperationException">The ring buffer failed.</exception>
    public int Consume() => Run(LibBpf.RingBufferConsume, "ring_buffer__consume");

    /// <summary>Frees the ring buffer and releases the map. Idempotent.</summary>
    public void Dispose() => _ring.Dispose();

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int OnSample(void* context, void* data, nuint size)
    {
        if (GCHandle.FromIntPtr((nint)context).Target is not RingBufferReader reader)
        {
            return -Errno.ECANCELED;
        }

        try
        {
            reader._onRecord(new ReadOnlySpan<byte>(data, checked((int)size)));
            return 0;
        }
#pragma warning disable CA1031 // Not swallowed: an exception cannot unwind through libbpf, so Poll rethrows it.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            reader._failure = ExceptionDispatchInfo.Capture(exception);
            return -Errno.ECANCELED;
        }
    }

    private int Run(Func<nint, int> call, string operation)
    {
        bool added = false;
        _ring.DangerousAddRef(ref added);
        try
        {
            _failure = null;
            int result = call(_ring.DangerousGetHandle());
            if (_failure is { } failure)
            {
                _failure = null;
                failure.Throw();
            }

            if (result == -Errno.EINTR)
            {
                return 0;
            }

            return result >= 0 ? result : throw KernelErrors.FromResult(operation, "Reading a BPF ring buffer", result);
        }
        finally
        {
            _ring.DangerousRelease();
        }
    }

    private sealed class SafeRingBufferHandle : SafeHandle
    {
        private GCHandle _self;
        private SafeHandle? _mapOwner;

        public SafeRingBufferHandle()
            : base(0, ownsHandle: true)
        {
        }

        public override bool IsInvalid => handle == 0;

        public void Initialize(nint ring, GCHandle self, SafeHandle mapOwner)
        {
            _self = self;
            _mapOwner = mapOwner;
            SetHandle(ring);
        }

        protected override bool ReleaseHandle()
        {
            LibBpf.RingBufferFree(handle);
            if (_self.IsAllocated)
            {
                _self.Free();
            }

            _mapOwner?.DangerousRelease();
            return true;
        }
    }
}
