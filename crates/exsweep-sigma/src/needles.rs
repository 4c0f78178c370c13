//! Needles: sets of ASCII literals of which every event a rule can match contains at least one
//! (compared ASCII case-insensitively). They drive the engine's prefilter: one Aho-Corasick pass
//! over an event's values tells which rules are worth evaluating. A rule part without a needle
//! (a negation, a number, a CIDR range, ...) gives `None`, and a rule without any needle is
//! evaluated on every event of its logsource.
//!
//! Soundness is what matters (a needle must never hide a match); selectivity is chosen by
//! [`best`]: the set whose shortest needle is longest, then the smaller set.

use regex_syntax::hir::{Class, Hir, HirKind};

/// One of these literals is in every matching event; `None` when nothing is known.
pub type Needles = Option<Vec<String>>;

/// Needles shorter than this are not searched: too common to filter anything, and each costs an
/// automaton match at nearly every byte. Value tests with a needle at least this long get a
/// needle id: the prefilter then tells them, before any comparison, whether it is in the record.
pub const MIN_TEST_NEEDLE: usize = 3;

/// The needle of an `EventID` equality. It is not text to search: the prefilter marks it from the
/// record's EventID, so that rules that only name event ids are evaluated on those events alone.
pub fn event_id_needle(id: u32) -> String {
    format!("{EVENT_ID_PREFIX}{id}")
}

/// What starts every [`event_id_needle`] (never in log text).
pub const EVENT_ID_PREFIX: &str = "\0EventID=";

/// The event id of an [`event_id_needle`].
pub fn event_id_of_needle(n: &str) -> Option<u32> {
    n.strip_prefix(EVENT_ID_PREFIX)?.parse().ok()
}

/// Needles by id, shared by all rules of a set.
#[derive(Debug, Default)]
pub struct NeedleTable {
    ids: std::collections::HashMap<String, u32>,
    names: Vec<String>,
}

impl NeedleTable {
    pub fn id(&mut self, needle: &str) -> u32 {
        if let Some(&i) = self.ids.get(needle) {
            return i;
        }
        let i = self.names.len() as u32;
        self.names.push(needle.to_string());
        self.ids.insert(needle.to_string(), i);
        i
    }

    pub fn name(&self, id: u32) -> &str {
        &self.names[id as usize]
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// Which needles the prefilter found in the record being evaluated.
#[derive(Clone, Copy, Debug)]
pub struct Seen<'a> {
    marks: &'a [u32],
    generation: u32,
    everything: bool,
}

impl<'a> Seen<'a> {
    pub fn new(marks: &'a [u32], generation: u32) -> Seen<'a> {
        Seen { marks, generation, everything: false }
    }

    /// No prefilter ran: every needle may be there.
    pub fn everything() -> Seen<'static> {
        Seen { marks: &[], generation: 0, everything: true }
    }

    #[inline]
    pub fn hit(&self, id: u32) -> bool {
        self.everything || self.marks.get(id as usize) == Some(&self.generation)
    }
}

/// Text of benign Windows events and web logs. A needle found in it is common: a set without
/// common needles is preferred, whatever its needles' length.
const BACKGROUND: &str = concat!(
    "c:\\windows\\system32\\svchost.exe -k netsvcs c:\\windows\\syswow64\\ c:\\program files\\ ",
    "c:\\program files (x86)\\ c:\\programdata\\ c:\\users\\administrator\\appdata\\local\\temp\\ ",
    "\\windowspowershell\\v1.0\\powershell.exe cmd.exe /c conhost.exe 0xffffffff -forcev1 rundll32.exe ",
    "nt authority\\system nt authority\\network service microsoft corporation microsoft windows ",
    "hklm\\software\\microsoft\\windows\\currentversion\\run hklm\\system\\currentcontrolset\\services\\ ",
    ".exe .dll .ps1 .bat .tmp .log .txt .xml .json ",
    "get /owa/ post /owa/service.svc /ecp/ /ews/exchange.asmx /mapi/emsmdb/ /rpc/rpcproxy.dll ",
    "/autodiscover/autodiscover.xml /microsoft-server-activesync/ /oab/ mozilla/5.0 (windows nt 10.0; win64; x64) ",
    "applewebkit/537.36 (khtml, like gecko) chrome/88.0 safari/537.36 microsoft office/16.0 outlook ",
);

fn common(n: &str) -> bool {
    n.is_ascii() && BACKGROUND.contains(&n.to_ascii_lowercase())
}

/// Higher is more selective: no common needles, then a longer shortest needle, then fewer.
pub fn score(set: &[String]) -> (std::cmp::Reverse<usize>, usize, std::cmp::Reverse<usize>) {
    let commons = set.iter().filter(|n| common(n)).count();
    (std::cmp::Reverse(commons), set.iter().map(String::len).min().unwrap_or(0), std::cmp::Reverse(set.len()))
}

/// Any one of several required parts: the most selective of those that have needles.
pub fn best(sets: impl IntoIterator<Item = Needles>) -> Needles {
    sets.into_iter().flatten().filter(|s| !s.is_empty()).max_by_key(|s| score(s))
}

/// Alternatives: every one must have needles, and their union is the set.
pub fn union(sets: impl IntoIterator<Item = Needles>) -> Needles {
    let mut out: Vec<String> = Vec::new();
    for s in sets {
        out.extend(s?);
    }
    out.sort();
    out.dedup();
    (!out.is_empty()).then_some(out)
}

/// The ASCII letter a class stands for when it is one letter in either case (what `(?i)a` gives:
/// `[Aa]`, with the Kelvin sign or long s for `k` and `s`), or the one byte/char it holds.
fn class_char(c: &Class) -> Option<u8> {
    let mut ascii: Vec<u8> = Vec::new();
    match c {
        Class::Unicode(u) => {
            for r in u.ranges() {
                for ch in r.start()..=r.end() {
                    if ch.is_ascii() {
                        ascii.push(ch as u8);
                    } else if !matches!(ch, '\u{212A}' | '\u{017F}') {
                        return None;
                    }
                    if ascii.len() > 2 {
                        return None;
                    }
                }
            }
        }
        Class::Bytes(b) => {
            for r in b.ranges() {
                if u32::from(r.end()) - u32::from(r.start()) > 2 {
                    return None;
                }
                for byte in r.start()..=r.end() {
                    ascii.push(byte);
                }
            }
        }
    }
    match ascii.as_slice() {
        [a] if a.is_ascii() => Some(a.to_ascii_lowercase()),
        [a, b] if a.is_ascii_alphabetic() && a.eq_ignore_ascii_case(b) && a != b => Some(a.to_ascii_lowercase()),
        _ => None,
    }
}

/// Bytes of a literal, split at non-ASCII bytes.
fn ascii_runs(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    bytes.split(|b| !b.is_ascii())
}

/// The needles of a parsed regular expression.
pub fn of_hir(h: &Hir) -> Needles {
    match h.kind() {
        HirKind::Literal(l) => ascii_runs(&l.0)
            .max_by_key(|r| r.len())
            .filter(|r| !r.is_empty())
            .map(|r| vec![String::from_utf8_lossy(r).to_ascii_lowercase()]),
        HirKind::Class(c) => class_char(c).map(|b| vec![(b as char).to_string()]),
        HirKind::Capture(c) => of_hir(&c.sub),
        HirKind::Repetition(r) if r.min >= 1 => of_hir(&r.sub),
        HirKind::Alternation(alts) => union(alts.iter().map(of_hir)),
        HirKind::Concat(parts) => {
            // Runs of consecutive single characters are literals too; a sub-part with needles of
            // its own is a candidate as well.
            let mut candidates: Vec<Needles> = Vec::new();
            let mut run = String::new();
            let flush = |run: &mut String, candidates: &mut Vec<Needles>| {
                if !run.is_empty() {
                    candidates.push(Some(vec![std::mem::take(run)]));
                }
            };
            for p in parts {
                match p.kind() {
                    HirKind::Literal(l) => {
                        let mut runs = l.0.split(|b| !b.is_ascii()).peekable();
                        let mut first = true;
                        while let Some(r) = runs.next() {
                            if !first {
                                flush(&mut run, &mut candidates);
                            }
                            first = false;
                            run.push_str(&String::from_utf8_lossy(r).to_ascii_lowercase());
                            if runs.peek().is_some() {
                                flush(&mut run, &mut candidates);
                            }
                        }
                    }
                    HirKind::Class(c) => match class_char(c) {
                        Some(b) => run.push(b as char),
                        None => flush(&mut run, &mut candidates),
                    },
                    // Zero-width assertions do not consume text: the run goes on.
                    HirKind::Look(_) => {}
                    _ => {
                        flush(&mut run, &mut candidates);
                        candidates.push(of_hir(p));
                    }
                }
            }
            flush(&mut run, &mut candidates);
            best(candidates)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rx(p: &str, i: bool) -> Needles {
        of_hir(&regex_syntax::ParserBuilder::new().case_insensitive(i).build().parse(p).unwrap())
    }

    #[test]
    fn regex_literals() {
        assert_eq!(rx(r"^/ecp/[a-z0-9]{1,3}\.js$", true), Some(vec!["/ecp/".to_string()]));
        assert_eq!(rx(r"mimikatz|kiwi", false), Some(vec!["kiwi".to_string(), "mimikatz".to_string()]));
        assert_eq!(rx(r"(?i)InvOke-ExpreSsion", false), Some(vec!["invoke-expression".to_string()]));
        assert_eq!(rx(r".*", false), None);
        assert_eq!(rx(r"a|.*", false), None);
        assert_eq!(rx(r"\bnet\s+user\b", false), Some(vec!["user".to_string()]));
    }

    #[test]
    fn best_prefers_long_then_few() {
        let a = Some(vec!["ab".to_string()]);
        let b = Some(vec!["abcd".to_string(), "efgh".to_string()]);
        let c = Some(vec!["abcd".to_string()]);
        assert_eq!(best([a.clone(), b.clone(), None]), b);
        assert_eq!(best([b, c.clone()]), c);
        assert_eq!(union([a, None]), None);
    }
}
