//! Loki / signature-base IOC files, read as `loki.py` reads them: hash lists (`HASH;COMMENT`,
//! `HASH;SCORE;COMMENT`, kind by length, the empty-file and line-break hashes ignored), filename
//! IOCs (`REGEX;SCORE[;FALSE_POSITIVE_REGEX]`, the last `# comment` describes the lines after it,
//! Python regexes translated), and C2 lists (domain or IP per line, optional `;score`, entries
//! under 4 characters dropped). Where Loki would fail on a line with an exception, this reports a
//! problem with the line.

use super::{Sink, numbered_lines};
use crate::actors;
use crate::indicator::{Indicator, IndicatorKind};
use crate::normalize;

/// Hashes Loki ignores: of the empty file, of a file holding one `\n`, and of one `\r\n`.
pub const IGNORED_HASHES: [(&str, &str); 9] = [
    ("d41d8cd98f00b204e9800998ecf8427e", "MD5 of the empty file"),
    ("da39a3ee5e6b4b0d3255bfef95601890afd80709", "SHA-1 of the empty file"),
    ("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "SHA-256 of the empty file"),
    ("68b329da9893e34099c7d8ad5cb9c940", "MD5 of a one-line-break file (LF)"),
    ("adc83b19e793491b1c6ea0fd8b46cd9f32e592fc", "SHA-1 of a one-line-break file (LF)"),
    ("01ba4719c80b6fe911b091a7c05124b64eeece964e09c058ef8f9805daca546b", "SHA-256 of a one-line-break file (LF)"),
    ("81051bcc2cf1bedf378224b0a93e2877", "MD5 of a one-line-break file (CRLF)"),
    ("ba8ab5a0280b953aa97435ff8946cbcbb2755a27", "SHA-1 of a one-line-break file (CRLF)"),
    ("7eb70257593da06f682a3ddda54a9d260d4fc514f645237f5ca74b08f8da61a6", "SHA-256 of a one-line-break file (CRLF)"),
];

fn is_comment(line: &str) -> bool {
    line.trim_start().starts_with('#')
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// A Loki score column: 0–100 (higher values are clamped, as Loki only adds scores up).
fn score(s: &str) -> u8 {
    s.parse::<u32>().map_or(100, |v| v.min(100) as u8)
}

/// A hash list. With `allow`, entries go to the allow-list (Loki `falsepositive` files).
pub(crate) fn hashes(text: &str, sink: &mut Sink<'_>, allow: bool) {
    for (n, line) in numbered_lines(text) {
        if line.trim().is_empty() || is_comment(line) {
            continue;
        }
        sink.entries += 1;
        let cols: Vec<&str> = line.split(';').collect();
        let raw = cols[0].trim();
        // Three columns with a number in the middle carry a score; otherwise everything after
        // the first `;` is the comment (which may itself contain `;`).
        let (sc, desc) = if cols.len() >= 3 && digits(cols[1].trim()) {
            (Some(score(cols[1].trim())), cols[2..].join(";"))
        } else {
            (None, cols.get(1..).map(|c| c.join(";")).unwrap_or_default())
        };
        let (kind, value) = match normalize::hash(raw) {
            Ok(v) => v,
            Err(e) => {
                sink.problem(n, e);
                continue;
            }
        };
        if let Some((_, why)) = IGNORED_HASHES.iter().find(|(h, _)| *h == value) {
            sink.ignore(n, &value, format!("{why}: Loki ignores it"));
            continue;
        }
        let mut ind = Indicator::new(kind, value);
        ind.score = sc;
        ind.description = desc.trim().to_string();
        ind.actors = actors::actors_in(&ind.description).into_iter().map(String::from).collect();
        if allow {
            sink.allow(n, ind);
        } else {
            sink.add(n, ind);
        }
    }
}

/// Filename IOCs.
pub(crate) fn filenames(text: &str, sink: &mut Sink<'_>) {
    let mut last_comment = String::new();
    for (n, line) in numbered_lines(text) {
        if line.trim().is_empty() {
            continue;
        }
        if is_comment(line) {
            last_comment = line.trim_start().trim_start_matches('#').trim().to_string();
            continue;
        }
        sink.entries += 1;
        let line = line.trim_end();
        let Some((regex, rest)) = line.split_once(';') else {
            sink.problem(n, "no `;SCORE` column after the regex (format REGEX;SCORE[;FALSE_POSITIVE_REGEX])");
            continue;
        };
        let (score_col, fp) = match rest.split_once(';') {
            Some((s, fp)) => (s, Some(fp)),
            None => (rest, None),
        };
        let mut ind = match Indicator::parse(IndicatorKind::FileNameRegex, regex) {
            Ok(i) => i,
            Err(e) => {
                sink.problem(n, e);
                continue;
            }
        };
        ind.description = last_comment.clone();
        if digits(score_col.trim()) {
            ind.score = Some(score(score_col.trim()));
        } else {
            // Loki's legacy lines: `REGEX;DESCRIPTION`, scored 60.
            ind.score = Some(60);
            ind.description = score_col.trim().to_string();
            ind.attrs.insert("legacy_format".into(), "REGEX;DESCRIPTION, scored 60 as Loki does".into());
        }
        if let Some(fp) = fp.map(str::trim_end).filter(|f| !f.is_empty()) {
            ind.false_positive = Some(fp.to_string());
        }
        if ind.value.contains('%') {
            // Loki expands %VAR% from the scanning host; a triage copy has no such host.
            ind.attrs.insert("env_vars".into(), "%VAR% matched literally (Loki expands it from the live host)".into());
        }
        ind.actors = actors::actors_in(&ind.description).into_iter().map(String::from).collect();
        sink.add(n, ind);
    }
}

/// A C2 list. A blank line clears the description, as in Loki.
pub(crate) fn c2(text: &str, sink: &mut Sink<'_>) {
    let mut last_comment = String::new();
    for (n, line) in numbered_lines(text) {
        if line.trim().is_empty() {
            last_comment.clear();
            continue;
        }
        if is_comment(line) {
            last_comment = line.trim_start().trim_start_matches('#').trim().to_string();
            continue;
        }
        sink.entries += 1;
        let line = line.trim();
        let (c2, sc) = match line.split_once(';') {
            Some((c, s)) => (c.trim(), Some(s.trim())),
            None => (line, None),
        };
        if c2.chars().count() < 4 {
            sink.ignore(n, c2, "shorter than 4 characters: Loki drops it as suspiciously short");
            continue;
        }
        let (kind, value) = match normalize::network(c2, IndicatorKind::Domain) {
            Ok(v) => v,
            Err(e) => {
                sink.problem(n, e);
                continue;
            }
        };
        let mut ind = Indicator::new(kind, value);
        ind.description = last_comment.clone();
        if let Some(s) = sc {
            if digits(s) {
                ind.score = Some(score(s));
            } else if !s.is_empty() {
                ind.attrs.insert("comment".into(), s.to_string());
            }
        }
        ind.actors = actors::actors_in(&ind.description).into_iter().map(String::from).collect();
        sink.add(n, ind);
    }
}

#[cfg(test)]
mod tests {
    use crate::feeds::FeedFormat;
    use crate::indicator::{IndicatorKind as K, IocSet};

    const HASHES: &str = "\
# LOKI CUSTOM EVIL HASHES
#
# MD5;COMMENT

b75f163ca9b9240bf4b37ad92bc7556b40a17e27c2b8ed5c8991385fe07d17d0;HAFNIUM Webshells - Exchange Exploitation - https://www.microsoft.com/security/blog/2021/03/02/hafnium-targeting-exchange-servers/
2BBF74073ED7A910A69C3D2A67BD5F8F;BRONZE VINEWOOD report MD5 hash - uses GitHub gist; for command and control
bf4f41403280c1b115650d470f9b260a5c9042c04d9bcc2a6ca504a66379b2d6;55;Vulnerable Log4j library
d41d8cd98f00b204e9800998ecf8427e;empty
30dd3076ec9abb13c15053234c436406b88fb2b9
12345;too short
zz5f163ca9b9240bf4b37ad92bc7556b;not hex
";

    #[test]
    fn hash_lists() {
        let mut set = IocSet::new();
        set.add_text("iocs/hash-iocs.txt", HASHES, FeedFormat::LokiHash);
        let c = set.counts();
        assert_eq!((c[&K::Md5], c[&K::Sha1], c[&K::Sha256]), (1, 1, 2));
        let h = set.get(K::Sha256, "b75f163ca9b9240bf4b37ad92bc7556b40a17e27c2b8ed5c8991385fe07d17d0").unwrap();
        assert_eq!(h.actors, vec!["HAFNIUM"]);
        assert_eq!(h.score, None);
        assert_eq!(h.sources[0].line, 5);
        let md5 = set.get(K::Md5, "2bbf74073ed7a910a69c3d2a67bd5f8f").unwrap();
        // A `;` in the comment stays in the comment.
        assert!(md5.description.ends_with("uses GitHub gist; for command and control"), "{}", md5.description);
        let log4j = set.get(K::Sha256, "bf4f41403280c1b115650d470f9b260a5c9042c04d9bcc2a6ca504a66379b2d6").unwrap();
        assert_eq!(log4j.score, Some(55));
        assert_eq!(set.ignored.len(), 1);
        assert_eq!(set.ignored[0].line, Some(8));
        assert!(set.ignored[0].reason.contains("empty file"));
        let lines: Vec<u64> = set.problems.iter().filter_map(|p| p.line).collect();
        assert_eq!(lines, vec![10, 11]);
        assert!(set.problems[0].reason.contains("5 hex digits"));
        assert!(set.problems[1].reason.contains("not hexadecimal"));
        // Every data line is accounted for: 4 indicators + 1 ignored + 2 problems.
        assert_eq!(set.files[0].entries, 7);
    }

    #[test]
    fn falsepositive_hashes_are_an_allow_list() {
        let mut set = IocSet::new();
        set.add_text(
            "falsepositive-hashes.txt",
            "# fp\n900150983cd24fb0d6963f7d28e17f72;abc\n",
            FeedFormat::LokiHashAllow,
        );
        assert!(set.is_empty());
        assert_eq!(set.allowed().len(), 1);
        assert_eq!(set.files[0].allowed, 1);
    }

    const FILENAMES: &str = "\
# HAFNIUM IOCs https://www.volexity.com/blog/2021/03/02/active-exploitation-of-microsoft-exchange-zero-day-vulnerabilities/
\\\\inetpub\\\\wwwroot\\\\aspnet_client\\\\[^\\\\\"]{1,20}\\.aspx;90

# Tick Group Webshell Exchange Exploitation IOCs https://www.welivesecurity.com/2021/03/10/exchange-servers-under-siege-10-apt-groups/
\\\\inetpub\\\\wwwroot\\\\aspnet_client\\\\aspnet\\.aspx;90
(?i)\\\\procdump(64)?(a)?\\.(exe|zip);50;(?i)(SysInternals\\\\)
\\\\old\\.exe;Legacy description
\\\\(unclosed;80
\\\\noscore\\.exe
\\\\x\\.exe;70;(unclosed
\\\\lookbehind(?<!Windows)\\.exe;70
";

    #[test]
    fn filename_iocs() {
        let mut set = IocSet::new();
        set.add_text("filename-iocs.txt", FILENAMES, FeedFormat::LokiFilename);
        let ids = set.indicators();
        assert_eq!(ids.len(), 5, "{:?} {:?}", ids, set.problems);
        assert_eq!(ids[0].value, r#"\\inetpub\\wwwroot\\aspnet_client\\[^\\"]{1,20}\.aspx"#);
        assert_eq!(ids[0].score, Some(90));
        assert!(ids[0].description.starts_with("HAFNIUM IOCs"));
        assert_eq!(ids[0].actors, vec!["HAFNIUM"]);
        assert_eq!(ids[1].actors, vec!["Tick"]);
        assert_eq!(ids[2].false_positive.as_deref(), Some(r"(?i)(SysInternals\\)"));
        assert_eq!(ids[2].score, Some(50));
        // The comment carries over to following lines until the next comment.
        assert!(ids[2].description.starts_with("Tick Group"));
        assert_eq!(ids[3].score, Some(60));
        assert_eq!(ids[3].description, "Legacy description");
        assert!(ids[4].needs_fancy());
        let lines: Vec<u64> = set.problems.iter().filter_map(|p| p.line).collect();
        assert_eq!(lines, vec![8, 9, 10], "{:?}", set.problems);
        assert!(set.problems[0].reason.contains("regex not supported"));
        assert!(set.problems[1].reason.contains("SCORE"));
        assert!(set.problems[2].reason.contains("false-positive"));
        assert_eq!(set.files[0].entries, 8);
    }

    const C2: &str = "\
#
# LOKI C2 IOCs

# Calypso C&C https://www.welivesecurity.com/
yolkish[.]com
rawfuns.com;80
abc
34.90.207.23
not_a_domain
10.0.0.0/8

5.254.43.18;65
";

    #[test]
    fn c2_lists() {
        let mut set = IocSet::new();
        set.add_text("c2-iocs.txt", C2, FeedFormat::LokiC2);
        let c = set.counts();
        assert_eq!((c[&K::Domain], c[&K::Ip], c[&K::Cidr]), (2, 2, 1));
        let y = set.get(K::Domain, "yolkish.com").unwrap();
        assert_eq!(y.actors, vec!["Calypso"]);
        assert_eq!(set.get(K::Domain, "rawfuns.com").unwrap().score, Some(80));
        // A blank line ends the comment's reach.
        assert_eq!(set.get(K::Ip, "5.254.43.18").unwrap().description, "");
        assert_eq!(set.ignored.len(), 1);
        assert_eq!(set.ignored[0].line, Some(7));
        assert_eq!(set.problems.len(), 1);
        assert_eq!(set.problems[0].line, Some(9));
        assert_eq!(set.files[0].entries, 7);
    }
}
