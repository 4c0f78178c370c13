//! The EVTX and wevtutil XML readers give exactly what the readers they replaced gave (kept in
//! `reference_reader`): the same records, fields, counts and notes, on generated EVTX (the
//! benchmark mix, awkward values, damaged chunks with valid checksums) and on XML exports
//! (entities, CDATA, UserData, RenderingInfo, namespaces, malformed and mutated markup). The real
//! samples of ../shared/data are compared in `shared_corpus`.

mod reference_reader;

use exsweep_core::read::events::events_from_xml_str;
use exsweep_fixtures::evtx::{EventData, EventSpec, EvtxWriter};
use exsweep_fixtures::winevents::{MixSpec, write_mix};
use reference_reader::*;
use std::io::Cursor;

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn evtx_bytes(events: &[EventSpec]) -> Vec<u8> {
    let mut w = EvtxWriter::new(Cursor::new(Vec::new())).unwrap();
    for e in events {
        w.write(e).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn assert_evtx_same(what: &str, bytes: &[u8]) {
    for anchors in [None, Some(&["zzzz-not-there"][..]), Some(&["cmd.exe", "powershell"][..])] {
        let what = format!("{what} (anchors {anchors:?})");
        assert_same(&what, &current_evtx(bytes, anchors), &reference_evtx(bytes, anchors));
    }
}

fn assert_xml_same(what: &str, xml: &str) {
    assert_same(what, &current_xml(xml.as_bytes()), &reference_xml(xml.as_bytes()));
    assert_eq!(events_from_xml_str(xml), ref_events_from_xml_str(xml), "{what}: events_from_xml_str");
}

#[test]
fn benchmark_mix_reads_as_before() {
    let dir = tempfile::tempdir().unwrap();
    let stats = write_mix(dir.path(), &MixSpec { events: 9_000, files: 6, ..MixSpec::default() }).unwrap();
    for f in &stats.files {
        let bytes = std::fs::read(f).unwrap();
        assert_evtx_same(&f.display().to_string(), &bytes);
    }
}

/// Values and names that need escaping, normalising or are unusual in some other way.
fn awkward_events() -> Vec<EventSpec> {
    let values = [
        "",
        " ",
        "  padded  ",
        "a & b < c > d \" e ' f",
        "&amp; already escaped &#x41;",
        "line1\r\nline2\rline3\nline4",
        "\r\n",
        "tab\there",
        "ctrl\u{1}\u{1f}chars",
        "ünïcødé 日本 😀",
        "\u{fffe}\u{ffff}",
        "]]> <![CDATA[ x ]]>",
        "<Data Name=\"x\">y</Data>",
        "<?pi x?> <!-- c -->",
        "C:\\Windows\\System32\\cmd.exe /c \"echo 1\"",
    ];
    let names = ["Name", "x:y", "a:b:c", "Field With Space", "amp&er", "quote\"d", "tab\tname", "UserData", "Data"];
    let mut events = Vec::new();
    for (i, v) in values.iter().enumerate() {
        let base = EventSpec {
            provider: "Microsoft-Windows-Security-Auditing".into(),
            provider_guid: Some("{54849625-5478-4994-A5BA-3E3B0328C30D}".into()),
            event_id: 4688,
            level: (i % 6) as u8,
            time_ms: 1_614_729_600_000 + i as i64 * 1001,
            channel: "Security".into(),
            computer: [
                "EX01.contoso.local",
                "ex02",
                "",
                "-",
                "a-very-long-host-name-that-is-longer-than-sixty-four-characters-for-sure.example",
            ][i % 5]
                .into(),
            user_sid: (i % 2 == 0).then(|| "S-1-5-18".into()),
            data: EventData::Named(
                names
                    .iter()
                    .enumerate()
                    .map(|(j, n)| (n.to_string(), values[(i + j) % values.len()].to_string()))
                    .collect(),
            ),
            ..EventSpec::default()
        };
        events.push(base.clone());
        events.push(EventSpec {
            provider: format!("MSExchange {v}"),
            provider_guid: None,
            event_source_name: Some(format!("Source {v}")),
            qualifiers: Some(16388),
            event_id: 1000 + i as u16,
            channel: ["Application", "MSExchange Management", "Ch&annel <x>"][i % 3].into(),
            data: EventData::Unnamed(values.iter().map(|s| s.to_string()).collect()),
            ..base.clone()
        });
        events.push(EventSpec { data: EventData::Unnamed(Vec::new()), ..base });
    }
    events
}

#[test]
fn awkward_values_read_as_before() {
    let events = awkward_events();
    assert_evtx_same("awkward values", &evtx_bytes(&events));
    // Many records, so chunks fill and templates are reused across them.
    let many: Vec<EventSpec> = events.iter().cycle().take(3_000).cloned().collect();
    assert_evtx_same("awkward values, many chunks", &evtx_bytes(&many));
}

/// UTF-16LE occurrences of `needle` in `hay`.
fn utf16_positions(hay: &[u8], needle: &str) -> Vec<usize> {
    let n: Vec<u8> = needle.encode_utf16().flat_map(u16::to_le_bytes).collect();
    (0..hay.len().saturating_sub(n.len())).filter(|&i| hay[i..].starts_with(&n)).collect()
}

/// Rewrites a chunk's record checksum and header checksum after its records were changed.
fn fix_chunk_checksums(chunk: &mut [u8]) {
    let free = u32::from_le_bytes(chunk[48..52].try_into().unwrap()) as usize;
    let records = crc32fast::hash(&chunk[512..free.min(chunk.len())]);
    chunk[52..56].copy_from_slice(&records.to_le_bytes());
    let mut h = crc32fast::Hasher::new();
    h.update(&chunk[..120]);
    h.update(&chunk[128..512]);
    let header = h.finalize();
    chunk[124..128].copy_from_slice(&header.to_le_bytes());
}

/// Element names, attribute names and values changed to markup characters, in chunks whose
/// checksums still hold: the rendered XML is then malformed or odd in many ways, and records and
/// notes must still come out as before.
#[test]
fn damaged_names_and_values_read_as_before() {
    let clean = evtx_bytes(&awkward_events().iter().cycle().take(120).cloned().collect::<Vec<_>>());
    let targets = ["EventData", "Data", "System", "Provider", "TimeCreated", "Channel", "EventID", "Name", "Security"];
    let nasty = ['<', '>', '&', '/', '?', '!', ':', ' ', '"', '\'', '=', '\r', '\n', ';', '#', '[', '-'];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for round in 0..200 {
        let mut bytes = clean.clone();
        let chunk_count = (bytes.len() - 4096) / 65536;
        let chunk_no = rng.below(chunk_count);
        let chunk = &mut bytes[4096 + chunk_no * 65536..4096 + (chunk_no + 1) * 65536];
        for _ in 0..1 + rng.below(3) {
            let target = targets[rng.below(targets.len())];
            let hits = utf16_positions(chunk, target);
            if hits.is_empty() {
                continue;
            }
            let at = hits[rng.below(hits.len())] + 2 * rng.below(target.len());
            let c = nasty[rng.below(nasty.len())] as u16;
            chunk[at..at + 2].copy_from_slice(&c.to_le_bytes());
        }
        if rng.below(4) == 0 {
            // A raw byte anywhere in the records.
            let at = 512 + rng.below(65536 - 512);
            chunk[at] = rng.next() as u8;
        }
        fix_chunk_checksums(chunk);
        assert_same(&format!("damaged round {round}"), &current_evtx(&bytes, None), &reference_evtx(&bytes, None));
    }
}

const SECURITY_XML: &str = r#"<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><Provider Name="Microsoft-Windows-Security-Auditing" Guid="{54849625-5478-4994-a5ba-3e3b0328c30d}"/><EventID>4688</EventID><Version>2</Version><Level>0</Level><Task>13312</Task><TimeCreated SystemTime="2021-03-03T07:12:01.1234567Z"/><EventRecordID>77</EventRecordID><Channel>Security</Channel><Computer>ex01.contoso.local</Computer><Security/></System><EventData><Data Name="NewProcessName">C:\Windows\System32\cmd.exe</Data><Data Name="CommandLine">cmd /c "echo &amp; &lt;x&gt; &#x41;&#66;"</Data><Data Name="Empty"/></EventData></Event>"#;

const CLASSIC_XML: &str = r#"<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='MSExchange Unified Messaging'/><EventID Qualifiers='49152'>1040</EventID><Level>2</Level><TimeCreated SystemTime='2021-03-03T07:12:01.123456700Z'/><EventRecordID>4711</EventRecordID><Channel>Application</Channel><Computer>EX01.contoso.local</Computer></System><EventData><Data>UMWorkerProcess</Data><Data><![CDATA[System.InvalidCastException: <cdata> & more]]></Data><Data>mixed <![CDATA[cdata]]> &amp; text</Data></EventData><RenderingInfo Culture='en-US'><Message>An unhandled exception &apos;x&apos;</Message><Level>Error</Level></RenderingInfo></Event>"#;

const USERDATA_XML: &str = r#"<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><Provider EventSourceName="Service Control Manager"/><EventID> 7045 </EventID><Level>4</Level><TimeCreated SystemTime="2021-03-03 07:12:01"/><Channel>System</Channel><Computer>EX01</Computer></System><UserData><ns:EventXML xmlns:ns="urn:x"><ns:Param1>svc &amp; co</ns:Param1><Param2/><Nested><Leaf>deep</Leaf></Nested><a:b:c>colons</a:b:c><UserData>inner</UserData></ns:EventXML></UserData></Event>"#;

#[test]
fn wevtutil_exports_read_as_before() {
    let cases: Vec<(&str, String)> = vec![
        ("security", SECURITY_XML.into()),
        ("classic with CDATA and message", CLASSIC_XML.into()),
        ("user data", USERDATA_XML.into()),
        ("three in a root", format!("<Events>{SECURITY_XML}{CLASSIC_XML}{USERDATA_XML}</Events>")),
        (
            "declaration, comments, PIs",
            format!(
                "\u{feff}<?xml version=\"1.0\"?>\r\n<!-- export --><?pi x?>\r\n<Events>\r\n  {SECURITY_XML}\r\n  <!-- between -->{CLASSIC_XML}\r\n</Events>\r\n"
            ),
        ),
        ("CRLF inside values", SECURITY_XML.replace("cmd.exe<", "cmd.exe\r\nnext\rline\n<")),
        (
            "namespaced elements",
            SECURITY_XML
                .replace("<Data ", "<e:Data ")
                .replace("</Data>", "</e:Data>")
                .replace("<System>", "<e:System>")
                .replace("</System>", "</e:System>"),
        ),
        ("prefixed attribute names", SECURITY_XML.replace(" Name=", " x:Name=")),
        ("duplicate attributes", SECURITY_XML.replace("<Data Name=\"NewProcessName\"", "<Data Name=\"A\" Name=\"B\"")),
        // quick_xml resumes inside the duplicate's value, and finds `Name='hidden'` there.
        (
            "duplicate before the attribute",
            SECURITY_XML.replace("<Data Name=\"NewProcessName\"", "<Data X=\"1\" X=\"a Name='hidden'\" Name=\"shown\""),
        ),
        (
            "attribute whitespace and entities",
            SECURITY_XML.replace("Name=\"NewProcessName\"", "Name = '\tNew&amp;Process\nName '"),
        ),
        ("unknown and bad entities", SECURITY_XML.replace("&amp;", "&nbsp;&#xZZ;&#0;&;")),
        ("unquoted attribute", SECURITY_XML.replace("Name=\"Empty\"", "Name=Empty")),
        ("nested event", SECURITY_XML.replace("<EventData>", &format!("<EventData>{CLASSIC_XML}"))),
        ("data outside event data", SECURITY_XML.replace("<Security/>", "<Data Name=\"Stray\">stray</Data>")),
        (
            "event data inside user data",
            format!(
                "{}</Event>",
                USERDATA_XML
                    .replace("</Event>", "")
                    .replace("<Param2/>", "<EventData><Data Name=\"In\">x</Data></EventData>")
            ),
        ),
        ("time without Z and bad time", SECURITY_XML.replace("2021-03-03T07:12:01.1234567Z", "not a time")),
        ("truncated", SECURITY_XML[..SECURITY_XML.len() / 2].into()),
        ("mismatched end", SECURITY_XML.replace("</Channel>", "</Chanel>")),
        ("unmatched end", format!("{SECURITY_XML}</Events>")),
        ("end tag with spaces", SECURITY_XML.replace("</Channel>", "</Channel  >")),
        ("stray ampersand", SECURITY_XML.replace("&amp;", "& ")),
        ("empty", String::new()),
        ("only text", "just text & more".into()),
    ];
    for (what, xml) in &cases {
        assert_xml_same(what, xml);
    }
}

/// Random edits of the exports above (characters inserted, deleted, or replaced by markup).
#[test]
fn mutated_exports_read_as_before() {
    let seeds = [SECURITY_XML, CLASSIC_XML, USERDATA_XML];
    let pieces = [
        "<",
        ">",
        "/",
        "&",
        ";",
        "\"",
        "'",
        "=",
        " ",
        "\r",
        "\n",
        "\r\n",
        "<!--",
        "-->",
        "<![CDATA[",
        "]]>",
        "<?",
        "?>",
        "&amp;",
        "&#x41;",
        "&#65;",
        "&lt;",
        "<Data>",
        "</Data>",
        "<Data Name=\"k\">",
        "<UserData>",
        "</UserData>",
        "<x/>",
        "</Event>",
        "<Event>",
        "ü",
        "日",
    ];
    let mut rng = Rng(0x0123_4567_89AB_CDEF);
    for round in 0..3_000 {
        let mut xml = seeds[rng.below(seeds.len())].to_string();
        for _ in 0..1 + rng.below(4) {
            let mut at = rng.below(xml.len() + 1);
            while !xml.is_char_boundary(at) {
                at -= 1;
            }
            match rng.below(3) {
                0 => xml.insert_str(at, pieces[rng.below(pieces.len())]),
                1 => {
                    let mut end = (at + 1 + rng.below(8)).min(xml.len());
                    while !xml.is_char_boundary(end) {
                        end += 1;
                    }
                    xml.replace_range(at..end, "");
                }
                _ => {
                    let mut end = (at + 1).min(xml.len());
                    while !xml.is_char_boundary(end) {
                        end += 1;
                    }
                    xml.replace_range(at..end, pieces[rng.below(pieces.len())]);
                }
            }
        }
        assert_xml_same(&format!("mutation round {round}: {xml:?}"), &xml);
    }
}

/// A generated EVTX file's records, rendered and written out as one wevtutil-style export.
#[test]
fn rendered_records_as_an_export_read_as_before() {
    let bytes = evtx_bytes(&awkward_events());
    let mut parser = evtx::EvtxParser::from_buffer(bytes).unwrap();
    let mut xml = String::from("<Events>");
    for r in parser.records() {
        xml.push_str(&r.unwrap().data);
    }
    xml.push_str("</Events>");
    assert_xml_same("rendered records", &xml);
}
