//! Sigma string values and how they match: literal text with the `*` and `?` wildcards (escaped
//! with `\`, as the Sigma specification and pySigma read them), compiled to the cheapest test that
//! says the same thing (equality, prefix, suffix, substring, or a glob).
//!
//! Matching is case-insensitive unless the rule says `cased`: patterns are lowered once when the
//! rule is compiled, values once per event (see [`crate::event::FlatEvent::lower`]).

use memchr::memmem;

/// One piece of a Sigma string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece {
    Lit(String),
    /// `*`: any run of characters, also none.
    Star,
    /// `?`: exactly one character.
    One,
}

/// A Sigma string: literals and wildcards.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SigmaString {
    pub pieces: Vec<Piece>,
}

impl SigmaString {
    /// Reads a rule value. `\` escapes `*`, `?` and `\`; before any other character it is a
    /// literal backslash (so `C:\Windows\` stays as written).
    pub fn parse(s: &str) -> SigmaString {
        let mut out = SigmaString::default();
        let mut lit = String::new();
        let mut chars = s.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.peek() {
                    Some(&n @ ('*' | '?' | '\\')) => {
                        lit.push(n);
                        chars.next();
                    }
                    _ => lit.push('\\'),
                },
                '*' | '?' => {
                    if !lit.is_empty() {
                        out.pieces.push(Piece::Lit(std::mem::take(&mut lit)));
                    }
                    out.pieces.push(if c == '*' { Piece::Star } else { Piece::One });
                }
                _ => lit.push(c),
            }
        }
        if !lit.is_empty() {
            out.pieces.push(Piece::Lit(lit));
        }
        out
    }

    /// A string without wildcards.
    pub fn literal(s: &str) -> SigmaString {
        SigmaString { pieces: if s.is_empty() { Vec::new() } else { vec![Piece::Lit(s.to_string())] } }
    }

    pub fn has_wildcards(&self) -> bool {
        self.pieces.iter().any(|p| !matches!(p, Piece::Lit(_)))
    }

    /// The text, when the string has no wildcards.
    pub fn as_plain(&self) -> Option<String> {
        let mut s = String::new();
        for p in &self.pieces {
            match p {
                Piece::Lit(l) => s.push_str(l),
                _ => return None,
            }
        }
        Some(s)
    }

    /// `*` before (for `endswith` and `contains`), unless there already is one.
    pub fn star_before(mut self) -> SigmaString {
        if self.pieces.first() != Some(&Piece::Star) {
            self.pieces.insert(0, Piece::Star);
        }
        self
    }

    /// `*` after (for `startswith` and `contains`), unless there already is one.
    pub fn star_after(mut self) -> SigmaString {
        if self.pieces.last() != Some(&Piece::Star) {
            self.pieces.push(Piece::Star);
        }
        self
    }

    /// The same string with every literal passed through `f`.
    pub fn map_literals(&self, f: impl Fn(&str) -> String) -> SigmaString {
        let pieces = self
            .pieces
            .iter()
            .map(|p| match p {
                Piece::Lit(l) => Piece::Lit(f(l)),
                other => other.clone(),
            })
            .collect();
        SigmaString { pieces }.merged()
    }

    /// Adjacent literals joined, empty ones dropped.
    fn merged(self) -> SigmaString {
        let mut out: Vec<Piece> = Vec::with_capacity(self.pieces.len());
        for p in self.pieces {
            match (out.last_mut(), p) {
                (_, Piece::Lit(l)) if l.is_empty() => {}
                (Some(Piece::Lit(prev)), Piece::Lit(l)) => prev.push_str(&l),
                (_, p) => out.push(p),
            }
        }
        SigmaString { pieces: out }
    }

    /// The longest literal every match must contain, for the prefilter: lowered unless `cased`
    /// (the prefilter compares ASCII case-insensitively, and scans non-ASCII values in their
    /// lowercase form too, so a lowered needle is found wherever the lowered test can match).
    pub fn needle(&self, cased: bool) -> Option<String> {
        let best = self
            .pieces
            .iter()
            .filter_map(|p| match p {
                Piece::Lit(l) => Some(l),
                _ => None,
            })
            .max_by_key(|l| l.len())?;
        // NUL starts exsweep's own event-id needles; no rule literal may look like one.
        let best = best.trim_start_matches('\0');
        (!best.is_empty()).then(|| if cased { best.to_string() } else { lower(best) })
    }
}

/// A compiled string test, on lowered text unless `cased`.
#[derive(Clone, Debug)]
pub enum StrTest {
    Exact(String),
    Prefix(String),
    Suffix(String),
    Contains(Box<memmem::Finder<'static>>),
    Glob(Vec<GlobTok>),
}

/// A glob, byte by byte (`?` takes one whole UTF-8 character).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GlobTok {
    Byte(u8),
    Star,
    One,
}

/// A string test and whether it is case-sensitive.
#[derive(Clone, Debug)]
pub struct StrMatch {
    pub test: StrTest,
    pub cased: bool,
}

/// Lowercase as the matcher compares, the same function on both sides: each character on its
/// own (`str::to_lowercase` makes a final sigma `ς`, which a pattern piece cut out of the same
/// text would lower as `σ`).
pub fn lower(s: &str) -> String {
    if s.is_ascii() { s.to_ascii_lowercase() } else { s.chars().flat_map(char::to_lowercase).collect() }
}

impl StrMatch {
    /// Compiles a Sigma string.
    pub fn new(s: &SigmaString, cased: bool) -> StrMatch {
        let s = if cased { s.clone() } else { s.map_literals(lower) };
        let p = &s.pieces;
        let lit = |i: usize| match p.get(i) {
            Some(Piece::Lit(l)) => Some(l.clone()),
            _ => None,
        };
        let test = match p.as_slice() {
            [] => StrTest::Exact(String::new()),
            [Piece::Lit(l)] => StrTest::Exact(l.clone()),
            [Piece::Lit(_), Piece::Star] => StrTest::Prefix(lit(0).unwrap_or_default()),
            [Piece::Star, Piece::Lit(_)] => StrTest::Suffix(lit(1).unwrap_or_default()),
            [Piece::Star, Piece::Lit(l), Piece::Star] => {
                StrTest::Contains(Box::new(memmem::Finder::new(l.as_bytes()).into_owned()))
            }
            _ => {
                let mut toks = Vec::new();
                for piece in p {
                    match piece {
                        Piece::Lit(l) => toks.extend(l.bytes().map(GlobTok::Byte)),
                        Piece::Star => toks.push(GlobTok::Star),
                        Piece::One => toks.push(GlobTok::One),
                    }
                }
                StrTest::Glob(toks)
            }
        };
        StrMatch { test, cased }
    }

    /// Tests a value: `original` for cased tests, `lowered` (see [`lower`]) for the others.
    pub fn is_match(&self, original: &str, lowered: &str) -> bool {
        let v = if self.cased { original } else { lowered };
        match &self.test {
            StrTest::Exact(p) => v == p,
            StrTest::Prefix(p) => v.starts_with(p.as_str()),
            StrTest::Suffix(p) => v.ends_with(p.as_str()),
            StrTest::Contains(f) => f.find(v.as_bytes()).is_some(),
            StrTest::Glob(toks) => glob_bytes(toks, v.as_bytes()),
        }
    }
}

/// Length of the UTF-8 character starting with byte `b` (1 for a stray continuation byte).
fn char_len(b: u8) -> usize {
    match b {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

/// Wildcard match with one backtrack point (the last `*`), linear in practice.
pub fn glob_bytes(p: &[GlobTok], s: &[u8]) -> bool {
    let (mut pi, mut si) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        match p.get(pi) {
            Some(GlobTok::Byte(b)) if *b == s[si] => {
                pi += 1;
                si += 1;
                continue;
            }
            Some(GlobTok::One) => {
                pi += 1;
                si = (si + char_len(s[si])).min(s.len());
                continue;
            }
            Some(GlobTok::Star) => {
                star = Some((pi, si));
                pi += 1;
                continue;
            }
            _ => {}
        }
        match star {
            Some((sp, ss)) => {
                let next = (ss + char_len(s[ss])).min(s.len());
                star = Some((sp, next));
                pi = sp + 1;
                si = next;
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|t| *t == GlobTok::Star)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, value: &str) -> bool {
        let sm = StrMatch::new(&SigmaString::parse(pattern), false);
        sm.is_match(value, &lower(value))
    }

    #[test]
    fn escapes_follow_the_specification() {
        assert_eq!(SigmaString::parse("C:\\Windows\\").as_plain().as_deref(), Some("C:\\Windows\\"));
        assert_eq!(SigmaString::parse("a\\*b").as_plain().as_deref(), Some("a*b"));
        assert_eq!(SigmaString::parse("a\\\\*").pieces, vec![Piece::Lit("a\\".into()), Piece::Star]);
        assert_eq!(SigmaString::parse("a\\?").as_plain().as_deref(), Some("a?"));
        assert!(SigmaString::parse("a*b").has_wildcards());
    }

    #[test]
    fn wildcards_and_case() {
        assert!(m("C:\\\\*\\cmd.ex?", "c:\\windows\\system32\\CMD.EXE"));
        assert!(!m("C:\\\\*\\cmd.ex?", "c:\\windows\\cmd.exe2"));
        assert!(m("*whoami*", "x WHOAMI y"));
        assert!(m("abc*", "ABCdef"));
        assert!(m("*.exe", "a.EXE"));
        assert!(m("a?c", "aéc"));
        assert!(!m("a?c", "ac"));
        assert!(m("*a*b*c*", "xxaxxbxxc"));
        assert!(!m("*a*b*c*", "xxaxxcxxb"));
        assert!(m("ÄBC", "äbc"));
        assert!(m("ΑΣ*", "ΑΣΒ"), "a final sigma in a pattern piece lowers as in the value");
        assert!(m("", ""));
        assert!(!m("", "x"));
        let cased = StrMatch::new(&SigmaString::parse("*WhoAmI*"), true);
        assert!(cased.is_match("x WhoAmI", "x whoami"));
        assert!(!cased.is_match("x whoami", "x whoami"));
    }

    #[test]
    fn needles_are_the_longest_literal() {
        assert_eq!(SigmaString::parse("*\\cmd.exe").needle(false).as_deref(), Some("\\cmd.exe"));
        assert_eq!(SigmaString::parse("ab*Longer").needle(false).as_deref(), Some("longer"));
        assert_eq!(SigmaString::parse("ab*Longer").needle(true).as_deref(), Some("Longer"));
        assert_eq!(SigmaString::parse("*").needle(false), None);
        assert_eq!(SigmaString::parse("ÉÉ").needle(false).as_deref(), Some("éé"));
    }
}
