using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace NetPolicy.Loader.Native;

/// <summary>
/// Routes libbpf's diagnostics (libbpf_set_print) into per-thread captures, so a failed call can quote what libbpf
/// said in its exception. libbpf prints on the thread that called it. Outside a capture, messages go to whatever print
/// function was installed before (libbpf's default writes warnings to stderr), so other libbpf users in the process
/// keep their behaviour. The callback is installed once per process.
/// </summary>
internal static unsafe class LibBpfLog
{
    private const int LevelWarn = 0;
    private const int LevelInfo = 1;

    // A va_list is at most 32 bytes (arm64; 24 on x86-64). Both ABIs pass it to a callee as a pointer to the caller's
    // copy, so copying those bytes is what va_copy does, and lets us format one message twice.
    private const int VaListCopySize = 32;

    private static readonly Lock s_installLock = new();
    private static bool s_installed;
    private static delegate* unmanaged[Cdecl]<int, byte*, nint, int> s_previous;

    [ThreadStatic]
    private static StringBuilder? t_capture;

    /// <summary>Starts capturing libbpf messages printed on this thread until the returned scope is disposed.</summary>
    public static Capture Begin()
    {
        EnsureInstalled();
        var previous = t_capture;
        var builder = new StringBuilder();
        t_capture = builder;
        return new Capture(previous, builder);
    }

    private static void EnsureInstalled()
    {
        if (Volatile.Read(ref s_installed))
        {
            return;
        }

        lock (s_installLock)
        {
            if (!s_installed)
            {
                s_previous = LibBpf.SetPrint(&Print);
                Volatile.Write(ref s_installed, true);
            }
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Print(int level, byte* format, nint arguments)
    {
        var capture = t_capture;
        if (capture is null)
        {
            var previous = s_previous;
            return previous == null ? 0 : previous(level, format, arguments);
        }

        if (level is LevelWarn or LevelInfo && format != null && arguments != 0)
        {
            capture.Append(Format(format, arguments));
        }

        return 0;
    }

    private static string Format(byte* format, nint arguments)
    {
        byte* copy = stackalloc byte[VaListCopySize];
        Buffer.MemoryCopy((void*)arguments, copy, VaListCopySize, VaListCopySize);

        const int StackSize = 1024;
        byte* buffer = stackalloc byte[StackSize];
        int length = LibC.VsnPrintf(buffer, StackSize, format, arguments);
        if (length < 0)
        {
            return string.Empty;
        }

        if (length < StackSize)
        {
            return Encoding.UTF8.GetString(buffer, length);
        }

        byte[] large = new byte[length + 1];
        fixed (byte* p = large)
        {
            int written = LibC.VsnPrintf(p, (nuint)large.Length, format, (nint)copy);
            return Encoding.UTF8.GetString(p, Math.Clamp(written, 0, length));
        }
    }

    /// <summary>An active capture; <see cref="Messages"/> holds what libbpf printed so far.</summary>
    public readonly ref struct Capture
    {
        private readonly StringBuilder? _previous;
        private readonly StringBuilder _builder;

        internal Capture(StringBuilder? previous, StringBuilder builder)
        {
            _previous = previous;
            _builder = builder;
        }

        /// <summary>Gets the captured messages, trimmed.</summary>
        public string Messages => _builder.ToString().Trim();

        public void Dispose()
        {
            t_capture = _previous;
            _previous?.Append(_builder);
        }
    }
}
