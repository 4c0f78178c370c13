//! Case-insensitive literal prefilter for whole blocks of log text.
//!
//! Written here rather than using `AhoCorasick` directly: on 300 MB of IIS and HttpProxy text the
//! automaton ran at about 400 MB/s (1,100 MB/s for two literals), whatever the case setting,
//! while the crate's packed Teddy searcher ran the same literal sets at 3,500 MB/s. Teddy is
//! case-sensitive, so the text is searched in an ASCII-lowercased copy (made once per block by a
//! [`Finder`]), each literal through a short window of it chosen to be rare in logs, and the whole
//! literal is then checked at the candidate. Searching case variants of the windows in the
//! original text instead multiplied the patterns (a domain window has two or three letters): with
//! the IOC pack's domains and user agents the set needed several Fat Teddy searchers.
//! A set too large for one Teddy searcher (more than 64 windows) is split over several,
//! each searched only up to the best candidate so far (a few passes at Teddy speed beat the
//! automaton). Two literals may share a window, and windows sit at different offsets in their
//! literals: every literal of a window is verified, and the search goes on while a later window
//! could still belong to an earlier literal. Sets that Teddy cannot take at all fall back to the automaton, so
//! results never depend on speed paths.

use aho_corasick::{AhoCorasick, packed};
use std::net::Ipv4Addr;

/// A set of literals, matched ASCII case-insensitively.
#[derive(Clone, Debug)]
pub struct CiLiterals {
    literals: Vec<Vec<u8>>,
    imp: Imp,
    /// IPv4 addresses matched as whole address runs (see [`CiLiterals::with_ipv4`]), sorted.
    ipv4: Vec<u32>,
    /// The first octets of `ipv4`.
    first_octets: Box<[bool; 256]>,
}

#[derive(Clone, Debug)]
enum Imp {
    /// Packed search over case variants of one window per literal.
    Packed(Part),
    /// Several packed searchers over parts of the set.
    Split(Vec<Part>),
    Automaton(AhoCorasick),
    Empty,
}

/// A packed searcher over window variants. `windows[pattern id]` lists every (literal index,
/// window offset) whose window is that pattern: two literals may share a window.
#[derive(Clone, Debug)]
struct Part {
    searcher: packed::Searcher,
    windows: Vec<Vec<(usize, usize)>>,
    /// Largest window offset in the part: a literal starting before a position may have its
    /// window start up to this far past it.
    max_off: usize,
    /// Longest window in the part.
    max_len: usize,
}

/// A case variant of a literal's window, with (literal index, window offset).
type Variant = (Vec<u8>, (usize, usize));

impl Part {
    /// One searcher over the given (window variant, (literal, offset)) pairs.
    fn build(variants: Vec<Variant>) -> Option<Part> {
        let mut patterns: Vec<Vec<u8>> = Vec::new();
        let mut windows: Vec<Vec<(usize, usize)>> = Vec::new();
        let (mut max_off, mut max_len) = (0, 0);
        for (v, w) in variants {
            max_off = max_off.max(w.1);
            max_len = max_len.max(v.len());
            match patterns.iter().position(|p| *p == v) {
                Some(i) => windows[i].push(w),
                None => {
                    patterns.push(v);
                    windows.push(vec![w]);
                }
            }
        }
        let searcher = packed::Config::new().builder().extend(&patterns).build()?;
        Some(Part { searcher, windows, max_off, max_len })
    }
}

/// Window variants per packed searcher: Teddy stays in its fast forms up to about this many.
const PART_PATTERNS: usize = 64;

/// Typical benign log text. Windows are chosen to be rare in it, so that the packed search meets
/// few candidates on real logs (a window like `/1.0` would hit every user agent).
const BACKGROUND: &str = concat!(
    "2021-03-03 06:49:42 10.0.0.5 POST /owa/service.svc action=GetItem&UA=0&CorrelationID=<empty>;&cafeReqId=3c5f6f7e-1111-4222-8333-944455566677;&encoding=; 443 contoso\\alice 10.1.2.3 ",
    "Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64)+AppleWebKit/537.36+(KHTML,+like+Gecko)+Chrome/88.0.4324.190+Safari/537.36+Edg/88.0.705.81 ",
    "Mozilla/5.0+(iPhone;+CPU+iPhone+OS+14_4+like+Mac+OS+X)+AppleWebKit/605.1.15+(KHTML,+like+Gecko)+Version/14.0.3+Mobile/15E148+Safari/604.1 ",
    "Microsoft+Office/16.0+(Windows+NT+10.0;+Microsoft+Outlook+16.0.13801;+Pro) MSRPC Apple-iPhone13C2/1804.49 Android-SAMSUNG-SM-G991B/101.10 ",
    "https://mail.contoso.com/owa/ 200 0 0 15 GET /Microsoft-Server-ActiveSync/default.eas Cmd=Sync&User=bob&DeviceId=ABC123&DeviceType=iPhone ",
    "/EWS/Exchange.asmx /mapi/emsmdb/ /rpc/rpcproxy.dll /autodiscover/autodiscover.xml /OAB/7a3c1c42/oab.xml /ecp/default.aspx /owa/auth/logon.aspx ",
    "2021-03-03T06:49:42.162Z,9a1b2c3d-0000-4000-8000-000000000001,15,1,2176,2,,Owa,mail.contoso.com,/owa/service.svc,GetItem,Negotiate,true,",
    "alice@contoso.com,,Smtp~alice@contoso.com,Sid~S-1-5-21-1004336348-1177238915-682003330-1001,MailboxGuid~7a3c1c42-5f5b-4d0e-9f33-2a4b8e1d1f00,",
    "EX01,200,200,,POST,Proxy,ex01.contoso.local,15.01.2176.002,Anchor-Mailbox,Smtp,Database~7a3c1c42-5f5b-4d0e-9f33-2a4b8e1d1f00~~2021-03-04T06:00:00,",
    ",,1234,5678,1,,0,,,0,,0,,0,1,BeginRequest=2021-03-03T06:00:00.000Z;CorrelationID=<empty>;ProxyState-Run=None;FEAuth=BEVersion-1942063431;,,CafeV1 ",
    "S:TIME=3;S:SID=S-1-5-21;S:CMD=Get-Mailbox.Identity='alice';S:REQID=;S:URL=/ecp/DDI/DDIService.svc/GetList?schema=MailboxService;S:EX=;S:RS=0 ",
    "Dalvik/2.1.0+(Linux;+U;+Android+11;+SM-G991B+Build/RP1A.200720.012) Outlook-iOS/2.0 Outlook-Android/2.0 okhttp/3.12.1 ",
    "curl/7.55.1 Java/1.8.0_281 ExchangeServicesClient/15.01.2176.002 AMProbe/Local/ClientAccess MSEXCHMON/1.0 WinHttp/1.1 ",
    "Microsoft+Office/16.0+(Microsoft+Outlook+Mobile+Sync+1.0) iOS/14.4+(18D52)+dataaccessd/1.0 Mozilla/4.0+(compatible;+MSIE+7.0) ",
    "OABGenerator Information OAB generation started for the offline address book Default Offline Address Book; files written to the OAB folder",
);

/// How often the window `lit[o..o + 3]` occurs in the background text, case-insensitively, other
/// than inside an occurrence of the literal itself (those lines are wanted anyway).
fn background_hits(lit: &[u8], o: usize) -> usize {
    let bg = BACKGROUND.as_bytes();
    let w = &lit[o..(o + 3).min(lit.len())];
    if w.is_empty() || w.len() > bg.len() {
        return 0;
    }
    let is_literal_at = |p: usize| {
        p.checked_sub(o).is_some_and(|s| s + lit.len() <= bg.len() && bg[s..s + lit.len()].eq_ignore_ascii_case(lit))
    };
    bg.windows(w.len()).enumerate().filter(|&(p, x)| x.eq_ignore_ascii_case(w) && !is_literal_at(p)).count()
}

/// The window of a literal to search for: rare in typical logs. Teddy fingerprints the first
/// three bytes of each pattern and uses the shortest pattern's length, so windows are 3 bytes
/// (the literal itself when shorter), ranked by how often they occur in the background text.
/// Returns (offset, length).
fn best_window(lit: &[u8]) -> Option<(usize, usize)> {
    if lit.is_empty() {
        return None;
    }
    if lit.len() <= 3 {
        return Some((0, lit.len()));
    }
    (0..=lit.len() - 3).map(|o| (background_hits(lit, o), o)).min().map(|(_, o)| (o, 3))
}

impl CiLiterals {
    pub fn new<S: AsRef<str>>(literals: &[S]) -> CiLiterals {
        Self::with_ipv4(literals, &[])
    }

    /// The literals, plus IPv4 addresses that match where the text holds one as a whole run of
    /// digits and dots: the run starts at a digit, takes every digit and dot after it, and drops
    /// trailing dots (`x 5.254.43.18. y` holds 5.254.43.18; `15.254.43.180` does not). This is how
    /// the detectors that give such anchors read addresses in a value.
    pub fn with_ipv4<S: AsRef<str>>(literals: &[S], ipv4: &[Ipv4Addr]) -> CiLiterals {
        let mut ipv4: Vec<u32> = ipv4.iter().map(|&a| u32::from(a)).collect();
        ipv4.sort_unstable();
        ipv4.dedup();
        let mut first_octets = Box::new([false; 256]);
        for a in &ipv4 {
            first_octets[(a >> 24) as usize] = true;
        }
        let literals: Vec<Vec<u8>> =
            literals.iter().map(|s| s.as_ref().as_bytes().to_ascii_lowercase()).filter(|l| !l.is_empty()).collect();
        if literals.is_empty() {
            return CiLiterals { literals, imp: Imp::Empty, ipv4, first_octets };
        }
        let imp = Self::packed(&literals).or_else(|| Self::split(&literals)).unwrap_or_else(|| {
            AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(&literals)
                .map(Imp::Automaton)
                .unwrap_or(Imp::Empty)
        });
        CiLiterals { literals, imp, ipv4, first_octets }
    }

    /// True when the run's first number is the first octet of an anchor (most address runs in
    /// a log are not, and are dropped before being parsed).
    fn first_octet_wanted(&self, run: &[u8]) -> bool {
        let mut n = 0usize;
        for &b in run.iter().take(4) {
            if b == b'.' {
                return self.first_octets[n.min(255)];
            }
            n = n * 10 + usize::from(b - b'0');
        }
        false
    }

    /// Start of the first address run at or after `from` that holds one of the IPv4 anchors.
    fn first_ipv4(&self, hay: &[u8], from: usize, before: usize) -> Option<usize> {
        if self.ipv4.is_empty() {
            return None;
        }
        let digit_or_dot = |b: u8| b.is_ascii_digit() || b == b'.';
        let mut pos = from;
        while pos < before {
            let dot = pos + memchr::memchr(b'.', &hay[pos..before])?;
            let (mut s, mut e) = (dot, dot + 1);
            while s > 0 && digit_or_dot(hay[s - 1]) {
                s -= 1;
            }
            while e < hay.len() && digit_or_dot(hay[e]) {
                e += 1;
            }
            pos = e;
            while s < e && hay[s] == b'.' {
                s += 1;
            }
            if s < from || s >= before {
                continue;
            }
            let mut end = e;
            while end > s && hay[end - 1] == b'.' {
                end -= 1;
            }
            let run = &hay[s..end];
            if (7..=15).contains(&run.len())
                && self.first_octet_wanted(run)
                && bytecount::count(run, b'.') == 3
                && let Ok(text) = std::str::from_utf8(run)
                && let Ok(addr) = text.parse::<Ipv4Addr>()
                && self.ipv4.binary_search(&u32::from(addr)).is_ok()
            {
                return Some(s);
            }
        }
        None
    }

    /// The (lowercase) window of each literal: (pattern, (literal index, window offset)).
    fn variants(literals: &[Vec<u8>]) -> Option<Vec<Vec<Variant>>> {
        let mut out = Vec::new();
        for (li, lit) in literals.iter().enumerate() {
            let (best, w) = best_window(lit)?;
            out.push(vec![(lit[best..best + w].to_vec(), (li, best))]);
        }
        Some(out)
    }

    fn packed(literals: &[Vec<u8>]) -> Option<Imp> {
        Part::build(Self::variants(literals)?.into_iter().flatten().collect()).map(Imp::Packed)
    }

    /// Literals in parts of at most [`PART_PATTERNS`] window variants, one packed searcher each.
    fn split(literals: &[Vec<u8>]) -> Option<Imp> {
        let mut groups: Vec<Vec<Variant>> = vec![Vec::new()];
        for vs in Self::variants(literals)? {
            if groups.last().is_some_and(|g| !g.is_empty() && g.len() + vs.len() > PART_PATTERNS) {
                groups.push(Vec::new());
            }
            groups.last_mut()?.extend(vs);
        }
        groups.into_iter().map(Part::build).collect::<Option<Vec<Part>>>().map(Imp::Split)
    }

    /// The first literal start in `[from, before)` that `part` finds in `hay` (lowercased). Windows sit at different
    /// offsets in their literals, so after a verified start `s` the search goes on while a window
    /// could still belong to a literal starting before `s`.
    fn first_in_part(&self, part: &Part, hay: &[u8], from: usize, before: usize) -> Option<usize> {
        let bound = |s: usize| s.saturating_add(part.max_off + part.max_len).min(hay.len());
        let mut best: Option<usize> = None;
        let mut limit = bound(before);
        let mut at = from;
        while at < limit {
            let Some(m) = part.searcher.find_in(hay, aho_corasick::Span::from(at..limit)) else { break };
            for &(li, off) in &part.windows[m.pattern().as_usize()] {
                let lit = &self.literals[li];
                if let Some(start) = m.start().checked_sub(off)
                    && start >= from
                    && start < best.unwrap_or(before)
                    && hay.len() - start >= lit.len()
                    && hay[start..start + lit.len()] == lit[..]
                {
                    best = Some(start);
                    limit = limit.min(bound(start));
                }
            }
            at = m.start() + 1;
        }
        best
    }

    /// Start of the first literal occurrence at or after `from`, matched case-insensitively.
    pub fn find_from(&self, hay: &[u8], from: usize) -> Option<usize> {
        self.finder(hay).find_from(from)
    }

    /// A finder for successive searches over `hay` (see [`Finder`]).
    pub fn finder<'a>(&'a self, hay: &'a [u8]) -> Finder<'a> {
        let searchers = match &self.imp {
            Imp::Packed(_) | Imp::Automaton(_) => 1,
            Imp::Split(parts) => parts.len(),
            Imp::Empty => 0,
        } + usize::from(!self.ipv4.is_empty());
        let lower = LOWER.with(|l| l.borrow_mut().pop()).unwrap_or_default();
        Finder { lits: self, hay, lower, memo: vec![Memo::UNSET; searchers] }
    }

    /// True when the fast packed search is in use, in one searcher or several (false: the
    /// automaton fallback).
    pub fn is_packed(&self) -> bool {
        matches!(self.imp, Imp::Packed(_) | Imp::Split(_))
    }

    /// True when some literal occurs in `hay` (case-insensitively).
    pub fn is_match(&self, hay: &[u8]) -> bool {
        self.find_from(hay, 0).is_some()
    }
}

/// What one searcher last answered: the first start at or after `lo` is `found`, or there is
/// none in `[lo, hi)`.
#[derive(Clone, Copy, Debug)]
struct Memo {
    lo: usize,
    hi: usize,
    found: Option<usize>,
}

impl Memo {
    const UNSET: Memo = Memo { lo: usize::MAX, hi: 0, found: None };

    /// The first start in `[from, before)`, from the last answer when it tells, else from
    /// `search(from, before)` (resumed where the last search ended when that found nothing).
    fn query(
        &mut self,
        from: usize,
        before: usize,
        search: impl FnOnce(usize, usize) -> Option<usize>,
    ) -> Option<usize> {
        if from >= self.lo {
            match self.found {
                Some(x) if x >= from => return (x < before).then_some(x),
                None if before <= self.hi => return None,
                None => {
                    let r = search(from.max(self.hi), before);
                    *self = Memo { lo: from, hi: before, found: r };
                    return r;
                }
                Some(_) => {}
            }
        }
        let r = search(from, before);
        *self = Memo { lo: from, hi: before, found: r };
        r
    }
}

/// Successive searches over one text, each from at or after the last: every searcher (a packed
/// part, the automaton, the IPv4 set) keeps its last answer, so one that has nothing more in the
/// text reads it once rather than again for every candidate line another one finds.
pub struct Finder<'a> {
    lits: &'a CiLiterals,
    hay: &'a [u8],
    /// `hay` ASCII-lowercased, where the literals are searched (empty when there are none).
    lower: Vec<u8>,
    memo: Vec<Memo>,
}

thread_local! {
    /// Lowercased copies of finished finders, reused by the next.
    static LOWER: std::cell::RefCell<Vec<Vec<u8>>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl Drop for Finder<'_> {
    fn drop(&mut self) {
        let mut buf = std::mem::take(&mut self.lower);
        buf.clear();
        if buf.capacity() > 0 && buf.capacity() <= 4 << 20 {
            LOWER.with(|l| {
                let mut pool = l.borrow_mut();
                if pool.len() < 4 {
                    pool.push(buf);
                }
            });
        }
    }
}

impl Finder<'_> {
    /// Start of the first literal occurrence (or IPv4 anchor) at or after `from`.
    pub fn find_from(&mut self, from: usize) -> Option<usize> {
        let (lits, hay) = (self.lits, self.hay);
        if from >= hay.len() {
            return None;
        }
        // Made on first use: a finder of IPv4 anchors alone never needs it.
        if self.lower.len() != hay.len() && !lits.literals.is_empty() {
            self.lower.clear();
            self.lower.extend(hay.iter().map(u8::to_ascii_lowercase));
        }
        let lower = self.lower.as_slice();
        let mut best: Option<usize> = None;
        let parts: &[Part] = match &lits.imp {
            Imp::Packed(part) => std::slice::from_ref(part),
            Imp::Split(parts) => parts,
            Imp::Automaton(ac) => {
                best = self.memo[0].query(from, hay.len(), |f, b| {
                    ac.find(aho_corasick::Input::new(lower).range(f..)).map(|m| m.start()).filter(|&s| s < b)
                });
                &[]
            }
            Imp::Empty => &[],
        };
        // Each part only looks up to the best start found so far, so the parts together read the
        // text about once each, however close the candidates are.
        for (part, memo) in parts.iter().zip(self.memo.iter_mut()) {
            if let Some(s) = memo.query(from, best.unwrap_or(hay.len()), |f, b| lits.first_in_part(part, lower, f, b)) {
                best = Some(s);
            }
        }
        if !lits.ipv4.is_empty()
            && let Some(memo) = self.memo.last_mut()
            && let Some(s) = memo.query(from, best.unwrap_or(hay.len()), |f, b| lits.first_ipv4(hay, f, b))
        {
            best = Some(s);
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(lits: &[&str], hay: &[u8], from: usize) -> Option<usize> {
        (from..hay.len()).find(|&i| {
            lits.iter().any(|l| hay.len() - i >= l.len() && hay[i..i + l.len()].eq_ignore_ascii_case(l.as_bytes()))
        })
    }

    #[test]
    fn builtin_anchor_sets_use_the_packed_search() {
        for d in crate::detect::builtin() {
            if !d.anchors().is_empty() {
                let cl = CiLiterals::new(d.anchors());
                assert!(cl.is_packed(), "{:?}", d.anchors());
            }
        }
    }

    #[test]
    fn agrees_with_a_naive_search() {
        let sets: Vec<Vec<&str>> = vec![
            vec!["ServerInfo~", "Server~"],
            vec!["VirtualDirectory"],
            vec!["Download failed and temporary file"],
            vec![
                "ExchangeServicesClient/0.0.0.0",
                "python-requests/2.19.1",
                "antSword/v2.1",
                "DuckDuckBot/1.0",
                "Slurp",
                "0.2704.103",
            ],
            vec!["ab"],
            // Two literals with the same window at different offsets, and a literal whose window
            // lies deep inside it.
            vec!["rawfuns.com", "ns.rtechs.org", "krebsonsecurity.top", "ab"],
            // Too many windows for one searcher: split over several.
            vec![
                "103.77.192.219",
                "5.2.69.14",
                "yolkish.com",
                "rawfuns.com",
                "krebsonsecurity.top",
                "lab.symantecsafe.org",
                "mm.portomnail.com",
                "back.rooter.tk",
                "ns.rtechs.org",
                "soft.mssysinfo.xyz",
                "p.estonine.com",
                "www.averyspace.net",
                "www.komdsecko.net",
                "antsword/v2.1",
                "python-requests/2.25.1",
                "exchangeservicesclient/0.0.0.0",
                "http://www.google.com/bot.html",
                "http://yandex.com/bots)",
                "ServerInfo~",
                "Server~",
                "VirtualDirectory",
                "Download failed",
                "DuckDuckBot",
                "Baiduspider",
                "Slurp",
            ],
        ];
        let extra: Vec<String> = (0..70).map(|i| format!("k{i:02}j{:02}w.example.net", (i * 13) % 97)).collect();
        let mut sets = sets;
        if let Some(last) = sets.last_mut() {
            last.extend(extra.iter().map(String::as_str));
        }
        let big = CiLiterals::new(sets.last().unwrap());
        assert!(matches!(big.imp, Imp::Split(ref p) if p.len() > 1), "the large set is split");
        let alphabet = b"SsEeRrVvIiNnFfOo~/.0123 abAB-";
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for lits in &sets {
            let cl = CiLiterals::new(lits);
            for round in 0..200 {
                let mut hay = Vec::new();
                for _ in 0..(50 + round * 7) {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    if x.is_multiple_of(23) {
                        // Plant a literal in random case.
                        let l = lits[(x as usize / 23) % lits.len()];
                        hay.extend(l.bytes().enumerate().map(|(i, b)| {
                            if (x >> (i % 60)) & 1 == 1 { b.to_ascii_uppercase() } else { b.to_ascii_lowercase() }
                        }));
                    } else {
                        hay.push(alphabet[(x % alphabet.len() as u64) as usize]);
                    }
                }
                for from in [0, 3, hay.len() / 2] {
                    assert_eq!(
                        cl.find_from(&hay, from),
                        naive(lits, &hay, from),
                        "{lits:?} {:?}",
                        String::from_utf8_lossy(&hay)
                    );
                }
            }
        }
    }

    /// Random bytes over `alphabet` with the given literals planted in random case.
    fn random_text(x: &mut u64, len: usize, alphabet: &[u8], plant: &[&str]) -> Vec<u8> {
        let mut hay = Vec::new();
        for _ in 0..len {
            *x ^= *x << 13;
            *x ^= *x >> 7;
            *x ^= *x << 17;
            if !plant.is_empty() && x.is_multiple_of(23) {
                let l = plant[(*x as usize / 23) % plant.len()];
                let r = *x;
                hay.extend(l.bytes().enumerate().map(|(i, b)| {
                    if (r >> (i % 60)) & 1 == 1 { b.to_ascii_uppercase() } else { b.to_ascii_lowercase() }
                }));
            } else {
                hay.push(alphabet[(*x % alphabet.len() as u64) as usize]);
            }
        }
        hay
    }

    /// The address runs of `hay` as the IOC detector reads a value: from a digit over digits and
    /// dots, trailing dots dropped; the start of the first run at or after `from` that is one of
    /// `ips`.
    fn naive_ipv4(ips: &[Ipv4Addr], hay: &[u8], from: usize) -> Option<usize> {
        let mut i = 0;
        while i < hay.len() {
            if !hay[i].is_ascii_digit() {
                i += 1;
                continue;
            }
            let start = i;
            while i < hay.len() && (hay[i].is_ascii_digit() || hay[i] == b'.') {
                i += 1;
            }
            let run = std::str::from_utf8(&hay[start..i]).unwrap().trim_end_matches('.');
            if start >= from
                && run.bytes().filter(|&c| c == b'.').count() == 3
                && run.parse::<Ipv4Addr>().is_ok_and(|a| ips.contains(&a))
            {
                return Some(start);
            }
        }
        None
    }

    /// Successive searches through one [`Finder`] give what fresh searches give, for packed,
    /// split and automaton sets, with and without IPv4 anchors.
    #[test]
    fn a_finder_agrees_with_fresh_searches() {
        let many: Vec<String> = (0..40).map(|i| format!("lit{i}x~{}", i * 7)).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        let sets: Vec<Vec<&str>> = vec![vec!["Server~", "ab"], many, vec!["rawfuns.com", "ns.rtechs.org", "ab"]];
        let ips: Vec<Ipv4Addr> =
            ["5.254.43.18", "103.77.192.219", "1.2.3.4"].iter().map(|a| a.parse().unwrap()).collect();
        let mut x = 0x1234_5678_9ABC_DEF1u64;
        for lits in &sets {
            for with_ips in [false, true] {
                let cl = CiLiterals::with_ipv4(lits, if with_ips { &ips } else { &[] });
                let mut plant: Vec<&str> = lits.clone();
                plant.extend(["5.254.43.18", "15.254.43.18", "1.2.3.4.", "103.77.192.219"]);
                for round in 0..60 {
                    let hay = random_text(&mut x, 100 + round * 13, b"SsEeRrVv~/.0123 abAB-x,9", &plant);
                    let mut finder = cl.finder(&hay);
                    let mut from = 0;
                    while from < hay.len() {
                        let got = finder.find_from(from);
                        assert_eq!(got, cl.find_from(&hay, from), "{lits:?} from {from}");
                        let lit = naive(lits, &hay, from);
                        let ip = if with_ips { naive_ipv4(&ips, &hay, from) } else { None };
                        let want = match (lit, ip) {
                            (Some(a), Some(b)) => Some(a.min(b)),
                            (a, b) => a.or(b),
                        };
                        assert_eq!(got, want, "{lits:?} from {from} in {:?}", String::from_utf8_lossy(&hay));
                        // Like the readers: on from the line after the hit, or a few bytes on.
                        from = got.map_or(from + 17, |g| g + 1 + (x as usize % 5));
                    }
                }
            }
        }
    }

    /// IPv4 anchors match whole address runs, as the detectors read addresses.
    #[test]
    fn ipv4_anchors_match_address_runs() {
        let ips: Vec<Ipv4Addr> = ["5.254.43.18", "10.0.0.1"].iter().map(|a| a.parse().unwrap()).collect();
        let cl = CiLiterals::with_ipv4::<&str>(&[], &ips);
        for (text, hit) in [
            ("2021-03-03 06:47:55 POST /x - 5.254.43.18 python 200", Some(30)),
            ("c-ip=5.254.43.18.", Some(5)),
            ("::ffff:5.254.43.18", Some(7)),
            ("x,5.254.43.18:443,", Some(2)),
            ("15.254.43.18 5.254.43.180 5.254.43.18.1 05.254.43.18", None),
            ("version 15.2.792.10 and 10.0.0.10 or 110.0.0.1", None),
            ("a.10.0.0.1", Some(2)),
            ("", None),
        ] {
            assert_eq!(cl.find_from(text.as_bytes(), 0), hit, "{text}");
            assert_eq!(naive_ipv4(&ips, text.as_bytes(), 0), hit, "{text}");
        }
        let mut x = 0xDEAD_BEEF_0BAD_F00Du64;
        for round in 0..300 {
            let hay = random_text(&mut x, 40 + round, b"0123456789.. ,:a", &["5.254.43.18", "10.0.0.1", "1.0.0.1"]);
            for from in [0, 1, 7, hay.len() / 3] {
                assert_eq!(
                    cl.find_from(&hay, from),
                    naive_ipv4(&ips, &hay, from),
                    "{:?}",
                    String::from_utf8_lossy(&hay)
                );
            }
        }
    }
}
