//! OAB generator logs (`Logging\OABGeneratorLog\OABGenerator<yyyyMMdd>-1.LOG`). The real format
//! is not public (knowledge file §5); this uses an Exchange-style header and
//! `TimeStamp,ServerName,Level,Message` rows: one generation cycle every eight hours, with progress
//! lines that grow with the scale.

use super::fmt::{MS_PER_HOUR, push_csv, push_iso_ms};
use super::rng::Rng;
use super::{LineSink, Mark, Server, mark, oracle};
use std::io::{self, Write};

impl Server {
    pub(crate) fn write_oab(&self, day: u32, w: &mut dyn Write) -> io::Result<Vec<Mark>> {
        let t0 = self.day_start(day);
        let mut rng = Rng::stream(self.spec.seed, &[6, u64::from(day)]);
        let mut sink = LineSink::new(w);
        let created = t0 + rng.range(5, 900) as i64;
        sink.exchange_header(
            self.build_at(created),
            "OAB Generator Log",
            created,
            "TimeStamp,ServerName,Level,Message",
        )?;

        let specials: Vec<_> = self.scenario.oab.iter().filter(|s| s.t >= t0 && s.t < t0 + 24 * MS_PER_HOUR).collect();
        let mut next = 0;
        let mut marks = Vec::new();
        let recipients = self.users.len() as u64 + 37;
        let oab = r"\Default Offline Address Book";
        let steps = rng.round(6.0 * self.spec.scale.max(0.0)).max(1);
        // Cycles at about 01:40, 09:40 and 17:40 (the assistant's 8-hour work cycle).
        for cycle in 0..3 {
            let mut t = t0 + (1 + 8 * cycle) * MS_PER_HOUR + 40 * 60_000 + rng.below(600_000) as i64;
            let mut msgs: Vec<(&'static str, String)> = vec![
                (
                    "Info",
                    format!(
                        "OABGeneratorAssistant.InvokeInternal: Starting OAB generation for '{oab}' (ObjectGuid {}).",
                        self.oab_guid
                    ),
                ),
                (
                    "Info",
                    format!(
                        "OABGenerator.Generate: Begin processing address list '\\Default Global Address List' with {recipients} entries."
                    ),
                ),
            ];
            for k in 1..=steps {
                msgs.push((
                    "Info",
                    format!(
                        "OABGenerator.ProduceOAB: Processed {} of {recipients} recipients.",
                        recipients * k / steps
                    ),
                ));
            }
            let size = 180_000 + rng.below(40_000);
            msgs.push((
                "Info",
                format!(
                    "OABGenerator.ProduceOAB: Generated full OAB file '{}-data-{}.lzx' ({size} bytes).",
                    self.oab_guid,
                    day * 3 + cycle as u32 + 1
                ),
            ));
            if rng.chance(0.5) {
                msgs.push((
                    "Info",
                    format!(
                        "OABGenerator.ProduceOAB: Generated differential OAB file '{}-binpatch-{}.lzx'.",
                        self.oab_guid,
                        day * 3 + cycle as u32
                    ),
                ));
            }
            if rng.chance(0.1) {
                msgs.push((
                    "Warning",
                    "OABGenerator.ProduceOAB: Recipient 'Conference Room 3' has no valid proxy address, skipping."
                        .into(),
                ));
            }
            msgs.push(("Info", "OABFileUploader: Uploaded OAB files to the organization mailbox 'SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}'.".into()));
            msgs.push((
                "Info",
                format!(
                    "OABGeneratorAssistant.InvokeInternal: OAB generation for '{oab}' completed in {} ms.",
                    4000 + rng.below(9000)
                ),
            ));
            for (level, msg) in msgs {
                t += 5 + rng.below(1500) as i64;
                while let Some(s) = specials.get(next).filter(|s| s.t <= t) {
                    let line = self.push_oab_line(&mut sink, s.t, s.level, &s.message)?;
                    marks.extend(mark(s.expect, oracle::oab_line(&s.message, &self.ex), Some(line), None, &s.note));
                    next += 1;
                }
                self.push_oab_line(&mut sink, t, level, &msg)?;
                debug_assert!(oracle::oab_line(&msg, &self.ex).is_empty());
            }
        }
        for s in &specials[next..] {
            let line = self.push_oab_line(&mut sink, s.t, s.level, &s.message)?;
            marks.extend(mark(s.expect, oracle::oab_line(&s.message, &self.ex), Some(line), None, &s.note));
        }
        Ok(marks)
    }

    fn push_oab_line(&self, sink: &mut LineSink, t: i64, level: &str, msg: &str) -> io::Result<u64> {
        push_iso_ms(&mut sink.buf, t);
        sink.buf.push(b',');
        sink.buf.extend_from_slice(self.host.as_bytes());
        sink.buf.push(b',');
        sink.buf.extend_from_slice(level.as_bytes());
        sink.buf.push(b',');
        push_csv(&mut sink.buf, msg);
        sink.emit()
    }
}
