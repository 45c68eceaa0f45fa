using System.Buffers;
using System.Globalization;
using System.Text.Json;
using GupConformance.Spec;

namespace GupConformance.Engine.Plugins;

/// <summary>
/// The JSON-lines encoding of the process protocol (Spec/PROTOCOL.md, Spec/protocol.schema.json): commands,
/// requests, observations and manifests. Written by hand, not by reflection, so the wire format is exactly the
/// documented one and does not drift with the C# records.
/// </summary>
public static class ProcessWire
{
    /// <summary>The protocol version this engine speaks.</summary>
    public const int Version = 1;

    /// <summary>The protocol versions this engine accepts from an implementation.</summary>
    public static IReadOnlyList<int> Accepted { get; } = [Version];

    public static string RegionKindName(RegionKind k) => k switch
    {
        RegionKind.Anon => "anon",
        RegionKind.Zero => "zero",
        RegionKind.File => "file",
        RegionKind.Io => "io",
        RegionKind.PfnMap => "pfnmap",
        _ => throw new ArgumentOutOfRangeException(nameof(k)),
    };

    public static string ReleaseName(ReleaseFn f) => f switch
    {
        ReleaseFn.PutPage => "put_page",
        ReleaseFn.UnpinUserPage => "unpin_user_page",
        ReleaseFn.UnpinUserPages => "unpin_user_pages",
        ReleaseFn.UnpinUserPagesDirtyLock => "unpin_user_pages_dirty_lock",
        ReleaseFn.UnpinUserPageRangeDirtyLock => "unpin_user_page_range_dirty_lock",
        _ => throw new ArgumentOutOfRangeException(nameof(f)),
    };

    public static string IterKindName(IterKind k) => k.ToString().ToLowerInvariant();

    public static string IterDirName(IterDir d) => d == IterDir.Source ? "source" : "dest";

    /// <summary>The wire names of the facets, in bit order.</summary>
    public static IReadOnlyList<(Facet Facet, string Name)> FacetNames { get; } =
    [
        (Facet.Core, "core"), (Facet.LargeFolios, "large_folios"), (Facet.ZeroPage, "zero_page"), (Facet.IovIter, "iov_iter"),
        (Facet.Bio, "bio"), (Facet.FrameVector, "frame_vector"), (Facet.Netfs, "netfs"),
        (Facet.ReleaseArguments, "release_arguments"),
        (Facet.AllocFailure, "alloc_failure"),
        (Facet.RemoteMm, "remote_mm"),
        (Facet.LongtermMigration, "longterm_migration"),
    ];

    public static void WriteCommand(Utf8JsonWriter w, Command command, Profile profile)
    {
        w.WriteStartObject();
        w.WriteString("op", CommandText.Kind(command));
        switch (command)
        {
            case MapRegion m:
                w.WriteNumber("region", m.Region);
                w.WriteString("kind", RegionKindName(m.Kind));
                w.WriteNumber("start", m.Start);
                w.WriteNumber("folios", m.Folios);
                w.WriteNumber("order", m.Order);
                w.WriteNumber("start_refcount", m.StartRefcount);
                if (m.Mm != 0)
                {
                    // Only implementations claiming remote_mm see the field.
                    w.WriteNumber("mm", m.Mm);
                }

                if (m.Movable)
                {
                    // Only implementations claiming longterm_migration see the field.
                    w.WriteBoolean("movable", true);
                }

                break;
            case Gup g:
                w.WriteNumber("call", g.Call);
                w.WriteString("entry", g.Entry.KernelName());
                w.WriteNumber("start", g.Start);
                w.WriteNumber("nr_pages", g.NrPages);
                w.WriteStartArray("flags");
                foreach (var name in g.Flags.KernelNames())
                {
                    w.WriteStringValue(name);
                }

                w.WriteEndArray();
                w.WriteNumber("gup_flags", profile.Flags.Encode(g.Flags));
                w.WriteBoolean("with_pages", g.WithPages);
                if (g.Mm != 0)
                {
                    w.WriteNumber("mm", g.Mm);
                }

                if (g.Locked is { } locked)
                {
                    w.WriteNumber("locked", locked);
                }

                break;
            case Release r:
                w.WriteNumber("call", r.Call);
                w.WriteString("fn", ReleaseName(r.Fn));
                w.WriteNumber("index", r.Index);
                w.WriteNumber("count", r.Count);
                w.WriteBoolean("make_dirty", r.MakeDirty);
                break;
            case UnpinArray u:
                w.WriteNumber("call", u.Call);
                w.WriteString("fn", ReleaseName(u.Fn));
                w.WriteNumber("index", u.Index);
                w.WriteNumber("count", u.Count);
                w.WriteNumber("null_prefix", u.NullPrefix);
                w.WriteNumber("errno", u.Errno);
                w.WriteBoolean("make_dirty", u.MakeDirty);
                break;
            case FolioAddPin a:
                w.WriteNumber("new_call", a.NewCall);
                w.WriteNumber("from_call", a.FromCall);
                w.WriteNumber("index", a.Index);
                break;
            case IterInit i:
                w.WriteNumber("iter", i.Iter);
                w.WriteString("kind", IterKindName(i.Kind));
                w.WriteString("dir", IterDirName(i.Dir));
                w.WriteStartArray("segs");
                foreach (var s in i.Segs)
                {
                    w.WriteStartObject();
                    w.WriteNumber("addr", s.Addr);
                    w.WriteNumber("len", s.Len);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                break;
            case IterExtract e:
                w.WriteNumber("call", e.Call);
                w.WriteNumber("iter", e.Iter);
                w.WriteNumber("max_size", e.MaxSize);
                w.WriteNumber("max_pages", e.MaxPages);
                if (e.AllocFails)
                {
                    w.WriteBoolean("alloc_fails", true);
                }

                break;
            case IterRetention q:
                w.WriteNumber("iter", q.Iter);
                break;
            case BioAdd b:
                w.WriteNumber("bio", b.Bio);
                w.WriteNumber("iter", b.Iter);
                w.WriteNumber("max_vecs", b.MaxVecs);
                w.WriteNumber("logical_block_size", b.LogicalBlockSize);
                break;
            case BioRelease b:
                w.WriteNumber("bio", b.Bio);
                w.WriteBoolean("mark_dirty", b.MarkDirty);
                break;
            case FvCreate f:
                w.WriteNumber("fv", f.Fv);
                w.WriteNumber("nr_allocated", f.NrAllocated);
                break;
            case FvGet f:
                w.WriteNumber("fv", f.Fv);
                w.WriteNumber("start", f.Start);
                w.WriteNumber("nr_frames", f.NrFrames);
                w.WriteBoolean("write", f.Write);
                break;
            case FvPut f:
                w.WriteNumber("fv", f.Fv);
                break;
            case NetfsExtract n:
                w.WriteNumber("netfs", n.Netfs);
                w.WriteNumber("iter", n.Iter);
                w.WriteNumber("max_size", n.MaxSize);
                break;
            case NetfsFree n:
                w.WriteNumber("netfs", n.Netfs);
                break;
            case InspectFolio f:
                w.WriteString("folio", f.Folio);
                break;
            case ReadVmstat:
                break;
            case InspectMm m:
                w.WriteNumber("mm", m.Mm);
                break;
            default:
                // Commands outside the protocol's vocabulary (e.g. the live-kernel ones): their record properties, snake_case.
                foreach (var p in JsonSerializer.SerializeToElement(command, command.GetType(), FallbackOptions).EnumerateObject())
                {
                    p.WriteTo(w);
                }

                break;
        }

        w.WriteEndObject();
    }

    private static readonly JsonSerializerOptions FallbackOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    /// <summary>One request line, ending in its newline.</summary>
    public static byte[] Request(Action<Utf8JsonWriter> body)
    {
        // Written into a buffer the thread keeps: a batch's line is a few kilobytes, and a fresh buffer doubled its way
        // there on every request (about an eighth of the bytes a process implementation's run allocated).
        var buffer = t_requestBuffer ??= new ArrayBufferWriter<byte>(16 * 1024);
        buffer.ResetWrittenCount();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            body(w);
            w.WriteEndObject();
        }

        buffer.GetSpan(1)[0] = (byte)'\n';
        buffer.Advance(1);
        var line = buffer.WrittenSpan.ToArray();
        if (buffer.Capacity > 1024 * 1024)
        {
            // An exceptionally long request is not worth keeping the memory for.
            t_requestBuffer = null;
        }

        return line;
    }

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_requestBuffer;

    /// <summary>The outcome of one command in a batch response: an observation, or the implementation's structured error.</summary>
    public sealed record Entry(Observation? Observation, string? ErrorCode, string? ErrorMessage);

    /// <summary>
    /// Decodes one element of a batch response's "observations" array; <paramref name="describe"/> names it for a fault's
    /// message and is called only for a fault. A well-formed observation is read in one pass that builds one object and no
    /// text (<see cref="TryObservation"/>: a process implementation answers tens of thousands of inspections per run, and
    /// naming every field of every one for a message that was almost never needed was a third of the bytes such a run
    /// allocated); anything else, an error entry included, goes to the checked decoder, which says what is wrong.
    /// </summary>
    public static Entry DecodeEntry<TPlace>(JsonElement e, TPlace place, Func<TPlace, string> describe) =>
        TryObservation(e, out var o) ? new Entry(o, null, null) : DecodeEntry(e, describe(place));

    /// <summary>Decodes one element of a batch response's "observations" array, checking it field by field.</summary>
    public static Entry DecodeEntry(JsonElement e, string where)
    {
        if (e.ValueKind != JsonValueKind.Object)
        {
            throw Fault(ProtocolFault.WrongType, $"{where} is {Kind(e)}, not an object");
        }

        if (e.TryGetProperty("error", out var err))
        {
            if (err.ValueKind != JsonValueKind.Object)
            {
                throw Fault(ProtocolFault.WrongType, $"{where}.error is {Kind(err)}, not an object");
            }

            var code = RequiredString(err, "code", $"{where}.error");
            var message = err.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? Untrusted.Printable(m.GetString()) : null;
            return new Entry(null, code, message);
        }

        var o = new Observation();
        foreach (var p in e.EnumerateObject())
        {
            var v = p.Value;
            if (v.ValueKind == JsonValueKind.Null)
            {
                continue;
            }

            var at = $"{where}.{p.Name}";
            o = p.Name switch
            {
                "result" => o with { Result = Int(v, at) },
                "pages" => o with { Pages = Pages(v, at) },
                "offset0" => o with { Offset0 = Int(v, at) },
                "iter_count" => o with { IterCount = Int(v, at) },
                "refcount" => o with { Refcount = Int(v, at) },
                "pincount" => o with { Pincount = Int(v, at) },
                "maybe_dma_pinned" => o with { MaybeDmaPinned = Bool(v, at) },
                "dirty" => o with { Dirty = Bool(v, at) },
                "acquired" => o with { Acquired = Int(v, at) },
                "released" => o with { Released = Int(v, at) },
                "will_pin" => o with { WillPin = Bool(v, at) },
                "extract_mode" => o with { ExtractMode = Int(v, at) },
                "bio_flags" => o with { BioFlags = Strings(v, at) },
                "bio_pages" => o with { BioPages = Int(v, at) },
                "bio_flag_bits" => o with { BioFlagBits = Int(v, at) },
                "got_ref" => o with { GotRef = Bool(v, at) },
                "is_pfns" => o with { IsPfns = Bool(v, at) },
                "nr_frames" => o with { NrFrames = Int(v, at) },
                "has_pinned" => o with { HasPinned = Bool(v, at) },
                _ => throw Fault(ProtocolFault.UnknownField, $"{where} has field '{p.Name}', which the protocol does not define (see Spec/PROTOCOL.md §5)"),
            };
        }

        return new Entry(o, null, null);
    }

    /// <summary>
    /// An observation with nothing to fault: an object of defined fields of the right kinds. False for anything else (an
    /// error entry, an unknown field, a wrong kind), which the checked decoder then reports; what this accepts it decodes
    /// exactly as the checked decoder does (a later duplicate field wins, null means absent, strings made printable).
    /// </summary>
    private static bool TryObservation(JsonElement e, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Observation? observation)
    {
        observation = null;
        if (e.ValueKind != JsonValueKind.Object)
        {
            return false;
        }

        long? result = null, offset0 = null, iterCount = null, refcount = null, pincount = null, acquired = null, released = null;
        long? extractMode = null, bioPages = null, bioFlagBits = null, nrFrames = null;
        bool? maybeDmaPinned = null, dirty = null, willPin = null, gotRef = null, isPfns = null, hasPinned = null;
        List<PageRun>? pages = null;
        List<string>? bioFlags = null;
        foreach (var p in e.EnumerateObject())
        {
            var v = p.Value;
            if (p.NameEquals("error"u8))
            {
                return false;
            }

            if (v.ValueKind == JsonValueKind.Null)
            {
                continue;
            }

            var ok =
                p.NameEquals("result"u8) ? TryInt(v, ref result)
                : p.NameEquals("pages"u8) ? TryList(v, TryPageRun, ref pages)
                : p.NameEquals("offset0"u8) ? TryInt(v, ref offset0)
                : p.NameEquals("iter_count"u8) ? TryInt(v, ref iterCount)
                : p.NameEquals("refcount"u8) ? TryInt(v, ref refcount)
                : p.NameEquals("pincount"u8) ? TryInt(v, ref pincount)
                : p.NameEquals("maybe_dma_pinned"u8) ? TryBool(v, ref maybeDmaPinned)
                : p.NameEquals("dirty"u8) ? TryBool(v, ref dirty)
                : p.NameEquals("acquired"u8) ? TryInt(v, ref acquired)
                : p.NameEquals("released"u8) ? TryInt(v, ref released)
                : p.NameEquals("will_pin"u8) ? TryBool(v, ref willPin)
                : p.NameEquals("extract_mode"u8) ? TryInt(v, ref extractMode)
                : p.NameEquals("bio_flags"u8) ? TryList(v, TryString, ref bioFlags)
                : p.NameEquals("bio_pages"u8) ? TryInt(v, ref bioPages)
                : p.NameEquals("bio_flag_bits"u8) ? TryInt(v, ref bioFlagBits)
                : p.NameEquals("got_ref"u8) ? TryBool(v, ref gotRef)
                : p.NameEquals("is_pfns"u8) ? TryBool(v, ref isPfns)
                : p.NameEquals("nr_frames"u8) ? TryInt(v, ref nrFrames)
                : p.NameEquals("has_pinned"u8) && TryBool(v, ref hasPinned);
            if (!ok)
            {
                return false;
            }
        }

        observation = new Observation
        {
            Result = result,
            Pages = pages,
            Offset0 = offset0,
            IterCount = iterCount,
            Refcount = refcount,
            Pincount = pincount,
            MaybeDmaPinned = maybeDmaPinned,
            Dirty = dirty,
            Acquired = acquired,
            Released = released,
            WillPin = willPin,
            ExtractMode = extractMode,
            BioFlags = bioFlags,
            BioPages = bioPages,
            BioFlagBits = bioFlagBits,
            GotRef = gotRef,
            IsPfns = isPfns,
            NrFrames = nrFrames,
            HasPinned = hasPinned,
        };
        return true;
    }

    private static bool TryInt(JsonElement v, ref long? value)
    {
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out var n))
        {
            return false;
        }

        value = n;
        return true;
    }

    private static bool TryBool(JsonElement v, ref bool? value)
    {
        if (v.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            return false;
        }

        value = v.ValueKind == JsonValueKind.True;
        return true;
    }

    /// <summary>Reads one element of an array field; false when it is not what the field holds.</summary>
    private delegate bool TryElement<T>(JsonElement e, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out T item);

    /// <summary>An array whose every element <paramref name="element"/> reads; false (nothing set) otherwise.</summary>
    private static bool TryList<T>(JsonElement v, TryElement<T> element, ref List<T>? value)
    {
        if (v.ValueKind != JsonValueKind.Array)
        {
            return false;
        }

        var list = new List<T>(v.GetArrayLength());
        foreach (var e in v.EnumerateArray())
        {
            if (!element(e, out var item))
            {
                return false;
            }

            list.Add(item);
        }

        value = list;
        return true;
    }

    private static bool TryString(JsonElement e, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out string text)
    {
        text = e.ValueKind == JsonValueKind.String ? Untrusted.Printable(e.GetString()) : null;
        return text is not null;
    }

    /// <summary>A page run: an object with a string "folio", an integer "first" and, if present, an integer "count" (1 if not).</summary>
    private static bool TryPageRun(JsonElement r, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out PageRun run)
    {
        run = null;
        long? first = null, count = 1;
        if (r.ValueKind != JsonValueKind.Object
            || !r.TryGetProperty("folio"u8, out var folio) || folio.ValueKind != JsonValueKind.String
            || !r.TryGetProperty("first"u8, out var f) || !TryInt(f, ref first)
            || (r.TryGetProperty("count"u8, out var c) && !TryInt(c, ref count)))
        {
            return false;
        }

        run = new PageRun(Untrusted.Printable(folio.GetString()), first!.Value, count!.Value);
        return true;
    }

    /// <summary>Decodes a manifest list of a hello message.</summary>
    public static Dictionary<string, CapabilityManifest> DecodeManifests(JsonElement hello, string implementation)
    {
        if (!hello.TryGetProperty("manifests", out var list))
        {
            throw Fault(ProtocolFault.MissingField, "the hello message has no 'manifests'");
        }

        if (list.ValueKind != JsonValueKind.Array)
        {
            throw Fault(ProtocolFault.WrongType, $"hello.manifests is {Kind(list)}, not an array");
        }

        var result = new Dictionary<string, CapabilityManifest>(StringComparer.Ordinal);
        var i = 0;
        foreach (var m in list.EnumerateArray())
        {
            var where = $"hello.manifests[{i.ToString(CultureInfo.InvariantCulture)}]";
            i++;
            if (m.ValueKind != JsonValueKind.Object)
            {
                throw Fault(ProtocolFault.WrongType, $"{where} is {Kind(m)}, not an object");
            }

            var profileId = RequiredString(m, "profile", where);
            if (!m.TryGetProperty("facets", out var facetsEl))
            {
                throw Fault(ProtocolFault.MissingField, $"{where} has no 'facets'");
            }

            var facets = Facet.None;
            foreach (var name in Strings(facetsEl, $"{where}.facets"))
            {
                var known = FacetNames.FirstOrDefault(f => string.Equals(f.Name, name, StringComparison.Ordinal));
                if (known.Name is null)
                {
                    throw Fault(ProtocolFault.WrongType, $"{where}.facets names unknown facet '{name}'; facets are {string.Join(", ", FacetNames.Select(f => f.Name))}");
                }

                facets |= known.Facet;
            }

            var divergences = new List<ExpectedDivergence>();
            if (m.TryGetProperty("expected_divergences", out var ds) && ds.ValueKind != JsonValueKind.Null)
            {
                if (ds.ValueKind != JsonValueKind.Array)
                {
                    throw Fault(ProtocolFault.WrongType, $"{where}.expected_divergences is {Kind(ds)}, not an array");
                }

                foreach (var d in ds.EnumerateArray())
                {
                    if (d.ValueKind != JsonValueKind.Object)
                    {
                        throw Fault(ProtocolFault.WrongType, $"{where}.expected_divergences has {Kind(d)}, not an object");
                    }

                    divergences.Add(new ExpectedDivergence(RequiredString(d, "rule", where + ".expected_divergences"), RequiredString(d, "reason", where + ".expected_divergences")));
                }
            }

            int? maxOrder = null;
            if (m.TryGetProperty("max_order", out var mo) && mo.ValueKind != JsonValueKind.Null)
            {
                if (mo.ValueKind != JsonValueKind.Number || !mo.TryGetInt32(out var order) || order < 0 || order > Sizes.MaxOrder)
                {
                    throw Fault(ProtocolFault.WrongType, $"{where}.max_order must be an integer from 0 to {Sizes.MaxOrder.ToString(CultureInfo.InvariantCulture)}");
                }

                maxOrder = order;
            }

            result[profileId] = new CapabilityManifest(implementation, profileId, facets, divergences, maxOrder);
        }

        return result;
    }

    public static string RequiredString(JsonElement o, string name, string where)
    {
        if (!o.TryGetProperty(name, out var v))
        {
            throw Fault(ProtocolFault.MissingField, $"{where} has no '{name}'");
        }

        return v.ValueKind == JsonValueKind.String
            ? Untrusted.Printable(v.GetString())
            : throw Fault(ProtocolFault.WrongType, $"{where}.{name} is {Kind(v)}, not a string");
    }

    public static long RequiredInt(JsonElement o, string name, string where)
    {
        if (!o.TryGetProperty(name, out var v))
        {
            throw Fault(ProtocolFault.MissingField, $"{where} has no '{name}'");
        }

        return Int(v, $"{where}.{name}");
    }

    public static string Kind(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => $"the string {Excerpt(e.GetRawText())}",
        JsonValueKind.Number => $"the number {e.GetRawText()}",
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => "null",
    };

    /// <summary>At most 120 characters of a line, for messages, with anything unprintable escaped.</summary>
    public static string Excerpt(string text)
    {
        text = text.Length <= 240 ? text : text[..240];
        text = Untrusted.Printable(text.ReplaceLineEndings(" "));
        return text.Length <= 120 ? text : string.Concat(text.AsSpan(0, 117), "...");
    }

    private static ProcessProtocolException Fault(ProtocolFault f, string detail) => new(f, detail);

    private static long Int(JsonElement v, string at) => v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n)
        ? n
        : throw Fault(ProtocolFault.WrongType, $"{at} is {Kind(v)}, not a 64-bit integer");

    private static bool Bool(JsonElement v, string at) => v.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw Fault(ProtocolFault.WrongType, $"{at} is {Kind(v)}, not a boolean"),
    };

    private static List<string> Strings(JsonElement v, string at)
    {
        if (v.ValueKind != JsonValueKind.Array)
        {
            throw Fault(ProtocolFault.WrongType, $"{at} is {Kind(v)}, not an array of strings");
        }

        var list = new List<string>();
        foreach (var s in v.EnumerateArray())
        {
            list.Add(s.ValueKind == JsonValueKind.String ? Untrusted.Printable(s.GetString()) : throw Fault(ProtocolFault.WrongType, $"{at} has {Kind(s)}, not a string"));
        }

        return list;
    }

    private static List<PageRun> Pages(JsonElement v, string at)
    {
        if (v.ValueKind != JsonValueKind.Array)
        {
            throw Fault(ProtocolFault.WrongType, $"{at} is {Kind(v)}, not an array of page runs");
        }

        var list = new List<PageRun>();
        var i = 0;
        foreach (var r in v.EnumerateArray())
        {
            var where = $"{at}[{i.ToString(CultureInfo.InvariantCulture)}]";
            i++;
            if (r.ValueKind != JsonValueKind.Object)
            {
                throw Fault(ProtocolFault.WrongType, $"{where} is {Kind(r)}, not a page run object");
            }

            var count = r.TryGetProperty("count", out var c) ? Int(c, where + ".count") : 1;
            list.Add(new PageRun(RequiredString(r, "folio", where), RequiredInt(r, "first", where), count));
        }

        return list;
    }
}
