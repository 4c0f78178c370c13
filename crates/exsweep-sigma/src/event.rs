//! Records as Sigma sees them: a flat list of named values, borrowed from the record.
//!
//! Windows events give their System fields under the names SigmaHQ rules use (`EventID`,
//! `Channel`, `Provider_Name` (also `Provider`), `Computer`, `Level`, `EventRecordID`), every named
//! EventData/UserData value under its own name (also matched without spaces and case, as Defender
//! writes `Threat Name` where rules say `ThreatName`), classic unnamed values as `Data`, and for
//! Security 4688 the `process_creation` names of Sysmon 1 (`Image` is `NewProcessName`). Keywords
//! search the text values (not the numbers) and the rendered message.
//!
//! Delimited logs are built in [`crate::columns`].

use crate::pattern::lower;
use exsweep_core::record::EventRecord;
use std::borrow::Cow;
use std::cell::OnceCell;

/// Security 4688 fields under the Sysmon 1 names that `process_creation` rules use (the mapping
/// of pySigma's Windows audit pipeline for these fields).
pub const PROCESS_CREATION_4688: &[(&str, &str)] = &[
    ("Image", "NewProcessName"),
    ("ParentImage", "ParentProcessName"),
    ("ProcessId", "NewProcessId"),
    ("ParentProcessId", "ProcessId"),
    ("IntegrityLevel", "MandatoryLabel"),
    ("User", "SubjectUserName"),
    ("LogonId", "SubjectLogonId"),
];

/// Names every Windows event answers to besides its own.
const WINDOWS_ALIASES: &[(&str, &str)] = &[("Provider", "Provider_Name")];

/// One named value. An empty `name` is reachable by keywords only; `None` is a null value (IIS
/// writes `-`).
#[derive(Debug)]
pub struct Entry<'a> {
    pub name: &'a str,
    pub value: Option<Cow<'a, str>>,
    /// Searched by keyword rules.
    pub keyword: bool,
}

/// A record's values, with one lowercase copy of each made on demand for case-insensitive tests.
pub struct FlatEvent<'a> {
    pub entries: Vec<Entry<'a>>,
    /// (name a rule uses, name in this event), tried before the event's own names.
    aliases: &'static [(&'static str, &'static str)],
    extra_aliases: &'static [(&'static str, &'static str)],
    /// `None` inside: the value is its own lowercase.
    lowered: Vec<OnceCell<Option<Box<str>>>>,
}

/// `k` equals `name` once the spaces of `k` are dropped, ASCII case-insensitively.
pub fn same_name(k: &str, name: &str) -> bool {
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

impl<'a> FlatEvent<'a> {
    pub fn new(entries: Vec<Entry<'a>>, aliases: &'static [(&'static str, &'static str)]) -> FlatEvent<'a> {
        let lowered = (0..entries.len()).map(|_| OnceCell::new()).collect();
        FlatEvent { entries, aliases, extra_aliases: &[], lowered }
    }

    /// A Windows event.
    pub fn from_event(r: &'a EventRecord) -> FlatEvent<'a> {
        let num = |v: Option<u64>| v.map(|v| Cow::Owned(v.to_string()));
        let mut e = Vec::with_capacity(r.data.len() + 7);
        e.push(Entry { name: "EventID", value: num(r.event_id.map(u64::from)), keyword: false });
        e.push(Entry { name: "Channel", value: Some(Cow::Borrowed(&r.channel)), keyword: true });
        e.push(Entry { name: "Provider_Name", value: Some(Cow::Borrowed(&r.provider)), keyword: true });
        e.push(Entry { name: "Computer", value: Some(Cow::Borrowed(&r.computer)), keyword: true });
        e.push(Entry { name: "Level", value: num(r.level.map(u64::from)), keyword: false });
        e.push(Entry { name: "EventRecordID", value: num(r.record_id), keyword: false });
        for (k, v) in &r.data {
            e.push(Entry { name: k.as_deref().unwrap_or("Data"), value: Some(Cow::Borrowed(v)), keyword: true });
        }
        if let Some(m) = &r.message {
            e.push(Entry { name: "", value: Some(Cow::Borrowed(m)), keyword: true });
        }
        e.retain(|x| x.value.is_some());
        let is_4688 = r.event_id == Some(4688) && r.channel.eq_ignore_ascii_case("Security");
        let mut ev = FlatEvent::new(e, WINDOWS_ALIASES);
        if is_4688 {
            ev.extra_aliases = PROCESS_CREATION_4688;
        }
        ev
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The value at `i` (`None` for null).
    pub fn value(&self, i: usize) -> Option<&str> {
        self.entries.get(i).and_then(|e| e.value.as_deref())
    }

    /// The lowercase of the value at `i` (empty for null).
    pub fn lower(&self, i: usize) -> &str {
        let Some(v) = self.value(i) else { return "" };
        let cell = &self.lowered[i];
        let l = cell.get_or_init(|| {
            let needs = !v.is_ascii() || v.bytes().any(|b| b.is_ascii_uppercase());
            needs.then(|| lower(v).into_boxed_str())
        });
        l.as_deref().unwrap_or(v)
    }

    /// Indices of the values a rule's field name refers to.
    pub fn find(&self, name: &str) -> Vec<usize> {
        let alias = self.extra_aliases.iter().chain(self.aliases).find(|(a, _)| a.eq_ignore_ascii_case(name));
        let target = alias.map_or(name, |(_, real)| *real);
        let hits: Vec<usize> = (0..self.entries.len()).filter(|&i| self.entries[i].name == target).collect();
        if !hits.is_empty() || target.is_empty() {
            return hits;
        }
        (0..self.entries.len())
            .filter(|&i| !self.entries[i].name.is_empty() && same_name(self.entries[i].name, target))
            .collect()
    }

    /// Indices of the values keywords search.
    pub fn keyword_indices(&self) -> Vec<usize> {
        (0..self.entries.len()).filter(|&i| self.entries[i].keyword && self.entries[i].value.is_some()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_match_without_spaces_and_case() {
        assert!(same_name("Threat Name", "ThreatName"));
        assert!(same_name("threatname", "ThreatName"));
        assert!(!same_name("Threat Name", "Threat"));
        assert!(!same_name("Threat", "ThreatName"));
    }

    #[test]
    fn security_4688_answers_to_sysmon_names() {
        let r = EventRecord {
            channel: "Security".into(),
            event_id: Some(4688),
            data: vec![
                (Some("NewProcessName".into()), "C:\\x.exe".into()),
                (Some("ProcessId".into()), "0x10".into()),
                (Some("NewProcessId".into()), "0x20".into()),
            ],
            ..EventRecord::default()
        };
        let ev = FlatEvent::from_event(&r);
        assert_eq!(ev.find("Image").iter().map(|&i| ev.value(i)).collect::<Vec<_>>(), vec![Some("C:\\x.exe")]);
        assert_eq!(ev.find("ParentProcessId").iter().map(|&i| ev.value(i)).collect::<Vec<_>>(), vec![Some("0x10")]);
        assert_eq!(ev.find("ProcessId").iter().map(|&i| ev.value(i)).collect::<Vec<_>>(), vec![Some("0x20")]);
        assert_eq!(ev.find("EventID").iter().map(|&i| ev.value(i)).collect::<Vec<_>>(), vec![Some("4688")]);
        assert_eq!(ev.lower(ev.find("Image")[0]), "c:\\x.exe");
    }
}
