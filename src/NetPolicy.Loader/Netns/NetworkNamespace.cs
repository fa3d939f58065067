using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace NetPolicy.Loader.Netns;

/// <summary>A named network namespace (<c>/run/netns/NAME</c>, as <c>ip netns</c> manages them) and a dedicated thread that
/// runs work inside it.</summary>
/// <remarks>
/// Netlink, interface-index and socket calls act in the calling thread's network namespace, so they must never run on a
/// pool thread that another component may have moved. <see cref="Run{T}(Func{T})"/> runs work on one thread of this
/// instance that entered the namespace with <c>setns(2)</c> and never leaves it. A socket created there stays in the
/// namespace, so it can then be used from any thread.
/// <para>A namespace made by <see cref="Create"/> is owned: <see cref="Dispose"/> stops the thread and deletes it.
/// One made by <see cref="Open"/> is not deleted.</para>
/// </remarks>
public sealed class NetworkNamespace : IDisposable
{
    private const string RunDirectory = "/run/netns";
    private readonly BlockingCollection<Action> _work = [];
    private readonly bool _owned;
    private readonly Lazy<Thread> _thread;
    private int _disposed;

    private NetworkNamespace(string name, bool owned)
    {
        Name = name;
        _owned = owned;
        _thread = new Lazy<Thread>(StartThread, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>Gets the namespace name.</summary>
    public string Name { get; }

    /// <summary>Gets the path of the namespace handle, <c>/run/netns/NAME</c>.</summary>
    public string Path => System.IO.Path.Combine(RunDirectory, Name);

    /// <summary>Creates a namespace with <c>ip netns add</c>; <see cref="Dispose"/> deletes it.</summary>
    /// <param name="name">The name: letters, digits, <c>-</c>, <c>_</c> and <c>.</c>.</param>
    /// <returns>The namespace.</returns>
    /// <exception cref="KernelOperationException">When the namespace cannot be created (exists already, or no privileges).</exception>
    public static NetworkNamespace Create(string name)
    {
        ValidateName(name);
        IpCommand.Run(null, $"netns add {name}");
        return new NetworkNamespace(name, owned: true);
    }

    /// <summary>Opens an existing named namespace without taking ownership.</summary>
    /// <param name="name">The name.</param>
    /// <returns>The namespace.</returns>
    /// <exception cref="KernelOperationException">When <c>/run/netns/NAME</c> does not exist.</exception>
    public static NetworkNamespace Open(string name)
    {
        ValidateName(name);
        if (!File.Exists(System.IO.Path.Combine(RunDirectory, name)))
        {
            throw new KernelOperationException($"network namespace '{name}' does not exist ({RunDirectory}/{name}); create it with 'ip netns add {name}'.", "open network namespace", 2);
        }

        return new NetworkNamespace(name, owned: false);
    }

    /// <summary>Runs work on this namespace's thread and waits for it.</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="action">The work.</param>
    /// <returns>What the work returned; its exception is rethrown.</returns>
    public T Run<T>(Func<T> action) => RunAsync(action).GetAwaiter().GetResult();

    /// <summary>Runs work on this namespace's thread and waits for it.</summary>
    /// <param name="action">The work.</param>
    public void Run(Action action)
    {
        ArgumentNullException.ThrowIfNull(action);
        Run(() =>
        {
            action();
            return true;
        });
    }

    /// <summary>Runs work on this namespace's thread.</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="action">The work.</param>
    /// <returns>A task completing with what the work returned.</returns>
    /// <exception cref="ObjectDisposedException">After <see cref="Dispose"/>.</exception>
    public Task<T> RunAsync<T>(Func<T> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        _ = _thread.Value;
        var completion = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        _work.Add(() =>
        {
            try
            {
                completion.SetResult(action());
            }
            catch (Exception ex)
            {
                completion.SetException(ex);
            }
        });
        return completion.Task;
    }

    /// <summary>Returns the index of an interface of this namespace.</summary>
    /// <param name="interfaceName">The interface name.</param>
    /// <returns>The index.</returns>
    /// <exception cref="KernelOperationException">When no such interface exists.</exception>
    public int GetInterfaceIndex(string interfaceName)
    {
        ArgumentException.ThrowIfNullOrEmpty(interfaceName);
        return Run(() =>
        {
            var index = NetnsInterop.IfNameToIndex(interfaceName);
            if (index == 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                throw new KernelOperationException($"interface '{interfaceName}' not found in network namespace '{Name}'.", "if_nametoindex", errno);
            }

            return (int)index;
        });
    }

    /// <summary>Writes a sysctl of this namespace (for example <c>net/ipv4/ip_forward</c>).</summary>
    /// <param name="key">The key below <c>/proc/sys</c>, with <c>/</c> or <c>.</c> separators.</param>
    /// <param name="value">The value.</param>
    public void SetSysctl(string key, string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(value);
        var path = "/proc/sys/" + key.Replace('.', '/');
        Run(() => File.WriteAllText(path, value));
    }

    /// <summary>Runs <c>ip -n NAME -batch -</c> with the given commands, one per line.</summary>
    /// <param name="commands">The commands, without the leading <c>ip</c>.</param>
    /// <exception cref="KernelOperationException">When <c>ip</c> refuses a command; the message names it.</exception>
    public void IpBatch(IEnumerable<string> commands) => IpCommand.Batch(Name, commands);

    /// <summary>Stops the thread and, for a namespace made by <see cref="Create"/>, deletes it.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _work.CompleteAdding();
        if (_thread.IsValueCreated)
        {
            _thread.Value.Join();
        }

        _work.Dispose();
        if (_owned)
        {
            IpCommand.Run(null, $"netns del {Name}");
        }
    }

    /// <inheritdoc/>
    public override string ToString() => Name;

    private static void ValidateName(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.Length > 64 || name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')) || name is "." or "..")
        {
            throw new ArgumentException($"'{name}' is not a valid network namespace name (letters, digits, '-', '_', '.'; at most 64).", nameof(name));
        }
    }

    private Thread StartThread()
    {
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                using (var handle = File.OpenHandle(Path, FileMode.Open, FileAccess.Read))
                {
                    if (NetnsInterop.SetNs((int)handle.DangerousGetHandle(), NetnsInterop.CloneNewNet) != 0)
                    {
                        var errno = Marshal.GetLastPInvokeError();
                        throw new KernelOperationException($"cannot enter network namespace '{Name}' (errno {errno}); entering needs root (CAP_SYS_ADMIN).", "setns", errno);
                    }
                }

                entered.SetResult();
            }
            catch (Exception ex)
            {
                entered.SetException(ex);
                return;
            }

            foreach (var item in _work.GetConsumingEnumerable())
            {
                item();
            }
        })
        {
            IsBackground = true,
            Name = "netns " + Name,
        };
        thread.Start();
        entered.Task.GetAwaiter().GetResult();
        return thread;
    }
}
