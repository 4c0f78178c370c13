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
    /// The lowercase of the value, made on first use; `None` inside: the value is its own.
    lowered: OnceCell<Option<Box<str>>>,
}

impl<'a> Entry<'a> {
    pub fn new(name: &'a str, value: Option<Cow<'a, str>>, keyword: bool) -> Entry<'a> {
        Entry { name, value, keyword, lowered: OnceCell::new() }
    }
}

/// Decimal text of small numbers (event ids, levels), made once: records then name them without
/// allocating.
fn small_number(n: u64) -> Option<&'static str> {
    const N: usize = 10_000;
    static TABLE: std::sync::OnceLock<(String, Vec<u32>)> = std::sync::OnceLock::new();
    let (text, ends) = TABLE.get_or_init(|| {
        let mut text = String::new();
        let mut ends = Vec::with_capacity(N);
        for i in 0..N {
            text.push_str(&i.to_string());
            ends.push(text.len() as u32);
        }
        (text, ends)
    });
    let i = usize::try_from(n).ok().filter(|&i| i < N)?;
    let start = if i == 0 { 0 } else { ends[i - 1] as usize };
    text.get(start..ends[i] as usize)
}

/// A record's values, with one lowercase copy of each made on demand for case-insensitive tests.
pub struct FlatEvent<'a> {
    pub entries: Vec<Entry<'a>>,
    /// (name a rule uses, name in this event), tried before the event's own names.
    aliases: &'static [(&'static str, &'static str)],
    extra_aliases: &'static [(&'static str, &'static str)],
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
        FlatEvent { entries, aliases, extra_aliases: &[] }
    }

    /// A Windows event.
    pub fn from_event(r: &'a EventRecord) -> FlatEvent<'a> {
        let num = |v: Option<u64>| v.map(|v| small_number(v).map_or_else(|| Cow::Owned(v.to_string()), Cow::Borrowed));
        let mut e = Vec::with_capacity(r.data.len() + 7);
        e.push(Entry::new("EventID", num(r.event_id.map(u64::from)), false));
        e.push(Entry::new("Channel", Some(Cow::Borrowed(&r.channel)), true));
        e.push(Entry::new("Provider_Name", Some(Cow::Borrowed(&r.provider)), true));
        e.push(Entry::new("Computer", Some(Cow::Borrowed(&r.computer)), true));
        e.push(Entry::new("Level", num(r.level.map(u64::from)), false));
        e.push(Entry::new("EventRecordID", num(r.record_id), false));
        for (k, v) in &r.data {
            e.push(Entry::new(k.as_deref().unwrap_or("Data"), Some(Cow::Borrowed(v)), true));
        }
        if let Some(m) = &r.message {
            e.push(Entry::new("", Some(Cow::Borrowed(m)), true));
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
        let cell = &self.entries[i].lowered;
        let l = cell.get_or_init(|| {
            let needs = !v.is_ascii() || v.bytes().any(|b| b.is_ascii_uppercase());
            needs.then(|| lower(v).into_boxed_str())
        });
        l.as_deref().unwrap_or(v)
    }

    /// Indices of the values a rule's field name refers to.
    pub fn find(&self, name: &str) -> Indices {
        let alias = self.extra_aliases.iter().chain(self.aliases).find(|(a, _)| a.eq_ignore_ascii_case(name));
        let target = alias.map_or(name, |(_, real)| *real);
        let mut hits = Indices::default();
        (0..self.entries.len()).filter(|&i| self.entries[i].name == target).for_each(|i| hits.push(i));
        if !hits.is_empty() || target.is_empty() {
            return hits;
        }
        (0..self.entries.len())
            .filter(|&i| !self.entries[i].name.is_empty() && same_name(self.entries[i].name, target))
            .for_each(|i| hits.push(i));
        hits
    }

    /// Indices of the values keywords search.
    pub fn keyword_indices(&self) -> Indices {
        let mut hits = Indices::default();
        (0..self.entries.len())
            .filter(|&i| self.entries[i].keyword && self.entries[i].value.is_some())
            .for_each(|i| hits.push(i));
        hits
    }
}

/// Indices of values, inline for the usual few (a lookup on every rule evaluation should not
/// allocate).
#[derive(Clone, Debug, Default)]
pub struct Indices {
    len: usize,
    inline: [usize; 6],
    spill: Vec<usize>,
}

impl Indices {
    pub fn push(&mut self, i: usize) {
        if self.len < self.inline.len() {
            self.inline[self.len] = i;
        } else {
            if self.spill.is_empty() {
                self.spill.extend_from_slice(&self.inline);
            }
            self.spill.push(i);
        }
        self.len += 1;
    }

    pub fn as_slice(&self) -> &[usize] {
        if self.len <= self.inline.len() { &self.inline[..self.len] } else { &self.spill }
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.as_slice().iter().copied()
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
        assert_eq!(ev.find("Image").iter().map(|i| ev.value(i)).collect::<Vec<_>>(), vec![Some("C:\\x.exe")]);
        assert_eq!(ev.find("ParentProcessId").iter().map(|i| ev.value(i)).collect::<Vec<_>>(), vec![Some("0x10")]);
        assert_eq!(ev.find("ProcessId").iter().map(|i| ev.value(i)).collect::<Vec<_>>(), vec![Some("0x20")]);
        assert_eq!(ev.find("EventID").iter().map(|i| ev.value(i)).collect::<Vec<_>>(), vec![Some("4688")]);
        assert_eq!(ev.lower(ev.find("Image").as_slice()[0]), "c:\\x.exe");
    }
}
