using System.Text.Json;
using GupConformance.Engine.Plugins;

namespace GupConformance.Tests;

/// <summary>
/// Decoding a batch response's observations (Spec/PROTOCOL.md §5): the one-pass decoder that reads well-formed entries
/// must agree with the checked decoder, which reads field by field and names what is wrong, on every entry: the same
/// observation for what is well formed, the same fault and message for what is not.
/// </summary>
public sealed class ProcessWireTests
{
    public static TheoryData<string> WellFormed() =>
    [
        "{}",
        """{"result":3}""",
        """{"result":-14,"pages":[{"folio":"r1.f0","first":0},{"folio":"r1.f0","first":1,"count":3}]}""",
        """{"refcount":1025,"pincount":1,"maybe_dma_pinned":true,"dirty":false}""",
        """{"acquired":2,"released":1}""",
        """{"offset0":512,"iter_count":4096,"will_pin":true,"extract_mode":1}""",
        """{"bio_flags":["BIO_PAGE_PINNED","bad\u0007flag"],"bio_pages":2,"bio_flag_bits":1024}""",
        """{"got_ref":false,"is_pfns":true,"nr_frames":7,"has_pinned":true}""",
        """{"result":null,"pages":null,"dirty":null}""",
        """{"result":1,"result":2}""",
        """{"pages":[{"folio":"r\u001b2.f1","first":5,"count":1,"extra":"ignored"}]}""",
        """{"pages":[]}""",
    ];

    public static TheoryData<string> Faulty() =>
    [
        "[]",
        "3",
        """{"error":{"code":"unknown_command","message":"no such op"}}""",
        """{"error":null}""",
        """{"result":1,"error":{"code":"oops"}}""",
        """{"colour":"blue"}""",
        """{"result":"3"}""",
        """{"result":1.5}""",
        """{"dirty":0}""",
        """{"pages":{"folio":"r1.f0","first":0}}""",
        """{"pages":[{"first":0}]}""",
        """{"pages":[{"folio":"r1.f0","first":0,"count":null}]}""",
        """{"pages":[{"folio":7,"first":0}]}""",
        """{"pages":[[]]}""",
        """{"bio_flags":["A",1]}""",
        """{"bio_flags":"A"}""",
    ];

    [Theory]
    [MemberData(nameof(WellFormed))]
    public void A_well_formed_observation_decodes_as_the_checked_decoder_decodes_it(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var quick = ProcessWire.DecodeEntry(doc.RootElement, 0, static _ => throw new InvalidOperationException("a well-formed entry needs no name"));
        var check = ProcessWire.DecodeEntry(doc.RootElement, "observation 0");

        Assert.NotNull(quick.Observation);
        Assert.NotNull(check.Observation);
        Assert.Equal(check.Observation.Fields(), quick.Observation.Fields());
        Assert.Equal(check.Observation.Pages?.Select(p => p.ToString()), quick.Observation.Pages?.Select(p => p.ToString()));
        Assert.Equal(check.Observation.BioFlags, quick.Observation.BioFlags);
    }

    [Theory]
    [MemberData(nameof(Faulty))]
    public void A_faulty_entry_is_reported_as_the_checked_decoder_reports_it_naming_its_place(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var named = 0;
        var (quick, quickFault) = Decode(() => ProcessWire.DecodeEntry(doc.RootElement, 4, n =>
        {
            named++;
            return $"observation {n}";
        }));
        var (check, checkFault) = Decode(() => ProcessWire.DecodeEntry(doc.RootElement, "observation 4"));

        Assert.Equal(1, named);
        Assert.Equal(checkFault?.Fault, quickFault?.Fault);
        Assert.Equal(checkFault?.Message, quickFault?.Message);
        Assert.Equal(check?.ErrorCode, quick?.ErrorCode);
        Assert.Equal(check?.ErrorMessage, quick?.ErrorMessage);
        Assert.True(checkFault is not null || check?.ErrorCode is not null, "each faulty entry is a fault or an error entry");
    }

    private static (ProcessWire.Entry? Entry, ProcessProtocolException? Fault) Decode(Func<ProcessWire.Entry> decode)
    {
        try
        {
            return (decode(), null);
        }
        catch (ProcessProtocolException e)
        {
            return (null, e);
        }
    }
}
