//! exsweep's Windows event records as Sigma sees them: the System fields under the names SigmaHQ
//! rules use (`EventID`, `Channel`, `Provider_Name`, `Computer`, `Level`, `EventRecordID`), every
//! named EventData/UserData value under its own name (also matched without spaces and case, as
//! Defender writes `Threat Name` where rules say `ThreatName`), classic unnamed values as `Data`,
//! and for Security 4688 the `process_creation` names of Sysmon 1 (`Image` is `NewProcessName`).
//! No JSON is built to evaluate a record.

use exsweep_core::record::EventRecord;
use rsigma_eval::{Event, EventValue};
use serde_json::{Map, Value};
use std::borrow::Cow;

/// Security 4688 fields under the Sysmon 1 names that `process_creation` rules use (the mapping
/// of pySigma's Windows audit pipeline for these fields).
const PROCESS_CREATION_4688: &[(&str, &str)] = &[
    ("Image", "NewProcessName"),
    ("ParentImage", "ParentProcessName"),
    ("ProcessId", "NewProcessId"),
    ("ParentProcessId", "ProcessId"),
    ("IntegrityLevel", "MandatoryLabel"),
    ("User", "SubjectUserName"),
    ("LogonId", "SubjectLogonId"),
];

/// A borrowed event record, evaluated by Sigma rules.
pub struct SigmaEvent<'a> {
    pub record: &'a EventRecord,
}

impl<'a> SigmaEvent<'a> {
    pub fn new(record: &'a EventRecord) -> Self {
        SigmaEvent { record }
    }

    fn named(&self, name: &str) -> Option<&'a str> {
        let data = &self.record.data;
        if let Some((_, v)) = data.iter().find(|(k, _)| k.as_deref() == Some(name)) {
            return Some(v);
        }
        // Names with spaces or another case: `Threat Name` for `ThreatName` (compared without
        // allocating: most lookups miss, as rules ask for fields an event does not have).
        data.iter()
            .find(|(k, _)| k.as_deref().is_some_and(|k| same_name_without_spaces(k, name)))
            .map(|(_, v)| v.as_str())
    }

    fn is_security_4688(&self) -> bool {
        self.record.event_id == Some(4688) && self.record.channel.eq_ignore_ascii_case("Security")
    }
}

/// `k` equals `name` once the spaces of `k` are dropped, ASCII case-insensitively.
fn same_name_without_spaces(k: &str, name: &str) -> bool {
    if !k.contains(' ') {
        return k.eq_ignore_ascii_case(name);
    }
    let mut a = k.bytes().filter(|&b| b != b' ');
    let mut b = name.bytes();
    loop {
        match (a.next(), b.next()) {
            (None, None) => return true,
            (Some(x), Some(y)) if x.eq_ignore_ascii_case(&y) => {}
            _ => return false,
        }
    }
}

fn str_value(s: &str) -> EventValue<'_> {
    EventValue::Str(Cow::Borrowed(s))
}

impl Event for SigmaEvent<'_> {
    fn get_field(&self, path: &str) -> Option<EventValue<'_>> {
        let r = self.record;
        match path {
            "EventID" => return r.event_id.map(|v| EventValue::Int(v.into())),
            "Channel" => return Some(str_value(&r.channel)),
            "Provider_Name" | "Provider" => return Some(str_value(&r.provider)),
            "Computer" => return Some(str_value(&r.computer)),
            "Level" => return r.level.map(|v| EventValue::Int(v.into())),
            "EventRecordID" => return r.record_id.map(|v| EventValue::Int(v as i64)),
            _ => {}
        }
        if self.is_security_4688()
            && let Some((_, real)) = PROCESS_CREATION_4688.iter().find(|(alias, _)| *alias == path)
        {
            return self.named(real).map(str_value);
        }
        if let Some(v) = self.named(path) {
            return Some(str_value(v));
        }
        if path == "Data" {
            let unnamed: Vec<EventValue<'_>> =
                r.data.iter().filter(|(k, _)| k.is_none()).map(|(_, v)| str_value(v)).collect();
            return match unnamed.len() {
                0 => None,
                1 => unnamed.into_iter().next(),
                _ => Some(EventValue::Array(unnamed)),
            };
        }
        None
    }

    fn any_string_value(&self, pred: &dyn Fn(&str) -> bool) -> bool {
        let r = self.record;
        pred(&r.channel)
            || pred(&r.provider)
            || pred(&r.computer)
            || r.data.iter().any(|(_, v)| pred(v))
            || r.message.as_deref().is_some_and(pred)
    }

    fn all_string_values(&self) -> Vec<Cow<'_, str>> {
        let r = self.record;
        let mut out: Vec<Cow<'_, str>> = vec![
            Cow::Borrowed(r.channel.as_str()),
            Cow::Borrowed(r.provider.as_str()),
            Cow::Borrowed(r.computer.as_str()),
        ];
        out.extend(r.data.iter().map(|(_, v)| Cow::Borrowed(v.as_str())));
        out.extend(r.message.as_deref().map(Cow::Borrowed));
        out
    }

    fn visit_string_values(&self, visit: &mut dyn FnMut(&str)) {
        let r = self.record;
        visit(&r.channel);
        visit(&r.provider);
        visit(&r.computer);
        for (_, v) in &r.data {
            visit(v);
        }
        if let Some(m) = &r.message {
            visit(m);
        }
    }

    fn to_json(&self) -> Value {
        let r = self.record;
        let mut m = Map::new();
        if let Some(id) = r.event_id {
            m.insert("EventID".into(), id.into());
        }
        m.insert("Channel".into(), r.channel.clone().into());
        m.insert("Provider_Name".into(), r.provider.clone().into());
        m.insert("Computer".into(), r.computer.clone().into());
        if let Some(id) = r.record_id {
            m.insert("EventRecordID".into(), id.into());
        }
        let mut unnamed = Vec::new();
        for (k, v) in &r.data {
            match k {
                Some(k) => {
                    m.insert(k.clone(), v.clone().into());
                }
                None => unnamed.push(Value::from(v.clone())),
            }
        }
        if !unnamed.is_empty() {
            m.insert("Data".into(), Value::Array(unnamed));
        }
        Value::Object(m)
    }
}

#[cfg(test)]
mod tests {
    use super::same_name_without_spaces;

    #[test]
    fn field_names_match_without_spaces_and_case() {
        assert!(same_name_without_spaces("Threat Name", "ThreatName"));
        assert!(same_name_without_spaces("threatname", "ThreatName"));
        assert!(!same_name_without_spaces("Threat Name", "Threat"));
        assert!(!same_name_without_spaces("Threat", "ThreatName"));
    }
}
