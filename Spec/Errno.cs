namespace GupConformance.Spec;

/// <summary>
/// Linux errno values the contract speaks of. Results are reported as <c>-errno</c>, never as text,
/// so a model and an implementation can only agree or disagree on a number.
/// </summary>
public static class Errno
{
    public const long EIO = 5;
    public const long EAGAIN = 11;
    public const long ENOMEM = 12;
    public const long EFAULT = 14;
    public const long EBUSY = 16;
    public const long EINVAL = 22;
    public const long EOVERFLOW = 75;
    public const long EOPNOTSUPP = 95;

    /// <summary>Renders a result as the kernel would print it: a count, or -EXXX.</summary>
    public static string Describe(long result) => result switch
    {
        -EIO => "-EIO",
        -EAGAIN => "-EAGAIN",
        -ENOMEM => "-ENOMEM",
        -EFAULT => "-EFAULT",
        -EBUSY => "-EBUSY",
        -EINVAL => "-EINVAL",
        -EOVERFLOW => "-EOVERFLOW",
        -EOPNOTSUPP => "-EOPNOTSUPP",
        _ => result.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
