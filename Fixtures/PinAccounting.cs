using GupConformance.Spec;

namespace GupConformance.Fixtures;

/// <summary>
/// The folio-level primitives of mm/gup.c and include/linux/mm.h: the acquire (try_grab_folio), the single
/// release primitive (gup_put_folio), folio_add_pin(), folio_maybe_dma_pinned() and the vmstat items.
/// Acquire and release decide "exact count or bias" and "zero page" through the same two predicates, which is
/// what makes every release the exact inverse of its grab (REL-EXACT-INVERSE).
/// </summary>
public partial class KernelStyleImplementation
{
    /// <summary>
    /// folio_has_pincount() and its ancestors — the one place that decides whether a folio keeps an exact pin
    /// count in this era. PIN-EXACT-LARGE, PIN-EXACT-ORDER1, PIN-BIAS-ORDER1-LEGACY, PIN-BIAS-ORDER1-32BIT:
    /// 5.7–5.17 hpage_pincount_available() (order &gt; 1: the counter lived in page[2]); 5.18–6.14
    /// folio_test_large(); 6.15+ IS_ENABLED(CONFIG_64BIT) ? folio_test_large() : folio_order() &gt; 1.
    /// </summary>
    protected virtual bool FolioHasPincount(Folio folio) => Profile.Pins switch
    {
        PinScheme.NoPins or PinScheme.PlusOne => false,
        PinScheme.ExactAboveOrder1 => folio.Order > 1,
        PinScheme.ExactAllLarge => folio.Order >= 1,
        PinScheme.FolioHasPincount => Profile.Is64Bit ? folio.Order >= 1 : folio.Order > 1,
        _ => throw new InvalidOperationException(Profile.Pins.ToString()),
    };

    /// <summary>
    /// is_zero_folio() as the pin paths use it (ZERO-NOT-PINNED, ZERO-PINNED-LEGACY): from v6.5 (c8070b787519)
    /// FOLL_PIN grabs and releases of the shared zero page are no-ops; before, the zero page is just a small page.
    /// </summary>
    protected virtual bool PinSkipsZeroFolio(Folio folio) => folio.IsZeroPfn && !Profile.ZeroPagePinned;

    /// <summary>
    /// try_grab_folio(folio, refs, flags) / try_grab_page(). OVF-SIGN-CHECK: WARN_ON_ONCE(refcount &lt;= 0) →
    /// -ENOMEM, checked before the add and never against the sum (OVF-NO-SATURATION: the add wraps).
    /// REF-GET-PLUS-ONE: FOLL_GET adds refs. FOLL_PIN: PIN-PLACEHOLDER-PLUS-ONE (5.6: +refs like a ref);
    /// ZERO-NOT-PINNED (6.5+: zero page untouched, no vmstat); PIN-EXACT-*: refcount +refs and pin count
    /// +refs; PIN-BIAS-SMALL / PIN-BIAS-ORDER1-*: refcount + refs * GUP_PIN_COUNTING_BIAS; then
    /// VMSTAT-ACQ-PER-ENTRY: NR_FOLL_PIN_ACQUIRED += refs. Neither flag: nothing (REF-NO-PAGES-NO-REF).
    /// </summary>
    protected virtual int TryGrabFolio(Folio folio, int refs, long flags)
    {
        if (FolioRefCount(folio) <= 0)
        {
            return (int)-Errno.ENOMEM;
        }

        GrabFolioRefs(folio, refs, flags);
        return 0;
    }

    /// <summary>The add half of try_grab_folio(), after the sign check: what a FOLL_GET or FOLL_PIN grab changes.</summary>
    protected void GrabFolioRefs(Folio folio, int refs, long flags)
    {
        if ((flags & FOLL_GET) != 0)
        {
            FolioRefAdd(folio, refs);
            return;
        }

        if ((flags & FOLL_PIN) == 0)
        {
            return;
        }

        if (Profile.Pins == PinScheme.PlusOne)
        {
            // v5.6: FOLL_PIN is only a marker; the pin is an ordinary reference.
            FolioRefAdd(folio, refs);
            return;
        }

        if (PinSkipsZeroFolio(folio))
        {
            return;
        }

        if (FolioHasPincount(folio))
        {
            FolioRefAdd(folio, refs);
            FolioPinCountAdd(folio, refs);
        }
        else
        {
            FolioRefAdd(folio, unchecked(refs * GUP_PIN_COUNTING_BIAS));
        }

        NodeStatModFollPinAcquired(folio, refs);
    }

    /// <summary>
    /// gup_put_folio(folio, refs, flags): the single release primitive, the exact inverse of TryGrabFolio.
    /// REL-UNPIN-PLUS-ONE (5.6: a put); ZERO-NOT-PINNED (6.5+: zero folio → return, no vmstat);
    /// VMSTAT-REL-PER-ENTRY: NR_FOLL_PIN_RELEASED += refs before the bias multiplication; REL-UNPIN-EXACT:
    /// pin count −refs, refcount −refs; REL-UNPIN-BIAS: refcount −refs * 1024. FOLL_GET: REL-PUT-PAGE.
    /// Never second-guesses the caller (REL-MISUSE-UNPIN-REFFED).
    /// </summary>
    protected virtual void GupPutFolio(Folio folio, int refs, long flags)
    {
        if ((flags & FOLL_PIN) != 0 && Profile.Pins != PinScheme.PlusOne)
        {
            if (PinSkipsZeroFolio(folio))
            {
                return;
            }

            NodeStatModFollPinReleased(folio, refs);
            if (FolioHasPincount(folio))
            {
                FolioPinCountAdd(folio, unchecked(-refs));
            }
            else
            {
                refs = unchecked(refs * GUP_PIN_COUNTING_BIAS);
            }
        }

        FolioPutRefs(folio, refs);
    }

    /// <summary>put_page(): one reference off the page's folio, whatever the page was obtained with
    /// (REL-PUT-PAGE, REL-MISUSE-PUT-PINNED, CORE-NO-COLLATERAL).</summary>
    protected virtual void PutPage(Page page) => FolioPutRefs(page.Folio, 1);

    /// <summary>
    /// folio_maybe_dma_pinned(). MDP-EXACT: exact count → pincount &gt; 0. MDP-BIAS-THRESHOLD,
    /// MDP-UNSIGNED-AFTER-WRAP: otherwise (unsigned)refcount &gt;= GUP_PIN_COUNTING_BIAS — the cast keeps a
    /// wrapped refcount "pinned" (MDP-NO-FALSE-NEGATIVE).
    /// </summary>
    protected virtual bool FolioMaybeDmaPinned(Folio folio)
    {
        if (FolioHasPincount(folio))
        {
            return Volatile.Read(ref folio.PinCount) > 0;
        }

        return unchecked((uint)FolioRefCount(folio)) >= GUP_PIN_COUNTING_BIAS;
    }

    /// <summary>
    /// folio_add_pin() (v6.5+). PIN-FOLIO-ADD-PIN: zero folio → nothing; exact → +1 ref +1 pin; small → +1024.
    /// VMSTAT-ADD-PIN-UNCOUNTED: no NR_FOLL_PIN_ACQUIRED, unlike try_grab_folio().
    /// </summary>
    protected virtual void FolioAddPinPrimitive(Folio folio)
    {
        if (folio.IsZeroPfn)
        {
            return;
        }

        if (FolioHasPincount(folio))
        {
            FolioRefAdd(folio, 1);
            FolioPinCountAdd(folio, 1);
        }
        else
        {
            FolioRefAdd(folio, GUP_PIN_COUNTING_BIAS);
        }
    }

    /// <summary>node_stat_mod_folio(folio, NR_FOLL_PIN_ACQUIRED, refs) — VMSTAT-ACQ-PER-ENTRY (v5.7+).</summary>
    protected virtual void NodeStatModFollPinAcquired(Folio folio, long refs)
    {
        if (Profile.HasPinVmstat)
        {
            Interlocked.Add(ref Mm.NrFollPinAcquired, refs);
        }
    }

    /// <summary>node_stat_mod_folio(folio, NR_FOLL_PIN_RELEASED, refs) — VMSTAT-REL-PER-ENTRY (v5.7+).</summary>
    protected virtual void NodeStatModFollPinReleased(Folio folio, long refs)
    {
        if (Profile.HasPinVmstat)
        {
            Interlocked.Add(ref Mm.NrFollPinReleased, refs);
        }
    }

    /// <summary>FolioAddPin command: folio_add_pin(page_folio(pages[Index])), remembered as a one-entry Pin array.</summary>
    private Observation DoFolioAddPin(FolioAddPin c)
    {
        var page = CallArray(c.FromCall)[c.Index];
        FolioAddPinPrimitive(page.Folio);
        var one = new PageArray();
        one.Add(page);
        RememberCall(c.NewCall, one);
        return new Observation { Result = 0, Pages = one.ToRuns() };
    }
}
