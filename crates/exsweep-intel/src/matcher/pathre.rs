//! Thousands of Loki filename regexes against one path at a time. A single Aho-Corasick pass
//! finds which required literals (see [`super::literals`]) the path contains; only the regexes
//! owning one of them run, plus the few without a usable literal. Regexes are compiled on first
//! use (most never are), so building the matcher costs a parse, not a compile, per pattern.

use super::literals;
use crate::indicator::Indicator;
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use std::collections::HashMap;
use std::sync::OnceLock;

/// A compiled pattern, standard or backtracking.
enum Engine {
    Std(regex::Regex),
    Fancy(fancy_regex::Regex),
}

impl Engine {
    fn new(pattern: &str, fancy: bool) -> Result<Engine, String> {
        if !fancy && let Ok(r) = regex::Regex::new(pattern) {
            return Ok(Engine::Std(r));
        }
        fancy_regex::Regex::new(pattern).map(Engine::Fancy).map_err(|e| e.to_string())
    }

    fn is_match(&self, s: &str) -> Result<bool, String> {
        match self {
            Engine::Std(r) => Ok(r.is_match(s)),
            Engine::Fancy(r) => r.is_match(s).map_err(|e| e.to_string()),
        }
    }
}

struct Compiled {
    re: Engine,
    fp: Option<Engine>,
}

struct Pat {
    /// Index of the indicator in the caller's list.
    ind: usize,
    pattern: String,
    fp: Option<String>,
    fancy: bool,
    compiled: OnceLock<Result<Compiled, String>>,
}

impl Pat {
    fn compiled(&self) -> &Result<Compiled, String> {
        self.compiled.get_or_init(|| {
            let re = Engine::new(&self.pattern, self.fancy).map_err(|e| format!("regex does not compile: {e}"))?;
            let fp = match &self.fp {
                Some(f) => Some(
                    Engine::new(f, self.fancy).map_err(|e| format!("false-positive regex does not compile: {e}"))?,
                ),
                None => None,
            };
            Ok(Compiled { re, fp })
        })
    }
}

/// A regex that could not be run on a path (it becomes a coverage finding for the file).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegexError {
    pub ind: usize,
    pub reason: String,
}

/// The filename regexes of a set, with their literal prefilter.
pub struct PathRegexes {
    pats: Vec<Pat>,
    ac: Option<AhoCorasick>,
    /// Literal id → patterns that require it.
    lit_pats: Vec<Vec<u32>>,
    /// Patterns without a usable literal: run on every path.
    always: Vec<u32>,
}

impl PathRegexes {
    /// Builds the matcher over `(index, indicator)` pairs of kind FileNameRegex.
    pub fn new<'a>(inds: impl IntoIterator<Item = (usize, &'a Indicator)>) -> PathRegexes {
        let mut pats = Vec::new();
        let mut lit_ids: HashMap<Vec<u8>, usize> = HashMap::new();
        let mut lits: Vec<Vec<u8>> = Vec::new();
        let mut lit_pats: Vec<Vec<u32>> = Vec::new();
        let mut always = Vec::new();
        for (ind, i) in inds {
            let id = pats.len() as u32;
            let fancy = i.needs_fancy();
            let pattern = i.regex().to_string();
            let req =
                if fancy { literals::fancy_prefix(&pattern).map(|p| vec![p]) } else { literals::required(&pattern) };
            match req {
                Some(set) => {
                    for l in set {
                        let next = lits.len();
                        let lid = *lit_ids.entry(l.clone()).or_insert(next);
                        if lid == next {
                            lits.push(l);
                            lit_pats.push(Vec::new());
                        }
                        lit_pats[lid].push(id);
                    }
                }
                None => always.push(id),
            }
            pats.push(Pat {
                ind,
                pattern,
                fp: i.false_positive_regex().map(str::to_string),
                fancy,
                compiled: OnceLock::new(),
            });
        }
        let ac = if lits.is_empty() {
            None
        } else {
            AhoCorasickBuilder::new().ascii_case_insensitive(true).match_kind(MatchKind::Standard).build(&lits).ok()
        };
        if ac.is_none() && !lits.is_empty() {
            // Without the automaton every pattern must run.
            always = (0..pats.len() as u32).collect();
        }
        PathRegexes { pats, ac, lit_pats, always }
    }

    pub fn len(&self) -> usize {
        self.pats.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pats.is_empty()
    }

    /// Patterns that run on every path (no literal of at least 3 bytes).
    pub fn unfiltered(&self) -> usize {
        self.always.len()
    }

    /// Indicator indexes whose regex matches `path` and whose false-positive regex does not, in
    /// indicator order; regexes that failed go to `errors`.
    pub fn matches(&self, path: &str, hits: &mut Vec<usize>, errors: &mut Vec<RegexError>) {
        let mut cand: Vec<u32> = self.always.clone();
        if let Some(ac) = &self.ac {
            for m in ac.find_overlapping_iter(path) {
                cand.extend_from_slice(&self.lit_pats[m.pattern().as_usize()]);
            }
        }
        cand.sort_unstable();
        cand.dedup();
        for id in cand {
            let p = &self.pats[id as usize];
            match p.compiled() {
                Ok(c) => match c.re.is_match(path) {
                    Ok(true) => match c.fp.as_ref().map(|f| f.is_match(path)) {
                        None | Some(Ok(false)) => hits.push(p.ind),
                        Some(Ok(true)) => {}
                        Some(Err(e)) => {
                            errors.push(RegexError { ind: p.ind, reason: format!("false-positive regex: {e}") })
                        }
                    },
                    Ok(false) => {}
                    Err(e) => errors.push(RegexError { ind: p.ind, reason: e }),
                },
                Err(e) => errors.push(RegexError { ind: p.ind, reason: e.clone() }),
            }
        }
        hits.sort_unstable();
    }

    /// The same answer without the prefilter (every regex runs): for tests.
    pub fn matches_brute(&self, path: &str) -> Vec<usize> {
        let mut hits = Vec::new();
        for p in &self.pats {
            if let Ok(c) = p.compiled()
                && c.re.is_match(path) == Ok(true)
                && c.fp.as_ref().is_none_or(|f| f.is_match(path) != Ok(true))
            {
                hits.push(p.ind);
            }
        }
        hits.sort_unstable();
        hits
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicator::IndicatorKind;
    use crate::normalize;

    fn ind(re: &str, fp: Option<&str>) -> Indicator {
        let mut i = Indicator::parse(IndicatorKind::FileNameRegex, re).unwrap();
        i.false_positive = fp.map(String::from);
        normalize::prepare_regexes(&mut i).unwrap();
        i
    }

    #[test]
    fn prefilter_agrees_with_running_every_regex() {
        let inds = [
            ind(r#"\\inetpub\\wwwroot\\aspnet_client\\[^\\"]{1,20}\.aspx"#, None),
            ind(r"(?i)\\procdump(64)?(a)?\.(exe|zip)", Some(r"(?i)(SysInternals\\)")),
            ind(r"\\[0-9]\.(aspx|asp)", None),
            ind(r"\\x", None),
            ind(r"(?i)\\FrontEnd\\HttpProxy\\ecp\\auth\\(?!TimeoutLogout\.aspx$)[^\\]+$", None),
            ind(r"ystem32\\svcstat\.exe\Z", None),
        ];
        let m = PathRegexes::new(inds.iter().enumerate());
        assert_eq!(m.unfiltered(), 1);
        let cases: [(&str, &[usize]); 8] = [
            (r"C:\inetpub\wwwroot\aspnet_client\shell.aspx", &[0]),
            (r"C:\Tools\ProcDump64.EXE", &[1]),
            (r"C:\Tools\SysInternals\procdump.exe", &[]),
            (r"D:\web\7.aspx", &[2]),
            (r"C:\xfiles\a.txt", &[3]),
            (r"C:\Program Files\Microsoft\Exchange Server\V15\FrontEnd\HttpProxy\ecp\auth\TimeoutLogout.aspx", &[]),
            (r"C:\Program Files\Microsoft\Exchange Server\V15\FrontEnd\HttpProxy\ecp\auth\x.aspx", &[3, 4]),
            (r"C:\Windows\System32\svcstat.exe", &[5]),
        ];
        for (path, want) in cases {
            let (mut hits, mut errs) = (Vec::new(), Vec::new());
            m.matches(path, &mut hits, &mut errs);
            assert!(errs.is_empty());
            assert_eq!(hits, want, "{path}");
            assert_eq!(m.matches_brute(path), want, "{path}");
        }
    }
}
