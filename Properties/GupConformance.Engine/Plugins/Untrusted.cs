using System.Globalization;
using System.Text;

namespace GupConformance.Engine.Plugins;

/// <summary>
/// Text that an implementation under test wrote (its stderr, its messages, the strings in its observations) is
/// untrusted: before it reaches a terminal or a report, every control character, and every character that reorders
/// or hides text (bidirectional overrides, zero-width marks), is shown as a visible escape such as \x1b or \u202e.
/// A plug-in can then neither clear the screen nor print a fake verdict line, nor break a Markdown table.
/// </summary>
public static class Untrusted
{
    /// <summary>The text with every unsafe character escaped; the same string when there is none.</summary>
    public static string Printable(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return text ?? string.Empty;
        }

        var clean = true;
        foreach (var ch in text)
        {
            if (Unsafe(ch))
            {
                clean = false;
                break;
            }
        }

        if (clean)
        {
            return text;
        }

        var sb = new StringBuilder(text.Length + 16);
        foreach (var ch in text)
        {
            if (!Unsafe(ch))
            {
                sb.Append(ch);
            }
            else if (ch < 0x100)
            {
                sb.Append("\\x").Append(((int)ch).ToString("x2", CultureInfo.InvariantCulture));
            }
            else
            {
                sb.Append("\\u").Append(((int)ch).ToString("x4", CultureInfo.InvariantCulture));
            }
        }

        return sb.ToString();
    }

    private static bool Unsafe(char ch) =>
        ch < 0x20 || ch == 0x7f || (ch >= 0x80 && ch < 0xa0)
        || ch is '\u200b' or '\u200c' or '\u200d' or '\u200e' or '\u200f' or '\u2028' or '\u2029' or '\ufeff'
        || (ch >= '\u202a' && ch <= '\u202e') || (ch >= '\u2066' && ch <= '\u2069');
}
