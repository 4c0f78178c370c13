//! Windows event logs, written as real EVTX with [`crate::evtx`]: Application (Exchange's classic
//! providers with unnamed EventData and qualifiers, plus Windows components), a small System log
//! (service state changes, uptime) and a small Security log (logons).

use super::fmt::{MS_PER_DAY, guid_string};
use super::rng::Rng;
use super::{EvtxLog, Mark, Server, mark, oracle};
use crate::evtx::{EventData, EventSpec, EvtxWriter};
use std::io::{self, Seek, Write};

/// Classic provider keywords (`0x80000000000000`).
const CLASSIC: u64 = 0x0080_0000_0000_0000;

/// Qualifiers of Exchange's classic events by level (severity bits of the message id).
fn qualifiers(level: u8) -> u16 {
    match level {
        1 | 2 => 49156,
        3 => 32772,
        _ => 16388,
    }
}

impl Server {
    /// Writes one event log; returns the writer's output and the marks (record ids).
    pub(crate) fn write_evtx<W: Write + Seek>(&self, log: EvtxLog, out: W) -> io::Result<(W, Vec<Mark>)> {
        let mut w = EvtxWriter::new(out)?;
        let mut marks = Vec::new();
        let mut events = Vec::new();
        for day in 0..self.spec.days {
            events.clear();
            match log {
                EvtxLog::Application => self.application_day(day, &mut events),
                EvtxLog::System => self.system_day(day, &mut events),
                EvtxLog::Security => self.security_day(day, &mut events),
            }
            let t0 = self.day_start(day);
            let mut specials: Vec<(EventSpec, &super::scenario::EventSpecial)> = Vec::new();
            if log == EvtxLog::Application {
                for s in self.scenario.events.iter().filter(|s| s.t >= t0 && s.t < t0 + MS_PER_DAY) {
                    let mut e = self.classic(s.provider, s.event_id, s.level, s.task, s.t, vec![s.text.clone()]);
                    e.process_id = 7712;
                    specials.push((e, s));
                }
            }
            events.sort_by_key(|e| e.time_ms);
            let mut next = 0;
            for e in &events {
                while let Some((se, s)) = specials.get(next).filter(|(se, _)| se.time_ms <= e.time_ms) {
                    let record = w.write(se)?;
                    let text: Vec<&str> = se.data.values().collect();
                    let rules = oracle::app_event(&se.provider, se.level, &text.join(" "));
                    marks.extend(mark(s.expect, rules, None, Some(record), &s.note));
                    next += 1;
                }
                w.write(e)?;
                debug_assert!(
                    log != EvtxLog::Application
                        || oracle::app_event(&e.provider, e.level, &e.data.values().collect::<Vec<_>>().join(" "))
                            .is_empty()
                );
            }
            for (se, s) in &specials[next..] {
                let record = w.write(se)?;
                let text: Vec<&str> = se.data.values().collect();
                let rules = oracle::app_event(&se.provider, se.level, &text.join(" "));
                marks.extend(mark(s.expect, rules, None, Some(record), &s.note));
            }
        }
        Ok((w.finish()?, marks))
    }

    fn classic(&self, provider: &str, event_id: u16, level: u8, task: u16, t: i64, data: Vec<String>) -> EventSpec {
        EventSpec {
            provider: provider.into(),
            event_id,
            qualifiers: Some(qualifiers(level)),
            level,
            task,
            keywords: CLASSIC,
            time_ms: t,
            channel: "Application".into(),
            computer: self.fqdn.clone(),
            data: EventData::Unnamed(data),
            ..EventSpec::default()
        }
    }

    fn application_day(&self, day: u32, out: &mut Vec<EventSpec>) {
        let t0 = self.day_start(day);
        let mut rng = Rng::stream(self.spec.seed, &[7, u64::from(day)]);
        let scale = self.spec.scale.max(0.0);
        let n = rng.round(60.0 * scale);
        // Timer-driven events keep the log from going quiet for long, whatever the scale: one
        // every six hours (ADAccess 2080 topology discovery, or Security-SPP at noon), plus the
        // load-dependent events.
        let mut when: Vec<(i64, Option<usize>)> = Vec::with_capacity(n as usize + 4);
        for k in 0..4 {
            // The 12:xx slot is Software Protection rescheduling its restart (daily on servers).
            let kind = if k == 2 { 5 } else { 0 };
            when.push((t0 + k * 6 * 3_600_000 + 1_200_000 + rng.below(600_000) as i64, Some(kind)));
        }
        for _ in 0..n {
            when.push((t0 + rng.below(MS_PER_DAY as u64) as i64, None));
        }
        for (t, fixed) in when {
            let kind = fixed.unwrap_or_else(|| rng.weighted(&[30, 10, 12, 6, 5, 4, 3, 3, 2]));
            let e = match kind {
                0 => {
                    let mut e = self.classic("MSExchange ADAccess", 2080, 4, 6, t, vec![
                        "Microsoft.Exchange.Directory.TopologyService.exe".into(),
                        "2912".into(),
                        format!(
                            "\r\nIn-site:\r\nDC01.{d}\tCDG 1 7 7 1 0 1 1 7 1\r\nDC02.{d}\tCDG 1 7 7 1 0 0 1 7 1\r\n Out-of-site:\r\n",
                            d = self.spec.domain
                        ),
                    ]);
                    e.process_id = 2912;
                    e
                }
                1 => self.classic("MSExchangeApplicationLogic", 3025, 3, 1, t, vec![
                    "GetUserSettings".into(),
                    guid_string(&rng.guid()),
                    "The request failed with HTTP status 503: Service Unavailable.".into(),
                ]),
                2 => self.classic("ESE", 916, 4, 1, t, vec![
                    "Information Store - DB01".into(),
                    "8472,D,0".into(),
                    "DB01: ".into(),
                    "EseDiskFlushConsistency".into(),
                    "0x800000".into(),
                ]),
                3 => self.classic("MSExchange Unified Messaging", 1003, 4, 1, t, vec![
                    "UMWorkerProcess.exe".into(),
                    "5065".into(),
                    "The Unified Messaging worker process started successfully and is listening on port 5065.".into(),
                ]),
                4 => {
                    let mut e = self.classic("Windows Error Reporting", 1001, 4, 0, t, vec![
                        String::new(),
                        "0".into(),
                        "WindowsUpdateFailure3".into(),
                        "Not available".into(),
                        "0".into(),
                        "10.0.14393.4169".into(),
                        "80072ee2".into(),
                    ]);
                    e.qualifiers = Some(0);
                    e
                }
                5 => {
                    let restart = t + MS_PER_DAY / 2;
                    let mut b = Vec::new();
                    super::fmt::push_iso_ms(&mut b, restart);
                    let when = String::from_utf8_lossy(&b[..19]).into_owned() + "Z";
                    let mut e = self.classic("Microsoft-Windows-Security-SPP", 16384, 4, 0, t, vec![when, "RulesEngine".into()]);
                    e.provider_guid = Some("{E23B33B0-C8C9-472C-A5F9-F2BDFEA0F156}".into());
                    e.event_source_name = Some("Software Protection Platform Service".into());
                    e.qualifiers = Some(16384);
                    e
                }
                6 => self.classic("MSExchangeDiagnostics", 1006, 3, 1, t, vec![
                    "LogicalDisk\\Free Megabytes".into(),
                    "C:".into(),
                    "The performance counter sustained a value below 20000 for the last 30 minutes.".into(),
                ]),
                7 => self.classic("MSExchange Common", 4999, 2, 6, t, vec![
                    "Watson report about to be sent for process id: 6120, with parameters: E12IIS, c-RTL-AMD64, 15.01.2176.002, w3wp#MSExchangeOWAAppPool, M.Exchange.Clients.Owa2.Server, M.E.C.O.S.C.AttachmentHandler.ProcessAttachment, System.NullReferenceException, 3a1b, 15.01.2176.002.".into(),
                ]),
                _ => self.classic("MSExchangeFastSearch", 1009, 4, 1, t, vec![
                    "DB02".into(),
                    "The indexing of mailbox database DB02 has resumed.".into(),
                ]),
            };
            out.push(e);
        }
    }

    fn system_day(&self, day: u32, out: &mut Vec<EventSpec>) {
        let t0 = self.day_start(day);
        let mut rng = Rng::stream(self.spec.seed, &[8, u64::from(day)]);
        let mut uptime = EventSpec {
            provider: "EventLog".into(),
            event_id: 6013,
            qualifiers: Some(32768),
            level: 4,
            keywords: CLASSIC,
            time_ms: t0 + 12 * 3_600_000,
            channel: "System".into(),
            computer: self.fqdn.clone(),
            data: EventData::Unnamed(vec![
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                (1_200_000 + u64::from(day) * 86_400).to_string(),
                "60".into(),
                "0 W. Europe Standard Time".into(),
            ]),
            ..EventSpec::default()
        };
        uptime.process_id = 4;
        out.push(uptime);
        const SERVICES: &[&str] = &[
            "Windows Modules Installer",
            "WinHTTP Web Proxy Auto-Discovery Service",
            "Microsoft Exchange Health Manager Recovery",
            "Windows Update",
            "Microsoft Exchange Search Host Controller",
        ];
        let n = rng.round(8.0 * self.spec.scale.max(0.0));
        for k in 0..4 + n {
            let running = rng.chance(0.5);
            // Windows Update and the like start and stop services every few hours.
            let t = if k < 4 {
                t0 + k as i64 * 6 * 3_600_000 + rng.below(3_600_000) as i64
            } else {
                t0 + rng.below(MS_PER_DAY as u64) as i64
            };
            out.push(EventSpec {
                provider: "Service Control Manager".into(),
                provider_guid: Some("{555908d1-a6d7-4695-8e1e-26931d2012f4}".into()),
                event_source_name: Some("Service Control Manager".into()),
                event_id: 7036,
                qualifiers: Some(16384),
                level: 4,
                keywords: 0x8080_0000_0000_0000,
                time_ms: t,
                process_id: 612,
                thread_id: 4280,
                channel: "System".into(),
                computer: self.fqdn.clone(),
                data: EventData::Named(vec![
                    ("param1".into(), (*rng.pick(SERVICES)).into()),
                    ("param2".into(), if running { "running" } else { "stopped" }.into()),
                    ("Binary".into(), String::new()),
                ]),
                ..EventSpec::default()
            });
        }
    }

    fn security_day(&self, day: u32, out: &mut Vec<EventSpec>) {
        let t0 = self.day_start(day);
        let mut rng = Rng::stream(self.spec.seed, &[9, u64::from(day)]);
        let domain = self.netbios.to_ascii_uppercase();
        // Logons around the clock (service accounts, monitoring) plus the load-dependent ones.
        let n = rng.round(30.0 * self.spec.scale.max(0.0));
        for k in 0..4 + n {
            let u = &self.users[rng.below(self.users.len() as u64) as usize];
            let logon_id = format!("0x{:x}", rng.range(0x100000, 0xFFFFFFF));
            let t = if k < 4 {
                t0 + k as i64 * 6 * 3_600_000 + rng.below(3_600_000) as i64
            } else {
                t0 + rng.below(MS_PER_DAY as u64) as i64
            };
            let named = |pairs: &[(&str, String)]| -> EventData {
                EventData::Named(pairs.iter().map(|(k, v)| ((*k).to_string(), v.clone())).collect())
            };
            out.push(EventSpec {
                provider: "Microsoft-Windows-Security-Auditing".into(),
                provider_guid: Some("{54849625-5478-4994-A5BA-3E3B0328C30D}".into()),
                event_id: 4624,
                version: 2,
                level: 0,
                task: 12544,
                keywords: 0x8020_0000_0000_0000,
                time_ms: t,
                process_id: 664,
                thread_id: 1020,
                channel: "Security".into(),
                computer: self.fqdn.clone(),
                data: named(&[
                    ("SubjectUserSid", "S-1-0-0".into()),
                    ("SubjectUserName", "-".into()),
                    ("SubjectDomainName", "-".into()),
                    ("SubjectLogonId", "0x0".into()),
                    ("TargetUserSid", u.sid.clone()),
                    ("TargetUserName", u.sam.clone()),
                    ("TargetDomainName", domain.clone()),
                    ("TargetLogonId", logon_id),
                    ("LogonType", "3".into()),
                    ("LogonProcessName", "Kerberos".into()),
                    ("AuthenticationPackageName", "Kerberos".into()),
                    ("WorkstationName", "-".into()),
                    ("LogonGuid", format!("{{{}}}", guid_string(&rng.guid()))),
                    ("TransmittedServices", "-".into()),
                    ("LmPackageName", "-".into()),
                    ("KeyLength", "0".into()),
                    ("ProcessId", "0x0".into()),
                    ("ProcessName", "-".into()),
                    ("IpAddress", u.ip.clone()),
                    ("IpPort", rng.range(49152, 65535).to_string()),
                    ("ImpersonationLevel", "%%1833".into()),
                    ("RestrictedAdminMode", "-".into()),
                    ("TargetOutboundUserName", "-".into()),
                    ("TargetOutboundDomainName", "-".into()),
                    ("VirtualAccount", "%%1843".into()),
                    ("TargetLinkedLogonId", "0x0".into()),
                    ("ElevatedToken", "%%1843".into()),
                ]),
                ..EventSpec::default()
            });
        }
    }
}
