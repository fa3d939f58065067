namespace NetPolicy.Compiler.Validation;

/// <summary>The API server's name and label validation rules (k8s.io/apimachinery/pkg/util/validation).</summary>
internal static class KubernetesNames
{
    public static bool IsDns1123Label(string? value)
    {
        if (string.IsNullOrEmpty(value) || value.Length > 63)
        {
            return false;
        }

        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            var ok = c is (>= 'a' and <= 'z') or (>= '0' and <= '9') || (c == '-' && i > 0 && i < value.Length - 1);
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    public static bool IsDns1123Subdomain(string? value)
    {
        if (string.IsNullOrEmpty(value) || value.Length > 253)
        {
            return false;
        }

        foreach (var part in value.Split('.'))
        {
            if (!IsDns1123Label(part))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A qualified name: an optional DNS subdomain prefix and '/', then a name of at most 63 characters.</summary>
    public static bool IsQualifiedName(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return false;
        }

        var slash = value.IndexOf('/', StringComparison.Ordinal);
        var name = value;
        if (slash >= 0)
        {
            if (!IsDns1123Subdomain(value[..slash]))
            {
                return false;
            }

            name = value[(slash + 1)..];
        }

        return name.Length is > 0 and <= 63 && IsNamePart(name);
    }

    /// <summary>A label value: empty, or at most 63 characters of the qualified-name alphabet.</summary>
    public static bool IsLabelValue(string? value) =>
        value is not null && (value.Length == 0 || (value.Length <= 63 && IsNamePart(value)));

    /// <summary>An IANA service name: 1–15 lower-case letters, digits and non-adjacent inner hyphens, with at least one letter.</summary>
    public static bool IsIanaServiceName(string? value)
    {
        if (string.IsNullOrEmpty(value) || value.Length > 15 || value[0] == '-' || value[^1] == '-')
        {
            return false;
        }

        var letter = false;
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c is >= 'a' and <= 'z')
            {
                letter = true;
            }
            else if (c == '-')
            {
                if (value[i - 1] == '-')
                {
                    return false;
                }
            }
            else if (c is not (>= '0' and <= '9'))
            {
                return false;
            }
        }

        return letter;
    }

    private static bool IsNamePart(string value)
    {
        if (!char.IsAsciiLetterOrDigit(value[0]) || !char.IsAsciiLetterOrDigit(value[^1]))
        {
            return false;
        }

        foreach (var c in value)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_' or '.'))
            {
                return false;
            }
        }

        return true;
    }
}
