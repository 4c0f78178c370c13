//! Normalizing indicator values as feeds write them: refanging (`[.]`, `(.)`, `[:]`, `hxxp`,
//! `[at]`, ...), lowercase hashes and domains, canonical IPs and ranges, and translating Loki's
//! Python regexes into what Rust's `regex` takes (or marking them for `fancy-regex`).

use crate::indicator::{Indicator, IndicatorKind};
use std::net::IpAddr;

/// Undoes the usual defanging of network indicators. Case-insensitive; `hxxp` only as a scheme.
pub fn refang(s: &str) -> String {
    const DOTS: [&str; 6] = ["[.]", "(.)", "{.}", "[dot]", "(dot)", "{dot}"];
    const REST: [(&str, &str); 5] = [("[://]", "://"), ("[:]", ":"), ("[@]", "@"), ("[at]", "@"), ("(at)", "@")];
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    'outer: while !rest.is_empty() {
        for d in DOTS {
            if starts_ci(rest, d) {
                out.push('.');
                rest = &rest[d.len()..];
                continue 'outer;
            }
        }
        for (from, to) in REST {
            if starts_ci(rest, from) {
                out.push_str(to);
                rest = &rest[from.len()..];
                continue 'outer;
            }
        }
        let at_word_start = out.chars().next_back().is_none_or(|c| !c.is_ascii_alphanumeric());
        if at_word_start && starts_ci(rest, "hxxp") {
            let tail = &rest[4..];
            if starts_ci(tail, "s:") || starts_ci(tail, "s[:]") || tail.starts_with(':') || tail.starts_with('[') {
                out.push_str("http");
                rest = tail;
                continue;
            }
        }
        let c = rest.chars().next().unwrap_or('\0');
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

fn starts_ci(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len() && s.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

/// Normalizes `raw` as a value of `kind`. A network value that evidently is of another network
/// kind (an IP in a domain column, a range in an IP column) is returned with that kind.
pub fn value(kind: IndicatorKind, raw: &str) -> Result<(IndicatorKind, String), String> {
    use IndicatorKind as K;
    let t = raw.trim();
    if t.is_empty() {
        return Err("empty value".into());
    }
    match kind {
        K::Md5 | K::Sha1 | K::Sha256 => {
            let (k, v) = hash(t)?;
            if k != kind {
                return Err(format!("{} expected, but {} has {} hex digits", kind.label(), t, t.len()));
            }
            Ok((k, v))
        }
        K::Ip | K::Cidr | K::Domain | K::Url => network(t, kind),
        K::UserAgent => Ok((kind, t.to_string())),
        K::FilePath => {
            let p = t.replace('/', "\\");
            if !p.contains('\\') {
                return Err(format!("{t:?} is not a path (no folder)"));
            }
            Ok((kind, p))
        }
        K::FileName => {
            if t.contains(['\\', '/']) {
                return Err(format!("{t:?} is a path, not a file name"));
            }
            Ok((kind, t.to_string()))
        }
        // Loki strips only trailing blanks from a regex.
        K::FileNameRegex | K::EventRegex => Ok((kind, raw.trim_end().to_string())),
        K::YaraRule => {
            if !t.contains("rule") {
                return Err("no `rule` in the YARA text".into());
            }
            Ok((kind, t.to_string()))
        }
    }
}

/// A hex digest: its kind by length, lowercase.
pub fn hash(raw: &str) -> Result<(IndicatorKind, String), String> {
    let t = raw.trim();
    if !t.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("{t:?} is not hexadecimal"));
    }
    match IndicatorKind::hash_by_len(t.len()) {
        Some(k) => Ok((k, t.to_ascii_lowercase())),
        None => Err(format!("{} hex digits: not an MD5 (32), SHA-1 (40) or SHA-256 (64)", t.len())),
    }
}

/// Classifies and normalizes a network value (refanged): IP, range, URL or domain. `hint` is the
/// kind the feed says; it decides only between equally possible readings.
pub fn network(raw: &str, hint: IndicatorKind) -> Result<(IndicatorKind, String), String> {
    let s = refang(raw.trim());
    let s = s.trim().trim_matches('`').trim();
    if s.is_empty() {
        return Err("empty value".into());
    }
    if let Some(ip) = ip(s) {
        return Ok((IndicatorKind::Ip, ip.to_string()));
    }
    if let Some((net, len)) = s.split_once('/')
        && let Some(addr) = ip(net)
    {
        return cidr(addr, len).map_err(|e| format!("{s:?}: {e}"));
    }
    if s.contains("://") || hint == IndicatorKind::Url && s.contains('/') {
        return url(s).map(|u| (IndicatorKind::Url, u));
    }
    domain(s).map(|d| (IndicatorKind::Domain, d))
}

/// An IP address, also in brackets, IPv4-mapped IPv6 as IPv4.
pub fn ip(s: &str) -> Option<IpAddr> {
    let s = s.strip_prefix('[').and_then(|x| x.strip_suffix(']')).unwrap_or(s);
    let ip: IpAddr = s.parse().ok()?;
    Some(canonical_ip(ip))
}

/// IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`) as IPv4.
pub fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn cidr(addr: IpAddr, len: &str) -> Result<(IndicatorKind, String), String> {
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let n: u32 = len.trim().parse().map_err(|_| format!("prefix length {len:?} is not a number"))?;
    if n > max {
        return Err(format!("prefix length {n} is longer than {max}"));
    }
    if n == max {
        return Ok((IndicatorKind::Ip, addr.to_string()));
    }
    let net = mask(addr, n);
    Ok((IndicatorKind::Cidr, format!("{net}/{n}")))
}

/// `addr` with the host bits below a prefix of `len` bits cleared.
pub fn mask(addr: IpAddr, len: u32) -> IpAddr {
    match addr {
        IpAddr::V4(v4) => {
            let m = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            IpAddr::V4((u32::from(v4) & m).into())
        }
        IpAddr::V6(v6) => {
            let m = if len == 0 { 0 } else { u128::MAX << (128 - len) };
            IpAddr::V6((u128::from(v6) & m).into())
        }
    }
}

/// A domain: lowercase, no trailing dot, no `*.` wildcard, labels of letters, digits, `-`, `_`
/// (or non-ASCII letters: IDNs as written).
pub fn domain(raw: &str) -> Result<String, String> {
    let mut d = raw.trim().to_lowercase();
    while d.ends_with('.') {
        d.pop();
    }
    if let Some(rest) = d.strip_prefix("*.") {
        d = rest.to_string();
    }
    if d.len() > 253 {
        return Err(format!("{} characters: too long for a domain", d.len()));
    }
    if !d.contains('.') {
        return Err(format!("{raw:?} is not a domain (no dot)"));
    }
    for label in d.split('.') {
        if label.is_empty() || label.len() > 63 {
            return Err(format!("{raw:?} is not a domain (empty or over-long label)"));
        }
        if let Some(c) = label.chars().find(|c| !(c.is_alphanumeric() || *c == '-' || *c == '_')) {
            return Err(format!("{raw:?} is not a domain (character {c:?})"));
        }
    }
    Ok(d)
}

/// A URL: scheme and host lowercase, the rest as written.
pub fn url(raw: &str) -> Result<String, String> {
    let (scheme, rest) = match raw.split_once("://") {
        Some((s, r)) => (Some(s.to_ascii_lowercase()), r),
        None => (None, raw),
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (host, path) = rest.split_at(end);
    if host.is_empty() {
        return Err(format!("{raw:?} has no host"));
    }
    let host = host.to_lowercase();
    Ok(match scheme {
        Some(s) => format!("{s}://{host}{path}"),
        None => format!("{host}{path}"),
    })
}

/// The host of a normalized URL (without port or user info).
pub fn url_host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let host = &rest[..end];
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    if host.starts_with('[') {
        return host.split_once(']').map_or(host, |(h, _)| h.trim_start_matches('['));
    }
    host.split_once(':').map_or(host, |(h, _)| h)
}

/// A regex in the Rust form exsweep runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Translated {
    pub pattern: String,
    /// Needs the backtracking engine (look-around, back-references).
    pub fancy: bool,
}

/// Translates a Python (`re`) regex: `\Z` → `\z`, `{,n}` → `{0,n}`, a `{` that does not start a
/// quantifier → `\{` (Python reads it as a literal). What Rust's `regex` still refuses is tried
/// with `fancy-regex`; the error names both engines' reasons.
pub fn python_regex(p: &str) -> Result<Translated, String> {
    let t = translate_python(p);
    match regex_syntax::ParserBuilder::new().build().parse(&t) {
        Ok(_) => Ok(Translated { pattern: t, fancy: false }),
        Err(e) => match fancy_regex::Regex::new(&t) {
            Ok(_) => Ok(Translated { pattern: t, fancy: true }),
            Err(e2) => {
                let first = e.to_string().lines().last().unwrap_or_default().trim().to_string();
                Err(format!("regex not supported: {first} (backtracking engine: {e2})"))
            }
        },
    }
}

fn translate_python(p: &str) -> String {
    let b = p.as_bytes();
    let mut out = String::with_capacity(p.len() + 4);
    let mut i = 0;
    let mut in_class = false;
    while i < b.len() {
        let c = b[i];
        if c == b'\\' && i + 1 < b.len() {
            if b[i + 1] == b'Z' && !in_class {
                out.push_str("\\z");
            } else if b[i + 1] == b'<' || b[i + 1] == b'>' {
                // Python reads `\<` as `<`; Rust as a word boundary.
                out.push(b[i + 1] as char);
            } else {
                let ch = p[i + 1..].chars().next().unwrap_or('\\');
                out.push('\\');
                out.push(ch);
                i += 1 + ch.len_utf8();
                continue;
            }
            i += 2;
            continue;
        }
        if in_class {
            if c == b']' {
                in_class = false;
            }
        } else if c == b'[' {
            in_class = true;
            out.push('[');
            i += 1;
            // `[]...]` and `[^]...]`: a leading `]` is a literal in both engines.
            if b.get(i) == Some(&b'^') {
                out.push('^');
                i += 1;
            }
            if b.get(i) == Some(&b']') {
                out.push(']');
                i += 1;
            }
            continue;
        } else if c == b'{' {
            match quantifier_end(&b[i..]) {
                Some((len, lower_missing)) => {
                    out.push('{');
                    if lower_missing {
                        out.push('0');
                    }
                    out.push_str(&p[i + 1..i + len]);
                    i += len;
                    continue;
                }
                None => {
                    out.push_str("\\{");
                    i += 1;
                    continue;
                }
            }
        }
        let ch = p[i..].chars().next().unwrap_or('\0');
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

/// For `{m}`, `{m,}`, `{m,n}`, `{,n}` at the start of `b`: its length and whether the lower bound
/// is missing. `None` when Python would read the brace as a literal.
fn quantifier_end(b: &[u8]) -> Option<(usize, bool)> {
    let close = b.iter().position(|&c| c == b'}')?;
    let inner = &b[1..close];
    let (lo, hi) = match inner.iter().position(|&c| c == b',') {
        Some(k) => (&inner[..k], Some(&inner[k + 1..])),
        None => (inner, None),
    };
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    if !digits(lo) || !hi.is_none_or(digits) || (lo.is_empty() && hi.is_none_or(<[u8]>::is_empty)) {
        return None;
    }
    Some((close + 1, lo.is_empty()))
}

/// Checks (and translates) the regexes of a regex indicator, recording the Rust forms in
/// `attrs` (`regex`, `false_positive_regex`, `fancy`) when they differ from the feed's text.
pub fn prepare_regexes(ind: &mut Indicator) -> Result<(), String> {
    if !matches!(ind.kind, IndicatorKind::FileNameRegex | IndicatorKind::EventRegex) {
        return Ok(());
    }
    let main = python_regex(&ind.value)?;
    if main.pattern != ind.value {
        ind.attrs.insert("regex".into(), main.pattern.clone());
    }
    let mut fancy = main.fancy;
    if let Some(fp) = ind.false_positive.clone() {
        let t = python_regex(&fp).map_err(|e| format!("false-positive regex: {e}"))?;
        if t.pattern != fp {
            ind.attrs.insert("false_positive_regex".into(), t.pattern);
        }
        fancy |= t.fancy;
    }
    if fancy {
        ind.attrs.insert("fancy".into(), "needs look-around or back-references (fancy-regex)".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use IndicatorKind as K;

    #[test]
    fn refangs_the_usual_forms() {
        assert_eq!(refang("34.90.207[.]23"), "34.90.207.23");
        assert_eq!(refang("yolkish(.)com"), "yolkish.com");
        assert_eq!(refang("hxxps[:]//evil[.]com/a"), "https://evil.com/a");
        assert_eq!(refang("hXXp://x[DOT]org"), "http://x.org");
        assert_eq!(refang("admin[at]evil.com"), "admin@evil.com");
        assert_eq!(refang("1.2.3[.]4[:]443"), "1.2.3.4:443");
        // `hxxp` only as a scheme.
        assert_eq!(refang("/pathhxxp:/"), "/pathhxxp:/");
    }

    #[test]
    fn values_normalize() {
        assert_eq!(
            value(K::Sha1, " 30DD3076EC9ABB13C15053234C436406B88FB2B9 ").unwrap().1,
            "30dd3076ec9abb13c15053234c436406b88fb2b9"
        );
        assert!(value(K::Sha256, "30dd3076ec9abb13c15053234c436406b88fb2b9").is_err());
        assert_eq!(hash("d41d8cd98f00b204e9800998ecf8427e").unwrap().0, K::Md5);
        assert!(hash("xyz").is_err());
        assert_eq!(value(K::Domain, "www.averyspace[.]net.").unwrap(), (K::Domain, "www.averyspace.net".into()));
        assert_eq!(value(K::Domain, "Brian.KrebsOnSecurity.TOP").unwrap().1, "brian.krebsonsecurity.top");
        assert_eq!(value(K::Domain, "34.90.207[.]23").unwrap(), (K::Ip, "34.90.207.23".into()));
        assert_eq!(value(K::Ip, "::ffff:5.2.69.14").unwrap(), (K::Ip, "5.2.69.14".into()));
        assert_eq!(value(K::Ip, "10.1.2.3/8").unwrap(), (K::Cidr, "10.0.0.0/8".into()));
        assert_eq!(value(K::Cidr, "1.2.3.4/32").unwrap(), (K::Ip, "1.2.3.4".into()));
        assert!(value(K::Cidr, "1.2.3.4/33").is_err());
        assert_eq!(
            value(K::Url, "hxxp://EVIL.com/Shell.aspx?a=B").unwrap(),
            (K::Url, "http://evil.com/Shell.aspx?a=B".into())
        );
        assert!(value(K::Domain, "not a domain").is_err());
        assert!(value(K::Domain, "localhost").is_err());
        assert_eq!(value(K::FilePath, "C:/inetpub/x.aspx").unwrap().1, r"C:\inetpub\x.aspx");
        assert!(value(K::FileName, r"a\b.aspx").is_err());
        assert_eq!(url_host("https://user@Evil.com:8443/x"), "Evil.com");
        assert_eq!(url_host("evil.com"), "evil.com");
    }

    #[test]
    fn python_regexes_translate() {
        assert_eq!(python_regex(r"\\x\.aspx\Z").unwrap().pattern, r"\\x\.aspx\z");
        assert_eq!(python_regex(r"a{,3}b").unwrap().pattern, r"a{0,3}b");
        assert_eq!(python_regex(r"a{2,}b{3}").unwrap().pattern, r"a{2,}b{3}");
        assert_eq!(python_regex(r"\\{foo}\.txt").unwrap().pattern, r"\\\{foo}\.txt");
        assert_eq!(python_regex(r"[{,]x").unwrap().pattern, r"[{,]x");
        assert_eq!(python_regex(r"\<script\>").unwrap().pattern, r"<script>");
        let t = python_regex(r"\\(?!Windows)[a-z]+\.exe").unwrap();
        assert!(t.fancy);
        let e = python_regex(r"(unclosed").unwrap_err();
        assert!(e.contains("regex not supported"), "{e}");
    }
}
