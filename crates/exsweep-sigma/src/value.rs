//! Detection items: a field name with its value modifiers and values, compiled into tests. Every
//! modifier of the Sigma specification v2.1 is read here (see `docs/SIGMA.md`); an unknown one, or
//! a combination that cannot be evaluated, is an error with the reason, so the rule is listed as
//! unsupported instead of silently matching something else.
//!
//! Each test also says which ASCII literal a matching value must contain (its *needle*), when
//! there is one: the engine's prefilter only evaluates a rule on events holding one of its needles.

use crate::pattern::{Piece, SigmaString, StrMatch, lower};
use base64::Engine as _;
use std::collections::BTreeMap;
use std::net::IpAddr;
use yaml_rust2::Yaml;

/// Values for `%name%` placeholders of the `expand` modifier.
pub type Placeholders = BTreeMap<String, Vec<String>>;

/// Reads placeholder values from YAML: a map from each placeholder name (without `%`) to a value
/// or a list of values, e.g. `Admins_Workstations: [ADM-PC1, ADM-PC2]`.
pub fn placeholders_from_yaml(text: &str) -> Result<Placeholders, String> {
    let docs = yaml_rust2::YamlLoader::load_from_str(text)
        .map_err(|e| format!("not valid YAML: {} at line {}", e.info(), e.marker().line()))?;
    let mut out = Placeholders::new();
    let Some(Yaml::Hash(h)) = docs.first() else {
        return Err("placeholders must be a map of names to values".into());
    };
    for (k, v) in h {
        let name = scalar_text(k).ok_or("a placeholder name is not a string")?;
        let values: Vec<String> = match v {
            Yaml::Array(a) => {
                a.iter().map(scalar_text).collect::<Option<_>>().ok_or(format!("{name}: values must be strings"))?
            }
            v => vec![scalar_text(v).ok_or(format!("{name}: values must be strings"))?],
        };
        out.insert(name.trim_matches('%').to_string(), values);
    }
    Ok(out)
}

/// Numeric comparisons (`gt`, `gte`, `lt`, `lte`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Gt,
    Gte,
    Lt,
    Lte,
}

impl CmpOp {
    pub fn holds(self, a: f64, b: f64) -> bool {
        self.holds_ordering(a.partial_cmp(&b))
    }

    fn holds_ordering(self, o: Option<std::cmp::Ordering>) -> bool {
        use std::cmp::Ordering::*;
        matches!(
            (self, o),
            (CmpOp::Gt, Some(Greater))
                | (CmpOp::Gte, Some(Greater | Equal))
                | (CmpOp::Lt, Some(Less))
                | (CmpOp::Lte, Some(Less | Equal))
        )
    }
}

/// A number of a rule or an event: whole numbers are compared exactly (an `f64` would call
/// 9007199254740993 and 9007199254740992 equal), others as floating point.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Num {
    pub float: f64,
    pub int: Option<i128>,
}

impl Num {
    pub fn of_int(i: i128) -> Num {
        Num { float: i as f64, int: Some(i) }
    }

    fn compare(&self, other: &Num) -> Option<std::cmp::Ordering> {
        match (self.int, other.int) {
            (Some(a), Some(b)) => Some(a.cmp(&b)),
            _ => self.float.partial_cmp(&other.float),
        }
    }
}

/// Parts of a date that the time modifiers extract.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimePart {
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
}

/// A regular expression: Rust's `regex`, or `fancy-regex` for look-around and back-references
/// (the documented fallback; `regex` guarantees linear time, `fancy-regex` backtracks).
#[derive(Clone, Debug)]
pub enum Rx {
    Linear(regex::Regex),
    Backtracking(fancy_regex::Regex),
}

impl Rx {
    fn is_match(&self, s: &str) -> bool {
        match self {
            Rx::Linear(r) => r.is_match(s),
            // A backtracking limit hit counts as no match.
            Rx::Backtracking(r) => r.is_match(s).unwrap_or(false),
        }
    }
}

/// An IP network of the `cidr` modifier.
#[derive(Clone, Copy, Debug)]
pub struct Cidr {
    net: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn parse(s: &str) -> Option<Cidr> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a.trim(), Some(p.trim().parse::<u8>().ok()?)),
            None => (s.trim(), None),
        };
        let net: IpAddr = addr.parse().ok()?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(Cidr { net, prefix })
    }

    pub fn contains(&self, s: &str) -> bool {
        // IPv6 addresses may carry a zone (`fe80::1%4`); IPv4-mapped IPv6 counts as IPv4.
        let s = s.trim();
        let s = s.split('%').next().unwrap_or(s);
        let Ok(ip) = s.parse::<IpAddr>() else { return false };
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        match (self.net, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = if self.prefix == 0 { 0 } else { u32::MAX << (32 - u32::from(self.prefix)) };
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = if self.prefix == 0 { 0 } else { u128::MAX << (128 - u32::from(self.prefix)) };
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// One compiled value test.
#[derive(Clone, Debug)]
pub enum ValueTest {
    Str(StrMatch),
    Regex(Box<Rx>),
    Cidr(Cidr),
    Cmp(CmpOp, Num),
    /// A number: equal as a number (decimal or `0x` hex in the event) or as text.
    NumEq(Num, String),
    Bool(bool),
    /// `null`: the field is absent or empty.
    Null,
    /// A part of a date in the field, then a test on that number.
    Time(TimePart, Box<ValueTest>),
}

/// Parses a value as a number: decimal, hexadecimal with `0x`, or floating point.
pub fn parse_number(s: &str) -> Option<Num> {
    let t = s.trim();
    if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        return u128::from_str_radix(h, 16).ok().and_then(|v| i128::try_from(v).ok()).map(Num::of_int);
    }
    if let Ok(i) = t.parse::<i128>() {
        return Some(Num::of_int(i));
    }
    t.parse::<f64>().ok().filter(|v| v.is_finite()).map(|f| Num { float: f, int: None })
}

/// (year, month, day, hour, minute) of `YYYY-MM-DD[T ]HH:MM...`.
fn date_parts(s: &str) -> Option<(i16, i8, i8, i8, i8)> {
    let b = s.trim().as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i16> { std::str::from_utf8(b.get(r)?).ok()?.parse().ok() };
    if b.len() < 16 || b[4] != b'-' || b[7] != b'-' || !(b[10] == b'T' || b[10] == b' ') || b[13] != b':' {
        return None;
    }
    Some((num(0..4)?, num(5..7)? as i8, num(8..10)? as i8, num(11..13)? as i8, num(14..16)? as i8))
}

fn time_part(part: TimePart, s: &str) -> Option<i128> {
    let (y, mo, d, h, mi) = date_parts(s)?;
    Some(i128::from(match part {
        TimePart::Minute => i16::from(mi),
        TimePart::Hour => i16::from(h),
        TimePart::Day => i16::from(d),
        TimePart::Month => i16::from(mo),
        TimePart::Year => y,
        TimePart::Week => i16::from(jiff::civil::Date::new(y, mo, d).ok()?.iso_week_date().week()),
    }))
}

impl ValueTest {
    /// Tests one present value (`lowered` is [`lower`] of `v`).
    pub fn is_match(&self, v: &str, lowered: &str) -> bool {
        match self {
            ValueTest::Str(m) => m.is_match(v, lowered),
            ValueTest::Regex(r) => r.is_match(v),
            ValueTest::Cidr(c) => c.contains(v),
            ValueTest::Cmp(op, n) => parse_number(v).is_some_and(|x| op.holds_ordering(x.compare(n))),
            ValueTest::NumEq(n, text) => {
                lowered == text || parse_number(v).is_some_and(|x| x.compare(n) == Some(std::cmp::Ordering::Equal))
            }
            ValueTest::Bool(b) => lowered == if *b { "true" } else { "false" },
            ValueTest::Null => v.is_empty(),
            ValueTest::Time(part, inner) => time_part(*part, v).is_some_and(|x| {
                let t = x.to_string();
                inner.is_match(&t, &t)
            }),
        }
    }
}

/// A value test and the needles (one of them) a matching value contains.
#[derive(Clone, Debug)]
pub struct ValueMatcher {
    pub test: ValueTest,
    pub needles: Option<Vec<String>>,
    /// Set when the test has one needle worth an automaton entry (see
    /// [`crate::needles::MIN_TEST_NEEDLE`]): the test cannot hold unless the prefilter saw it.
    pub needle_id: Option<u32>,
    /// Which value of the rule it came from: the variants of one value (`windash`,
    /// `base64offset`, `expand`) are alternatives, also under `all`.
    pub group: u32,
}

/// How a `fieldref` compares the two fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefMode {
    Equal,
    Contains,
    Prefix,
    Suffix,
}

/// What a detection item tests on its field.
#[derive(Clone, Debug)]
pub enum ItemTest {
    /// Any value test matches (every one with `all`); with `neq`, the field is present and none does.
    Values { tests: Vec<ValueMatcher>, all: bool, neq: bool },
    /// `exists: true|false`.
    Exists(bool),
    /// `fieldref`: the field compared with other fields of the same event.
    FieldRef { others: Vec<String>, mode: RefMode, cased: bool, all: bool, neq: bool },
}

/// A compiled detection item. `field` is `None` for keywords (every value of the event).
#[derive(Clone, Debug)]
pub struct Item {
    pub field: Option<String>,
    pub test: ItemTest,
}

impl Item {
    /// Needle sets each of which a matching event hits (one per value test under `all`, else
    /// one for the item).
    pub fn clauses(&self) -> Vec<Vec<String>> {
        match &self.test {
            ItemTest::Values { tests, all: true, neq: false } => group_needles(tests).into_iter().flatten().collect(),
            _ => self.needles().into_iter().collect(),
        }
    }

    /// The needles one of which every event matching this item contains.
    pub fn needles(&self) -> Option<Vec<String>> {
        match &self.test {
            ItemTest::Values { tests, all, neq: false } => {
                if *all {
                    crate::needles::best(group_needles(tests))
                } else {
                    crate::needles::union(tests.iter().map(|t| t.needles.clone()))
                }
            }
            _ => None,
        }
    }
}

/// Per value (group of variants), the union of its variants' needles.
fn group_needles(tests: &[ValueMatcher]) -> Vec<Option<Vec<String>>> {
    let mut groups: Vec<(u32, Vec<Option<Vec<String>>>)> = Vec::new();
    for t in tests {
        match groups.last_mut() {
            Some((g, v)) if *g == t.group => v.push(t.needles.clone()),
            _ => groups.push((t.group, vec![t.needles.clone()])),
        }
    }
    groups.into_iter().map(|(_, v)| crate::needles::union(v)).collect()
}

/// Modifiers as written, in order.
#[derive(Clone, Debug, Default)]
struct Mods {
    all: bool,
    cased: bool,
    neq: bool,
    exists: bool,
    fieldref: bool,
    re: bool,
    re_flags: (bool, bool, bool),
    cidr: bool,
    cmp: Option<CmpOp>,
    time: Option<TimePart>,
    /// Value transforms and wildcard wraps, in the order written.
    steps: Vec<Step>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Contains,
    StartsWith,
    EndsWith,
    Windash,
    Base64,
    Base64Offset,
    Utf16Le,
    Utf16Be,
    Utf16Bom,
    Expand,
}

fn parse_mods(names: &[&str]) -> Result<Mods, String> {
    let mut m = Mods::default();
    for &name in names {
        match name {
            "all" => m.all = true,
            "cased" => m.cased = true,
            "neq" => m.neq = true,
            "exists" => m.exists = true,
            "fieldref" => m.fieldref = true,
            "re" => m.re = true,
            "i" | "m" | "s" if m.re => match name {
                "i" => m.re_flags.0 = true,
                "m" => m.re_flags.1 = true,
                _ => m.re_flags.2 = true,
            },
            "cidr" => m.cidr = true,
            "gt" => m.cmp = Some(CmpOp::Gt),
            "gte" => m.cmp = Some(CmpOp::Gte),
            "lt" => m.cmp = Some(CmpOp::Lt),
            "lte" => m.cmp = Some(CmpOp::Lte),
            "minute" => m.time = Some(TimePart::Minute),
            "hour" => m.time = Some(TimePart::Hour),
            "day" => m.time = Some(TimePart::Day),
            "week" => m.time = Some(TimePart::Week),
            "month" => m.time = Some(TimePart::Month),
            "year" => m.time = Some(TimePart::Year),
            "contains" => m.steps.push(Step::Contains),
            "startswith" => m.steps.push(Step::StartsWith),
            "endswith" => m.steps.push(Step::EndsWith),
            "windash" => m.steps.push(Step::Windash),
            "base64" => m.steps.push(Step::Base64),
            "base64offset" => m.steps.push(Step::Base64Offset),
            "utf16le" | "wide" => m.steps.push(Step::Utf16Le),
            "utf16be" => m.steps.push(Step::Utf16Be),
            "utf16" => m.steps.push(Step::Utf16Bom),
            "expand" => m.steps.push(Step::Expand),
            "i" | "m" | "s" => return Err(format!("modifier '{name}' is a sub-modifier of 're' and must follow it")),
            other => return Err(format!("unknown modifier '{other}'")),
        }
    }
    let kinds = [m.exists, m.fieldref, m.re, m.cidr, m.cmp.is_some() && m.time.is_none(), m.time.is_some()]
        .iter()
        .filter(|&&b| b)
        .count();
    if kinds > 1 {
        return Err(format!("modifiers '{}' cannot be combined", names.join("|")));
    }
    if (m.re || m.cidr || m.exists || m.cmp.is_some() || m.time.is_some()) && !m.steps.is_empty() {
        return Err(format!("modifiers '{}' cannot be combined", names.join("|")));
    }
    Ok(m)
}

/// A value while modifiers transform it.
#[derive(Clone, Debug)]
enum Val {
    Str(SigmaString),
    Bytes(Vec<u8>),
}

const MAX_VARIANTS: usize = 4096;

/// Tests one detection item may compile into, variants included.
const MAX_TESTS_PER_ITEM: usize = 20_000;

fn plain_bytes(v: &Val, what: &str) -> Result<Vec<u8>, String> {
    match v {
        Val::Bytes(b) => Ok(b.clone()),
        Val::Str(s) => {
            s.as_plain().map(String::into_bytes).ok_or_else(|| format!("'{what}' cannot encode a value with wildcards"))
        }
    }
}

fn as_str(v: Val, what: &str) -> Result<SigmaString, String> {
    match v {
        Val::Str(s) => Ok(s),
        Val::Bytes(_) => Err(format!("'{what}' after a UTF-16 encoding needs 'base64' or 'base64offset' first")),
    }
}

fn utf16(s: &[u8], be: bool, bom: bool, what: &str) -> Result<Vec<u8>, String> {
    let text = std::str::from_utf8(s).map_err(|_| format!("'{what}' needs text"))?;
    let mut out = Vec::new();
    if bom {
        out.extend_from_slice(&[0xFF, 0xFE]);
    }
    for u in text.encode_utf16() {
        out.extend_from_slice(&if be { u.to_be_bytes() } else { u.to_le_bytes() });
    }
    Ok(out)
}

/// The three shifted encodings of `base64offset` (pySigma's): a value at byte offset 0, 1 or 2 of
/// an encoded string, without the leading and trailing characters that depend on its neighbours.
fn base64_offsets(b: &[u8]) -> Vec<String> {
    const START: [usize; 3] = [0, 2, 3];
    const END_TRIM: [usize; 3] = [0, 3, 2];
    (0..3)
        .map(|i| {
            let mut shifted = vec![b' '; i];
            shifted.extend_from_slice(b);
            let enc = base64::engine::general_purpose::STANDARD.encode(&shifted);
            let trim = END_TRIM[(b.len() + i) % 3];
            enc.get(START[i]..enc.len().saturating_sub(trim)).unwrap_or("").to_string()
        })
        .collect()
}

/// `windash`: every `-` or `/` that starts a word (not preceded by a word character, followed by
/// one) in each of `-`, `/`, en dash, em dash and horizontal bar.
fn windash(s: &SigmaString) -> Result<Vec<SigmaString>, String> {
    const DASHES: [char; 5] = ['-', '/', '–', '—', '―'];
    // Flatten to (char or wildcard) to look at neighbours across pieces.
    #[derive(Clone, PartialEq)]
    enum C {
        Ch(char),
        W(Piece),
    }
    let mut flat: Vec<C> = Vec::new();
    for p in &s.pieces {
        match p {
            Piece::Lit(l) => flat.extend(l.chars().map(C::Ch)),
            w => flat.push(C::W(w.clone())),
        }
    }
    let word = |c: Option<&C>| matches!(c, Some(C::Ch(ch)) if ch.is_alphanumeric() || *ch == '_');
    let spots: Vec<usize> = (0..flat.len())
        .filter(|&i| {
            matches!(flat[i], C::Ch('-') | C::Ch('/'))
                && !word(i.checked_sub(1).and_then(|j| flat.get(j)))
                && word(flat.get(i + 1))
        })
        .collect();
    let count = DASHES.len().checked_pow(spots.len() as u32).filter(|&n| n <= MAX_VARIANTS);
    let Some(count) = count else {
        return Err(format!("'windash' gives more than {MAX_VARIANTS} variants"));
    };
    let mut out = Vec::with_capacity(count);
    for n in 0..count {
        let mut v = flat.clone();
        let mut k = n;
        for &i in &spots {
            v[i] = C::Ch(DASHES[k % DASHES.len()]);
            k /= DASHES.len();
        }
        let mut pieces: Vec<Piece> = Vec::new();
        for c in v {
            match (c, pieces.last_mut()) {
                (C::Ch(ch), Some(Piece::Lit(l))) => l.push(ch),
                (C::Ch(ch), _) => pieces.push(Piece::Lit(ch.to_string())),
                (C::W(w), _) => pieces.push(w),
            }
        }
        out.push(SigmaString { pieces });
    }
    Ok(out)
}

/// `expand`: each `%name%` replaced by each of its configured values.
fn expand(s: &SigmaString, placeholders: &Placeholders) -> Result<Vec<SigmaString>, String> {
    let mut outs: Vec<Vec<Piece>> = vec![Vec::new()];
    for p in &s.pieces {
        let Piece::Lit(l) = p else {
            outs.iter_mut().for_each(|o| o.push(p.clone()));
            continue;
        };
        let mut rest = l.as_str();
        while let Some(start) = rest.find('%') {
            let Some(len) = rest[start + 1..].find('%') else { break };
            let name = &rest[start + 1..start + 1 + len];
            let before = &rest[..start];
            let values = placeholders.get(name).ok_or_else(|| {
                format!("placeholder %{name}% has no value (give one with --sigma-placeholders FILE)")
            })?;
            let mut next = Vec::new();
            for o in &outs {
                for v in values {
                    let mut o = o.clone();
                    o.push(Piece::Lit(before.to_string()));
                    o.extend(SigmaString::parse(v).pieces);
                    next.push(o);
                }
            }
            if next.len() > MAX_VARIANTS {
                return Err(format!("'expand' gives more than {MAX_VARIANTS} variants"));
            }
            outs = next;
            rest = &rest[start + len + 2..];
        }
        outs.iter_mut().for_each(|o| o.push(Piece::Lit(rest.to_string())));
    }
    Ok(outs.into_iter().map(|pieces| SigmaString { pieces }.map_literals(|l| l.to_string())).collect())
}

/// A YAML scalar as the text a rule means by it.
pub fn scalar_text(y: &Yaml) -> Option<String> {
    match y {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Compiles a regular expression with the `re` flags (`i`, `m`, `s`).
fn compile_regex(pat: &str, (i, m, s): (bool, bool, bool)) -> Result<(Rx, Option<Vec<String>>), String> {
    let linear = regex::RegexBuilder::new(pat)
        .case_insensitive(i)
        .multi_line(m)
        .dot_matches_new_line(s)
        .size_limit(8 << 20)
        .build();
    match linear {
        Ok(r) => {
            let needles = regex_syntax::ParserBuilder::new()
                .case_insensitive(i)
                .multi_line(m)
                .dot_matches_new_line(s)
                .build()
                .parse(pat)
                .ok()
                .and_then(|h| crate::needles::of_hir(&h));
            Ok((Rx::Linear(r), needles))
        }
        Err(e) => {
            let flags: String = [(i, 'i'), (m, 'm'), (s, 's')].iter().filter(|(on, _)| *on).map(|(_, c)| *c).collect();
            let wrapped = if flags.is_empty() { pat.to_string() } else { format!("(?{flags}){pat}") };
            match fancy_regex::RegexBuilder::new(&wrapped).backtrack_limit(100_000).build() {
                Ok(r) => Ok((Rx::Backtracking(r), None)),
                Err(fe) => Err(format!("regular expression does not compile: {} / {fe}", first_line(&e.to_string()))),
            }
        }
    }
}

fn first_line(s: &str) -> String {
    s.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or(s).trim().to_string()
}

/// Compiles one detection item: `key` is the field name with its modifiers (`Image|endswith`),
/// `value` a scalar, a list of scalars, or null.
pub fn compile_item(key: &str, value: &Yaml, placeholders: &Placeholders) -> Result<Item, String> {
    let mut parts = key.split('|');
    let field = parts.next().unwrap_or("").trim();
    let names: Vec<&str> = parts.collect();
    let mut mods = parse_mods(&names)?;
    let values: Vec<&Yaml> = match value {
        Yaml::Array(a) => a.iter().collect(),
        v => vec![v],
    };
    if values.is_empty() {
        return Err(format!("'{key}' has an empty list of values"));
    }
    if let Some(bad) = values.iter().find(|v| matches!(v, Yaml::Array(_) | Yaml::Hash(_))) {
        return Err(format!("'{key}' has a nested value: {bad:?}"));
    }
    let field = (!field.is_empty()).then(|| field.to_string());
    if mods.exists {
        return match values.as_slice() {
            [Yaml::Boolean(b)] => Ok(Item { field, test: ItemTest::Exists(*b) }),
            [Yaml::String(s)] if s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false") => {
                Ok(Item { field, test: ItemTest::Exists(s.eq_ignore_ascii_case("true")) })
            }
            _ => Err(format!("'{key}' needs one value, true or false")),
        };
    }
    if mods.fieldref {
        let others =
            values.iter().map(|v| scalar_text(v)).collect::<Option<Vec<_>>>().ok_or("fieldref needs field names")?;
        let wraps: Vec<Step> = mods.steps.clone();
        let mode = match wraps.as_slice() {
            [] => RefMode::Equal,
            [Step::Contains] => RefMode::Contains,
            [Step::StartsWith] => RefMode::Prefix,
            [Step::EndsWith] => RefMode::Suffix,
            _ => return Err(format!("modifiers '{}' cannot be combined with fieldref", names.join("|"))),
        };
        if field.is_none() {
            return Err("fieldref needs a field".into());
        }
        return Ok(Item {
            field,
            test: ItemTest::FieldRef { others, mode, cased: mods.cased, all: mods.all, neq: mods.neq },
        });
    }
    let wraps = mods.steps.iter().any(|s| matches!(s, Step::Contains | Step::StartsWith | Step::EndsWith));
    if field.is_none() && !wraps && !mods.re && !mods.cidr && mods.cmp.is_none() && mods.time.is_none() {
        // Keywords are searched as substrings of every value.
        mods.steps.push(Step::Contains);
    }
    let mut tests = Vec::new();
    for (g, v) in values.iter().enumerate() {
        compile_value(v, &mods, placeholders, g as u32, &mut tests).map_err(|e| format!("'{key}': {e}"))?;
        if tests.len() > MAX_TESTS_PER_ITEM {
            return Err(format!("'{key}': its values and their variants make more than {MAX_TESTS_PER_ITEM} tests"));
        }
    }
    if field.as_deref().is_some_and(|f| crate::event::same_name(f, "EventID")) {
        for t in &mut tests {
            if let ValueTest::NumEq(n, _) = &t.test
                && let Some(id) = n.int.and_then(|i| u32::try_from(i).ok())
            {
                t.needles = Some(vec![crate::needles::event_id_needle(id)]);
            }
        }
    }
    Ok(Item { field, test: ItemTest::Values { tests, all: mods.all, neq: mods.neq } })
}

fn compile_value(
    v: &Yaml,
    mods: &Mods,
    placeholders: &Placeholders,
    group: u32,
    out: &mut Vec<ValueMatcher>,
) -> Result<(), String> {
    if matches!(v, Yaml::Null) {
        if mods.re || mods.cidr || mods.cmp.is_some() || !mods.steps.is_empty() {
            return Err("null cannot take value modifiers".into());
        }
        out.push(ValueMatcher { test: ValueTest::Null, needles: None, needle_id: None, group });
        return Ok(());
    }
    let text = scalar_text(v).ok_or_else(|| format!("unsupported value {v:?}"))?;
    if mods.re {
        let (rx, needles) = compile_regex(&text, mods.re_flags)?;
        out.push(ValueMatcher { test: ValueTest::Regex(Box::new(rx)), needles, needle_id: None, group });
        return Ok(());
    }
    if mods.cidr {
        let c = Cidr::parse(&text).ok_or_else(|| format!("'{text}' is not a CIDR network"))?;
        out.push(ValueMatcher { test: ValueTest::Cidr(c), needles: None, needle_id: None, group });
        return Ok(());
    }
    let number = match v {
        Yaml::Integer(i) => Some(Num::of_int(i128::from(*i))),
        Yaml::Real(r) => parse_number(r),
        _ => None,
    };
    if let Some(op) = mods.cmp {
        let n = number.or_else(|| parse_number(&text)).ok_or_else(|| format!("'{text}' is not a number"))?;
        let test = ValueTest::Cmp(op, n);
        let test = match mods.time {
            Some(p) => ValueTest::Time(p, Box::new(test)),
            None => test,
        };
        out.push(ValueMatcher { test, needles: None, needle_id: None, group });
        return Ok(());
    }
    if let Some(p) = mods.time {
        let n = number.or_else(|| parse_number(&text)).ok_or_else(|| format!("'{text}' is not a number"))?;
        out.push(ValueMatcher {
            test: ValueTest::Time(p, Box::new(ValueTest::NumEq(n, text))),
            needles: None,
            needle_id: None,
            group,
        });
        return Ok(());
    }
    if mods.steps.is_empty() {
        match v {
            Yaml::Integer(_) | Yaml::Real(_) => {
                let n = number.unwrap_or(Num { float: f64::NAN, int: None });
                out.push(ValueMatcher {
                    test: ValueTest::NumEq(n, lower(&text)),
                    needles: None,
                    needle_id: None,
                    group,
                });
                return Ok(());
            }
            Yaml::Boolean(b) => {
                out.push(ValueMatcher { test: ValueTest::Bool(*b), needles: None, needle_id: None, group });
                return Ok(());
            }
            _ => {}
        }
    }
    // Strings (and numbers under string modifiers) through the transforms, in order.
    let mut vals = vec![Val::Str(match v {
        Yaml::String(s) => SigmaString::parse(s),
        _ => SigmaString::literal(&text),
    })];
    for step in &mods.steps {
        let mut next = Vec::new();
        for val in vals {
            match step {
                Step::Contains => next.push(Val::Str(as_str(val, "contains")?.star_before().star_after())),
                Step::StartsWith => next.push(Val::Str(as_str(val, "startswith")?.star_after())),
                Step::EndsWith => next.push(Val::Str(as_str(val, "endswith")?.star_before())),
                Step::Windash => next.extend(windash(&as_str(val, "windash")?)?.into_iter().map(Val::Str)),
                Step::Expand => next.extend(expand(&as_str(val, "expand")?, placeholders)?.into_iter().map(Val::Str)),
                Step::Base64 => {
                    let b = plain_bytes(&val, "base64")?;
                    next.push(Val::Str(SigmaString::literal(&base64::engine::general_purpose::STANDARD.encode(b))));
                }
                Step::Base64Offset => {
                    let b = plain_bytes(&val, "base64offset")?;
                    next.extend(base64_offsets(&b).iter().map(|s| Val::Str(SigmaString::literal(s))));
                }
                Step::Utf16Le | Step::Utf16Be | Step::Utf16Bom => {
                    let b = plain_bytes(&val, "utf16")?;
                    next.push(Val::Bytes(utf16(&b, *step == Step::Utf16Be, *step == Step::Utf16Bom, "utf16")?));
                }
            }
            if next.len() > MAX_VARIANTS {
                return Err(format!("modifiers give more than {MAX_VARIANTS} variants"));
            }
        }
        vals = next;
    }
    for val in vals {
        let s = as_str(val, "matching")?;
        let needles = s.needle(mods.cased).map(|n| vec![n]);
        out.push(ValueMatcher { test: ValueTest::Str(StrMatch::new(&s, mods.cased)), needles, needle_id: None, group });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64offset_is_pysigmas() {
        // pySigma: base64offset('http://') == ['aHR0cDovL', 'h0dHA6Ly', 'odHRwOi8v']
        assert_eq!(base64_offsets(b"http://"), vec!["aHR0cDovL", "h0dHA6Ly", "odHRwOi8v"]);
        let enc = base64::engine::general_purpose::STANDARD.encode("http://evil");
        assert!(enc.contains("aHR0cDovL"));
    }

    #[test]
    fn windash_replaces_word_initial_dashes() {
        let v = windash(&SigmaString::parse(" -enc ")).unwrap();
        let plain: Vec<String> = v.iter().filter_map(|s| s.as_plain()).collect();
        assert_eq!(plain, vec![" -enc ", " /enc ", " –enc ", " —enc ", " ―enc "]);
        // Not word-initial: unchanged.
        assert_eq!(windash(&SigmaString::parse("a-b")).unwrap().len(), 1);
    }

    #[test]
    fn cidr_v4_v6_and_mapped() {
        let c = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(c.contains("10.200.1.1"));
        assert!(c.contains("::ffff:10.1.2.3"));
        assert!(!c.contains("11.0.0.1"));
        let c6 = Cidr::parse("fe80::/10").unwrap();
        assert!(c6.contains("fe80::1%4"));
        assert!(!c6.contains("2001:db8::1"));
        assert!(Cidr::parse("10.0.0.0/33").is_none());
    }

    #[test]
    fn expand_needs_values() {
        let mut p = Placeholders::new();
        let s = SigmaString::parse("%Admins%\\x");
        assert!(expand(&s, &p).is_err());
        p.insert("Admins".into(), vec!["a".into(), "b*".into()]);
        let v = expand(&s, &p).unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].as_plain().as_deref(), Some("a\\x"));
        assert!(v[1].has_wildcards());
    }

    #[test]
    fn placeholder_files() {
        let p = placeholders_from_yaml("Admins_Workstations: [ADM1, ADM2]\n'%Servers%': SRV1\n").unwrap();
        assert_eq!(p["Admins_Workstations"], vec!["ADM1", "ADM2"]);
        assert_eq!(p["Servers"], vec!["SRV1"]);
        assert!(placeholders_from_yaml("- a\n- b\n").is_err());
    }

    #[test]
    fn numbers_match_decimal_and_hex() {
        let t = ValueTest::NumEq(Num::of_int(16), "16".into());
        assert!(t.is_match("16", "16"));
        assert!(t.is_match("0x10", "0x10"));
        assert!(!t.is_match("17", "17"));
        assert_eq!(time_part(TimePart::Hour, "2021-03-03T23:10:00.000Z"), Some(23));
        assert_eq!(time_part(TimePart::Week, "2021-03-03 10:00:00"), Some(9));
        // Whole numbers beyond f64's precision are told apart.
        let big = ValueTest::NumEq(Num::of_int(9_007_199_254_740_993), "9007199254740993".into());
        assert!(big.is_match("9007199254740993", "9007199254740993"));
        assert!(!big.is_match("9007199254740992", "9007199254740992"));
        assert!(!big.is_match("0x20000000000000", "0x20000000000000"));
    }
}
