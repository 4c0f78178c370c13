//! PowerShell `-like`: a case-insensitive wildcard match where `*` is any run of characters and
//! `?` is one character. Test-ProxyLogon states its checks with `-like`; matching them the same way
//! keeps exsweep's results equal to the script's.
//!
//! Written here rather than pulled from a glob crate: glob crates treat `/` as a separator (`*`
//! stops at it), which `-like` does not, and the patterns here need nothing but `*` and `?`.

/// True when `text` matches `pattern` as PowerShell's `-like` would (ASCII case-insensitive).
pub fn like(text: &str, pattern: &str) -> bool {
    let t: Vec<char> = text.chars().collect();
    let p: Vec<char> = pattern.chars().collect();
    let (mut ti, mut pi) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || eq_ci(p[pi], t[ti])) && p[pi] != '*' {
            ti += 1;
            pi += 1;
        } else if pi < p.len() && p[pi] == '*' {
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
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

fn eq_ci(a: char, b: char) -> bool {
    a == b || a.to_lowercase().eq(b.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::like;

    #[test]
    fn wildcard_semantics() {
        assert!(like("ServerInfo~a]@srv:444/mapi/emsmdb/?#", "ServerInfo~*/*"));
        assert!(like("serverinfo~A/B", "ServerInfo~*/*"));
        assert!(!like("ServerInfo~EX02.contoso.local", "ServerInfo~*/*"));
        assert!(like("ServerInfo~a]@srv:444/autodiscover/autodiscover.xml?#", "ServerInfo~*/autodiscover*"));
        assert!(like("ServerInfo~localhost/owa/auth/logon.aspx?", "ServerInfo~localhost*/*"));
        assert!(like("x", "?"));
        assert!(!like("", "?"));
        assert!(like("", "*"));
        assert!(like(
            "ServerInfo~a]@s:444/ecp/DDI/DDIService.svc/SetObject?msExchEcpCanary=x&schema=ResetOABVirtualDirectory#",
            "ServerInfo~*/*Reset*VirtualDirectory#"
        ));
        assert!(!like(
            "ServerInfo~a]@s:444/ecp/x?schema=ResetOABVirtualDirectory",
            "ServerInfo~*/*Reset*VirtualDirectory#"
        ));
        assert!(like("Server~a]@s:444/ews/exchange.asmx?#~1941962753", "Server~*/*~*"));
        assert!(!like("Server~EX02.contoso.local~1942062522~3/9/2021 10:00:00 AM", "Server~*/*~*"));
    }
}
