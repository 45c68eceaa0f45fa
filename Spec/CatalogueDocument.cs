using System.Globalization;
using System.Text;

namespace GupConformance.Spec;

/// <summary>
/// Renders the rule catalogue and the profiles as Markdown (Spec/RULES.md and Spec/PROFILES.md are these
/// renderings, kept current by a test). Output is deterministic: catalogue order, invariant culture, LF.
/// </summary>
public static class CatalogueDocument
{
    public static string RenderRules()
    {
        var sb = new StringBuilder();
        sb.Append("# GupConformance rule catalogue\n\n");
        sb.Append(CultureInfo.InvariantCulture, $"Suite version {SuiteVersion.Value}. {Rules.All.Count} rules in {Rules.All.Select(r => r.Group).Distinct().Count()} groups, checked under {Profiles.All.Count} profiles; {LiveRules.All.Count} live rules, checked on a running kernel (the [last part](#live-rules-running-kernel)).\n");
        sb.Append("Generated from `Spec/Rules.cs` and `Spec/LiveRules.cs` by `CatalogueDocument.RenderRules()`; do not edit by hand.\n\n");
        sb.Append("Each rule: its level, the facet an implementation must declare for it, the profiles it applies to, its intent, what to check when it fails, and its source (section numbers refer to `shared/reference/linux-gup-semantics.md`).\n\n");
        sb.Append("| Id | Level | Facet | Title |\n|---|---|---|---|\n");
        foreach (var r in Rules.All)
        {
            sb.Append(CultureInfo.InvariantCulture, $"| [{r.Id}](#{Anchor(r.Id)}) | {Level(r.Level)} | {r.Facet} | {Escape(r.Title)} |\n");
        }

        foreach (var group in Rules.All.GroupBy(r => r.Group))
        {
            sb.Append(CultureInfo.InvariantCulture, $"\n## {group.Key}\n");
            foreach (var r in group)
            {
                sb.Append(CultureInfo.InvariantCulture, $"\n### {r.Id}\n\n");
                sb.Append(CultureInfo.InvariantCulture, $"**{Level(r.Level)}** · facet `{r.Facet}` · {Escape(r.Title)}\n\n");
                sb.Append(CultureInfo.InvariantCulture, $"- Intent: {r.Intent}\n");
                sb.Append(CultureInfo.InvariantCulture, $"- If this fails, {r.IfFails}\n");
                sb.Append(CultureInfo.InvariantCulture, $"- Source: {r.Source}\n");
                var profiles = r.Profiles.Select(p => $"`{p.Id}`").ToList();
                sb.Append(CultureInfo.InvariantCulture, $"- Profiles: {(profiles.Count == 0 ? "none" : string.Join(", ", profiles))}\n");
            }
        }

        RenderLiveRules(sb);
        return sb.ToString();
    }

    /// <summary>
    /// The live rules, in the same shape: what the LiveKernel fixture checks with real system calls on a running
    /// kernel (this machine's, or a kernel under test in a VM), against the live model of the kernel's live profile.
    /// </summary>
    private static void RenderLiveRules(StringBuilder sb)
    {
        sb.Append("\n## Live rules (running kernel)\n\n");
        sb.Append("Checked by `gupconformance --live` (this machine's kernel) or `--live --impl kernel:…` (a kernel under test in a VM): generated\n");
        sb.Append("sequences of real system calls (io_uring, O_DIRECT, vmsplice, process_vm_readv, fork) observed through the pin counters,\n");
        sb.Append("VmPin, pagemap and kpageflags, against the live model (Oracles/Live) of the kernel's live profile\n");
        sb.Append("(Oracles/Live/LiveProfile.cs: one per era, chosen from the kernel's release).\n\n| Id | Group | Title |\n|---|---|---|\n");
        foreach (var r in LiveRules.All)
        {
            sb.Append(CultureInfo.InvariantCulture, $"| [{r.Id}](#{Anchor(r.Id)}) | {r.Group} | {Escape(r.Title)} |\n");
        }

        foreach (var r in LiveRules.All)
        {
            sb.Append(CultureInfo.InvariantCulture, $"\n### {r.Id}\n\n");
            sb.Append(CultureInfo.InvariantCulture, $"**live** · group `{r.Group}` · {Escape(r.Title)}\n\n");
            sb.Append(CultureInfo.InvariantCulture, $"- Intent: {r.Intent}\n");
            sb.Append(CultureInfo.InvariantCulture, $"- If this fails: {r.IfFails}\n");
            sb.Append(CultureInfo.InvariantCulture, $"- Source: {r.Source}\n");
        }
    }


    public static string RenderProfiles()
    {
        var sb = new StringBuilder();
        sb.Append("# GupConformance profiles\n\n");
        sb.Append("Generated from `Spec/Profiles.cs` by `CatalogueDocument.RenderProfiles()`; do not edit by hand.\n\n");
        sb.Append("| Profile | Kind | Basis | What it stands for |\n|---|---|---|---|\n");
        foreach (var p in Profiles.All)
        {
            sb.Append(CultureInfo.InvariantCulture, $"| `{p.Id}`{(p == Profiles.Default ? " (default)" : string.Empty)} | {(p.IsProposal ? "proposal" : "released")} | {Escape(p.Basis)} | {Escape(p.Title)} |\n");
        }

        sb.Append("\n## Era parameters\n\n");
        sb.Append("| Profile | Pins | Validation | Zero page pinned | Flags (FOLL_PIN / FOLL_GET) | iov_iter | Bio | Frame vectors | Facets |\n|---|---|---|---|---|---|---|---|---|\n");
        foreach (var p in Profiles.All)
        {
            var pin = p.Flags.Exists(Foll.Pin) ? Hex(p.Flags.ValueOf(Foll.Pin)) : "—";
            sb.Append(CultureInfo.InvariantCulture, $"| `{p.Id}` | {p.Pins}{(p.Is64Bit ? string.Empty : " (32-bit)")} | {p.Validation} | {(p.ZeroPagePinned ? "yes" : "no")} | {pin} / {Hex(p.Flags.ValueOf(Foll.Get))} | {p.Iov} | {p.Bio} | {p.FrameVector} | {p.Facets} |\n");
        }

        sb.Append("\n## Rules per profile\n\n");
        sb.Append("| Profile | Rules that apply |\n|---|---|\n");
        foreach (var p in Profiles.All)
        {
            var ids = Rules.All.Where(r => r.Applies(p)).Select(r => r.Id).ToList();
            sb.Append(CultureInfo.InvariantCulture, $"| `{p.Id}` | {ids.Count}: {string.Join(", ", ids)} |\n");
        }

        return sb.ToString();
    }

    private static string Level(RuleLevel l) => l == RuleLevel.Must ? "MUST" : "SHOULD";

    private static string Hex(long v) => "0x" + v.ToString("x", CultureInfo.InvariantCulture);

    private static string Escape(string s) => s.Replace("|", "\\|", StringComparison.Ordinal);

    private static string Anchor(string id) => id.ToLowerInvariant();
}
