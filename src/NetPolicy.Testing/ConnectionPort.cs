using System.Globalization;

namespace NetPolicy.Testing;

/// <summary>A destination port as tests write it: a number (<c>8080</c>) or a container port name (<c>"http"</c>),
/// resolved on the destination pod for the connection's protocol.</summary>
/// <remarks>Converts implicitly from <see cref="int"/> and <see cref="string"/>, so assertions take either:
/// <c>OnPort(8080)</c>, <c>OnPort("http")</c>. A string of digits is a number.</remarks>
public readonly record struct ConnectionPort
{
    private ConnectionPort(string text) => Text = text;

    /// <summary>Gets the port as written: digits, or a name.</summary>
    public string Text { get => field ?? "0"; }

    /// <summary>Gets the port number, or <see langword="null"/> for a named port.</summary>
    public int? Number => int.TryParse(Text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null;

    /// <summary>Converts a port number.</summary>
    /// <param name="port">The number, 1–65535.</param>
    public static implicit operator ConnectionPort(int port) => FromInt32(port);

    /// <summary>Converts a port number or name.</summary>
    /// <param name="port">The number or name.</param>
    public static implicit operator ConnectionPort(string port) => FromString(port);

    /// <summary>Makes a port from a number.</summary>
    /// <param name="port">The number, 1–65535.</param>
    /// <returns>The port.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The number is outside 1–65535.</exception>
    public static ConnectionPort FromInt32(int port)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        return new ConnectionPort(port.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>Makes a port from a number or name.</summary>
    /// <param name="port">The number or name.</param>
    /// <returns>The port.</returns>
    /// <exception cref="ArgumentException">The text is empty.</exception>
    public static ConnectionPort FromString(string port)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(port);
        return new ConnectionPort(port.Trim());
    }

    /// <summary>Returns the port as written.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => Text;
}
