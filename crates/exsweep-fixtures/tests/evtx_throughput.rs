//! Write throughput of the EVTX writer. Ignored by default; run it in release mode:
//! `cargo test --release -p exsweep-fixtures --test evtx_throughput -- --ignored --nocapture`.

use exsweep_fixtures::evtx::{EventData, EventSpec, EvtxWriter};
use std::io::{self, Seek, SeekFrom, Write};
use std::time::Instant;

/// An output that keeps nothing, to time the writer without the file system.
#[derive(Default)]
struct Discard {
    pos: u64,
    len: u64,
}

impl Write for Discard {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pos += buf.len() as u64;
        self.len = self.len.max(self.pos);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Seek for Discard {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        self.pos = match to {
            SeekFrom::Start(p) => p,
            SeekFrom::End(d) => self.len.saturating_add_signed(d),
            SeekFrom::Current(d) => self.pos.saturating_add_signed(d),
        };
        Ok(self.pos)
    }
}

fn record_count() -> usize {
    std::env::var("EVTX_BENCH_RECORDS").ok().and_then(|v| v.parse().ok()).unwrap_or(2_000_000)
}

fn report(what: &str, records: usize, bytes: u64, secs: f64) {
    println!(
        "{what}: {records} records, {:.1} MB in {secs:.2} s: {:.0} MB/s, {:.0} records/s",
        bytes as f64 / 1e6,
        bytes as f64 / 1e6 / secs,
        records as f64 / secs
    );
}

fn sample_events() -> Vec<EventSpec> {
    let mut events = Vec::new();
    for i in 0..1000u32 {
        let base = EventSpec {
            time_ms: 1_700_000_000_000 + i64::from(i) * 1000,
            process_id: 4000 + i,
            thread_id: 100 + i,
            computer: "EX01.contoso.local".into(),
            ..Default::default()
        };
        events.push(match i % 4 {
            0 => EventSpec {
                provider: "Microsoft-Windows-Security-Auditing".into(),
                provider_guid: Some("{54849625-5478-4994-A5BA-3E3B0328C30D}".into()),
                event_id: 4688,
                version: 2,
                task: 13312,
                keywords: 0x8020_0000_0000_0000,
                channel: "Security".into(),
                user_sid: Some("S-1-5-18".into()),
                data: EventData::Named(
                    [
                        ("SubjectUserSid", "S-1-5-18".to_string()),
                        ("SubjectUserName", "EX01$".into()),
                        ("SubjectDomainName", "CONTOSO".into()),
                        ("SubjectLogonId", "0x3e7".into()),
                        ("NewProcessId", format!("0x{:x}", 0x1000 + i)),
                        ("NewProcessName", "C:\\Windows\\System32\\cmd.exe".into()),
                        ("TokenElevationType", "%%1936".into()),
                        ("ProcessId", "0x1a2c".into()),
                        ("CommandLine", format!("cmd.exe /c echo {i} > C:\\inetpub\\wwwroot\\aspnet_client\\x.txt")),
                        ("ParentProcessName", "C:\\Windows\\System32\\inetsrv\\w3wp.exe".into()),
                    ]
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v))
                    .collect(),
                ),
                ..base
            },
            1 => EventSpec {
                provider: "MSExchange Unified Messaging".into(),
                event_id: 1040,
                qualifiers: Some(49152),
                level: 2,
                keywords: 0x80_0000_0000_0000,
                channel: "Application".into(),
                data: EventData::Unnamed(vec![
                    format!("Call {i} failed"),
                    "UMService".into(),
                    "System.IO.IOException: The process cannot access the file".into(),
                ]),
                ..base
            },
            2 => EventSpec {
                provider: "MSExchange CmdletLogs".into(),
                event_id: 1,
                qualifiers: Some(0),
                level: 4,
                keywords: 0x80_0000_0000_0000,
                channel: "MSExchange Management".into(),
                data: EventData::Unnamed(vec![
                    "Get-Mailbox".into(),
                    format!("-Identity \"user{i}\""),
                    "contoso.local/Users/Administrator".into(),
                    "S-1-5-21-1004336348-1177238915-682003330-500".into(),
                    "S-1-5-21-1004336348-1177238915-682003330-500".into(),
                    "Remote-PowerShell-Unknown".into(),
                    "13588 w3wp#MSExchangePowerShellAppPool".into(),
                    "".into(),
                    "00:00:00.0312500".into(),
                ]),
                ..base
            },
            _ => EventSpec {
                provider: "Microsoft-Windows-Sysmon".into(),
                provider_guid: Some("{5770385F-C22A-43E0-BF4C-06F5698FFBD9}".into()),
                event_id: 1,
                version: 5,
                level: 4,
                task: 1,
                keywords: 0x8000_0000_0000_0000,
                channel: "Microsoft-Windows-Sysmon/Operational".into(),
                user_sid: Some("S-1-5-18".into()),
                data: EventData::Named(
                    [
                        ("RuleName", "-".to_string()),
                        ("UtcTime", "2023-11-14 22:13:20.123".into()),
                        ("ProcessGuid", "{3f2504e0-4f89-11d3-9a0c-0305e82c3301}".into()),
                        ("ProcessId", (5000 + i).to_string()),
                        ("Image", "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe".into()),
                        ("FileVersion", "10.0.17763.1".into()),
                        ("Description", "Windows PowerShell".into()),
                        ("Product", "Microsoft® Windows® Operating System".into()),
                        ("Company", "Microsoft Corporation".into()),
                        ("OriginalFileName", "PowerShell.EXE".into()),
                        ("CommandLine", format!("powershell.exe -enc SQBFAFgA{i}")),
                        ("CurrentDirectory", "C:\\Windows\\system32\\".into()),
                        ("User", "NT AUTHORITY\\SYSTEM".into()),
                        ("LogonGuid", "{3f2504e0-4f89-11d3-9a0c-0305e82c3301}".into()),
                        ("LogonId", "0x3e7".into()),
                        ("TerminalSessionId", "0".into()),
                        ("IntegrityLevel", "System".into()),
                        ("Hashes", "SHA256=9F914D42706FE215501044ACD85A32D58AAEF1419D404FDDFA5D3B48F66CCD9F".into()),
                        ("ParentProcessGuid", "{3f2504e0-4f89-11d3-9a0c-0305e82c3301}".into()),
                        ("ParentProcessId", "4242".into()),
                        ("ParentImage", "C:\\Windows\\System32\\inetsrv\\w3wp.exe".into()),
                        (
                            "ParentCommandLine",
                            "c:\\windows\\system32\\inetsrv\\w3wp.exe -ap \"MSExchangeOWAAppPool\"".into(),
                        ),
                    ]
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v))
                    .collect(),
                ),
                ..base
            },
        });
    }
    events
}

#[test]
#[ignore = "throughput measurement; run in release mode"]
fn write_throughput_to_file() {
    let events = sample_events();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("throughput.evtx");
    let records = record_count();
    let start = Instant::now();
    let mut writer = EvtxWriter::new(std::fs::File::create(&path).unwrap()).unwrap();
    let mut bytes = 0;
    for i in 0..records {
        // Rotate before the 16-bit chunk count runs out, as callers do.
        if writer.chunk_count() >= 65_000 {
            bytes += writer.bytes_written();
            writer.finish().unwrap();
            writer = EvtxWriter::new(std::fs::File::create(&path).unwrap()).unwrap();
        }
        writer.write(&events[i % events.len()]).unwrap();
    }
    bytes += writer.bytes_written();
    writer.finish().unwrap();
    report("to a file", records, bytes, start.elapsed().as_secs_f64());
}

#[test]
#[ignore = "throughput measurement; run in release mode"]
fn write_throughput_in_memory() {
    let events = sample_events();
    let records = record_count();
    let start = Instant::now();
    let mut writer = EvtxWriter::new(Discard::default()).unwrap();
    let mut bytes = 0;
    for i in 0..records {
        if writer.chunk_count() >= 65_000 {
            bytes += writer.bytes_written();
            writer.finish().unwrap();
            writer = EvtxWriter::new(Discard::default()).unwrap();
        }
        writer.write(&events[i % events.len()]).unwrap();
    }
    bytes += writer.bytes_written();
    let out = writer.finish().unwrap();
    assert_eq!(out.len, out.pos);
    report("discarded output", records, bytes, start.elapsed().as_secs_f64());
}
