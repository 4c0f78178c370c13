//! Required literals of a regex: a set of strings one of which every match contains, found by
//! walking the parsed pattern. The filename-regex matcher searches all of them at once with one
//! Aho-Corasick pass and runs only the regexes whose literals occur, which is what makes
//! thousands of Loki patterns cheap per path. Literals are lowercase ASCII and meant for an
//! ASCII-case-insensitive search, so they stay valid for case-sensitive patterns too (the search
//! finds a superset, the regex decides).

use regex_syntax::hir::{Class, Hir, HirKind};
use std::collections::BTreeSet;

/// Largest literal set kept while combining (cross products beyond it are cut).
const MAX_SET: usize = 64;
/// Largest set of alternatives kept as one requirement.
const MAX_UNION: usize = 256;
/// Largest character class expanded into literals.
const MAX_CLASS: usize = 10;
/// Shortest literal worth a prefilter: shorter ones occur in nearly every path.
pub const MIN_LEN: usize = 3;

type Set = BTreeSet<Vec<u8>>;

#[derive(Clone, Debug, Default)]
struct Info {
    /// Every string the node can match, when that set is small.
    exact: Option<Set>,
    /// Strings one of which every match of the node contains.
    req: Option<Set>,
}

fn single(s: &[u8]) -> Set {
    std::iter::once(s.to_ascii_lowercase()).collect()
}

/// The requirement a node offers: its exact set when it cannot match the empty string.
fn best(info: &Info) -> Option<Set> {
    match &info.exact {
        Some(e) if !e.iter().any(Vec::is_empty) => Some(e.clone()),
        _ => info.req.clone(),
    }
}

/// Longer shortest literal first, then fewer literals.
fn better(a: &Set, b: &Set) -> bool {
    let min = |s: &Set| s.iter().map(Vec::len).min().unwrap_or(0);
    (min(a), std::cmp::Reverse(a.len())) > (min(b), std::cmp::Reverse(b.len()))
}

fn keep_best(best: &mut Option<Set>, cand: Option<Set>) {
    let Some(c) = cand else { return };
    if c.is_empty() || c.iter().any(Vec::is_empty) {
        return;
    }
    match best {
        Some(b) if !better(&c, b) => {}
        _ => *best = Some(c),
    }
}

fn cross(a: &Set, b: &Set) -> Set {
    let mut out = Set::new();
    for x in a {
        for y in b {
            let mut s = x.clone();
            s.extend_from_slice(y);
            out.insert(s);
        }
    }
    out
}

fn class_strings(c: &Class) -> Option<Set> {
    let mut out = Set::new();
    match c {
        Class::Unicode(u) => {
            let mut n = 0usize;
            for r in u.ranges() {
                n += (r.end() as usize).saturating_sub(r.start() as usize) + 1;
                if n > MAX_CLASS * 3 {
                    return None;
                }
                for ch in r.start()..=r.end() {
                    let mut buf = [0u8; 4];
                    out.insert(ch.encode_utf8(&mut buf).as_bytes().to_ascii_lowercase());
                }
            }
        }
        Class::Bytes(b) => {
            let mut n = 0usize;
            for r in b.ranges() {
                n += usize::from(r.end() - r.start()) + 1;
                if n > MAX_CLASS * 3 {
                    return None;
                }
                for byte in r.start()..=r.end() {
                    out.insert(vec![byte.to_ascii_lowercase()]);
                }
            }
        }
    }
    (out.len() <= MAX_CLASS).then_some(out)
}

fn walk(h: &Hir) -> Info {
    match h.kind() {
        HirKind::Empty | HirKind::Look(_) => Info { exact: Some(single(b"")), req: None },
        HirKind::Literal(l) => Info { exact: Some(single(&l.0)), req: None },
        HirKind::Class(c) => Info { exact: class_strings(c), req: None },
        HirKind::Capture(c) => walk(&c.sub),
        HirKind::Repetition(r) => {
            let sub = walk(&r.sub);
            if r.max == Some(0) {
                return Info { exact: Some(single(b"")), req: None };
            }
            if r.min == 0 {
                let exact = match (&sub.exact, r.max) {
                    (Some(e), Some(1)) => {
                        let mut e = e.clone();
                        e.insert(Vec::new());
                        Some(e)
                    }
                    _ => None,
                };
                return Info { exact, req: None };
            }
            let exact = match (&sub.exact, r.max) {
                (Some(e), Some(max)) if max == r.min && max == 1 => Some(e.clone()),
                _ => None,
            };
            Info { exact, req: best(&sub) }
        }
        HirKind::Concat(subs) => {
            let mut bestreq: Option<Set> = None;
            let mut run: Set = single(b"");
            let mut all_exact = true;
            for s in subs {
                let info = walk(s);
                match info.exact {
                    Some(e) if run.len() * e.len() <= MAX_SET => run = cross(&run, &e),
                    Some(e) => {
                        all_exact = false;
                        keep_best(&mut bestreq, Some(std::mem::replace(&mut run, e)));
                    }
                    None => {
                        all_exact = false;
                        keep_best(&mut bestreq, Some(std::mem::replace(&mut run, single(b""))));
                        keep_best(&mut bestreq, info.req);
                    }
                }
            }
            if all_exact {
                return Info { exact: Some(run), req: None };
            }
            keep_best(&mut bestreq, Some(run));
            Info { exact: None, req: bestreq }
        }
        HirKind::Alternation(subs) => {
            let infos: Vec<Info> = subs.iter().map(walk).collect();
            let exact = infos.iter().try_fold(Set::new(), |mut acc, i| {
                acc.extend(i.exact.clone()?);
                (acc.len() <= MAX_SET).then_some(acc)
            });
            let req = infos.iter().try_fold(Set::new(), |mut acc, i| {
                let b = best(i)?;
                acc.extend(b);
                (acc.len() <= MAX_UNION).then_some(acc)
            });
            Info { exact, req }
        }
    }
}

/// The literals one of which every match of `pattern` (Rust `regex` syntax) contains, or `None`
/// when there is no such set with literals of at least [`MIN_LEN`] bytes.
pub fn required(pattern: &str) -> Option<Vec<Vec<u8>>> {
    let hir = regex_syntax::ParserBuilder::new().build().parse(pattern).ok()?;
    let info = walk(&hir);
    let set = best(&info)?;
    if set.iter().any(|s| s.len() < MIN_LEN) {
        return None;
    }
    Some(set.into_iter().collect())
}

/// For a backtracking (`fancy-regex`) pattern that the parser above cannot read: its literal
/// prefix, when the pattern is `(?i)`-optional literal text up to its first operator and has no
/// alternation at the top.
pub fn fancy_prefix(pattern: &str) -> Option<Vec<u8>> {
    let p = pattern.strip_prefix("(?i)").unwrap_or(pattern);
    let b = p.as_bytes();
    // A `|` outside classes and groups could split the prefix off one branch only.
    let (mut depth, mut in_class, mut i) = (0i32, false, 0);
    while i < b.len() {
        match b[i] {
            b'\\' => i += 1,
            b'[' if !in_class => in_class = true,
            b']' if in_class => in_class = false,
            b'(' if !in_class => depth += 1,
            b')' if !in_class => depth -= 1,
            b'|' if !in_class && depth == 0 => return None,
            _ => {}
        }
        i += 1;
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'\\' {
            let Some(&n) = b.get(i + 1) else { break };
            if n.is_ascii_alphanumeric() {
                break; // \d, \w, \b, ...: not a literal
            }
            out.push(n);
            i += 2;
        } else if b"()[]{}.*+?|^$".contains(&c) {
            // A quantifier makes the last literal character optional.
            if b"*?{".contains(&c) {
                out.pop();
            }
            break;
        } else if c.is_ascii() {
            out.push(c);
            i += 1;
        } else {
            break;
        }
    }
    (out.len() >= MIN_LEN).then(|| out.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(p: &str) -> Option<Vec<String>> {
        required(p).map(|v| v.into_iter().map(|s| String::from_utf8(s).unwrap()).collect())
    }

    #[test]
    fn literals_of_loki_patterns() {
        assert_eq!(
            req(r#"\\inetpub\\wwwroot\\aspnet_client\\[^\\"]{1,20}\.aspx"#).unwrap(),
            vec![r"\inetpub\wwwroot\aspnet_client\"]
        );
        assert_eq!(req(r"\\usbclass\.sys").unwrap(), vec![r"\usbclass.sys"]);
        assert_eq!(req(r":\\ProgramData\\[\w]{1,6}\.(zip|7z|rar)$").unwrap(), vec![r":\programdata\"]);
        // Alternatives give one literal each.
        let alt = req(r"\\(svchost|lsass)\.exe$").unwrap();
        assert_eq!(alt, vec![r"\lsass.exe", r"\svchost.exe"]);
        // Case-insensitive patterns: variants of k and s (Kelvin sign, long s) are kept.
        let ci = req(r"(?i)\\procdump(64)?(a)?\.(exe|zip)").unwrap();
        assert_eq!(ci.len(), 8, "{ci:?}");
        assert!(ci.iter().all(|l| l.starts_with(r"\procdump")), "{ci:?}");
        assert!(req(r"(?i)\\mimikatz\.exe").unwrap().len() >= 2);
        // Nothing usable: a pattern that can match anything short.
        let digits = req(r"\\[0-9]\.(aspx|asp)").unwrap();
        assert_eq!(digits.len(), 20);
        assert!(digits.contains(&r"\7.aspx".to_string()));
        assert_eq!(req(r".*"), None);
        assert_eq!(req(r"\\x"), None);
        assert_eq!(req(r"(abc)?def"), Some(vec!["abcdef".into(), "def".into()]));
        assert_eq!(req(r"[a-z]+\.dll"), Some(vec![".dll".into()]));
    }

    #[test]
    fn prefixes_of_fancy_patterns() {
        let p = fancy_prefix(r"(?i)\\FrontEnd\\HttpProxy\\ecp\\auth\\(?!TimeoutLogout\.aspx$)[^\\]+$").unwrap();
        assert_eq!(p, br"\frontend\httpproxy\ecp\auth\".to_vec());
        assert_eq!(fancy_prefix(r"abcd?(?=x)").unwrap(), b"abc".to_vec());
        assert_eq!(fancy_prefix(r"abc(?=x)|zzz"), None);
        assert_eq!(fancy_prefix(r"\d+(?=x)"), None);
    }
}
