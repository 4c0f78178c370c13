//! The places where the 2021 intrusions dropped web shells and tools, found by their Windows
//! names (case-insensitive) on every source layout: `inetpub\wwwroot\aspnet_client`, the
//! Exchange `FrontEnd\HttpProxy` and `ClientAccess` web folders, `Temporary ASP.NET Files`,
//! `ProgramData`, `Windows\Temp`, `C:\root` and `Users\Public` (exchange-artifacts.md §1.9, §4).

use crate::source::{LogicalPath, SourceLayout};
use serde::Serialize;

/// A folder the sweep looks into.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Place {
    /// `inetpub\wwwroot\aspnet_client` and below.
    AspnetClient,
    /// `<Exchange>\FrontEnd\HttpProxy\owa\auth` and below.
    OwaAuth,
    /// `<Exchange>\FrontEnd\HttpProxy\ecp\auth` and below.
    EcpAuth,
    /// Another folder under `<Exchange>\FrontEnd\HttpProxy` (`OAB`, `ews`, ...).
    HttpProxy,
    /// `<Exchange>\ClientAccess\{ecp,owa,OAB}` and below.
    ClientAccess,
    /// `Temporary ASP.NET Files` (compiled web shells, `App_Web_*.dll`).
    TempAspNet,
    ProgramData,
    WindowsTemp,
    /// `C:\root` (Test-ProxyLogon looks for LSASS dumps there).
    Root,
    UsersPublic,
    /// Anywhere else (swept with `--all-files`).
    Elsewhere,
}

impl Place {
    pub fn as_str(self) -> &'static str {
        match self {
            Place::AspnetClient => "aspnet_client",
            Place::OwaAuth => "owa_auth",
            Place::EcpAuth => "ecp_auth",
            Place::HttpProxy => "httpproxy",
            Place::ClientAccess => "client_access",
            Place::TempAspNet => "temporary_aspnet_files",
            Place::ProgramData => "programdata",
            Place::WindowsTemp => "windows_temp",
            Place::Root => "root",
            Place::UsersPublic => "users_public",
            Place::Elsewhere => "elsewhere",
        }
    }

    /// Web folders: a script file here is served by IIS, so an unknown one is a web shell candidate.
    pub fn is_web(self) -> bool {
        matches!(self, Place::AspnetClient | Place::OwaAuth | Place::EcpAuth | Place::HttpProxy | Place::ClientAccess)
    }
}

/// Where a file lies: its place, and its lowercase path components below the place's folder
/// (`["system_web", "x.aspx"]` for `aspnet_client\system_web\x.aspx`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located {
    pub place: Place,
    pub below: Vec<String>,
}

/// The place of an entry, if it lies in one.
pub fn place_of(layout: &SourceLayout, rel_path: &str, lp: &LogicalPath) -> Option<Located> {
    let at = |place: Place, from: usize, parts: &[String]| {
        (parts.len() > from).then(|| Located { place, below: parts[from..].to_vec() })
    };
    // Exchange web folders: below a known install, or below any `FrontEnd\HttpProxy` /
    // `ClientAccess` folder when the install was not recognised.
    let exchange_rest = layout.in_exchange(rel_path).map(|(_, rest)| rest).or_else(|| {
        let i = lp
            .contains_seq(&["frontend", "httpproxy"])
            .or_else(|| ["ecp", "owa", "oab"].iter().find_map(|c| lp.contains_seq(&["clientaccess", c])))?;
        Some(lp.parts[i..].to_vec())
    });
    if let Some(rest) = exchange_rest {
        let r: Vec<&str> = rest.iter().map(String::as_str).collect();
        let found = match r.as_slice() {
            ["frontend", "httpproxy", "owa", "auth", _, ..] => at(Place::OwaAuth, 4, &rest),
            ["frontend", "httpproxy", "ecp", "auth", _, ..] => at(Place::EcpAuth, 4, &rest),
            ["frontend", "httpproxy", _, ..] => at(Place::HttpProxy, 2, &rest),
            ["clientaccess", "ecp" | "owa" | "oab", _, ..] => at(Place::ClientAccess, 1, &rest),
            _ => None,
        };
        if found.is_some() {
            return found;
        }
    }
    let parts = &lp.parts;
    if let Some(i) = parts.iter().position(|c| c == "aspnet_client") {
        return at(Place::AspnetClient, i + 1, parts);
    }
    if let Some(i) = parts.iter().position(|c| c == "temporary asp.net files") {
        return at(Place::TempAspNet, i + 1, parts);
    }
    if lp.starts_with(&["programdata"]) {
        return at(Place::ProgramData, 1, parts);
    }
    if lp.starts_with(&["windows", "temp"]) {
        return at(Place::WindowsTemp, 2, parts);
    }
    if lp.starts_with(&["root"]) {
        return at(Place::Root, 1, parts);
    }
    if lp.starts_with(&["users", "public"]) {
        return at(Place::UsersPublic, 2, parts);
    }
    None
}

/// Extensions IIS runs as server-side script (ASP.NET pages, handlers, services, classic ASP).
pub const SCRIPT_EXTENSIONS: &[&str] = &["aspx", "ashx", "asmx", "asp", "asax", "ascx", "cshtml", "svc", "php", "jsp"];

/// True when the lowercase file name ends in a server-side script extension.
pub fn is_script_name(name: &str) -> bool {
    name.rsplit_once('.').is_some_and(|(_, ext)| SCRIPT_EXTENSIONS.contains(&ext))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{Entry, Locator};

    fn layout_of(paths: &[&str]) -> SourceLayout {
        let entries: Vec<Entry> = paths
            .iter()
            .map(|p| Entry {
                rel_path: p.to_string(),
                size: 1,
                mtime: None,
                created: None,
                accessed: None,
                locator: Locator::Fs(p.into()),
            })
            .collect();
        SourceLayout::analyze(&entries)
    }

    fn place(layout: &SourceLayout, p: &str) -> Option<(Place, Vec<String>)> {
        place_of(layout, p, &layout.logical(p)).map(|l| (l.place, l.below))
    }

    #[test]
    fn places_on_a_kape_copy_and_a_velociraptor_collection() {
        let kape = [
            "C/Program Files/Microsoft/Exchange Server/V15/FrontEnd/HttpProxy/owa/auth/logon.aspx",
            "C/Program Files/Microsoft/Exchange Server/V15/Bin/ExSetup.exe",
            "C/inetpub/wwwroot/aspnet_client/system_web/AbCdEfGh.aspx",
            "C/Windows/Temp/lsass.dmp",
            "C/Users/Public/opera/opera_browser.exe",
            "C/Windows/Microsoft.NET/Framework64/v4.0.30319/Temporary ASP.NET Files/owa/1/App_Web_x.dll",
            "C/Program Files/Microsoft/Exchange Server/V15/ClientAccess/ecp/default.aspx",
            "C/Program Files/Microsoft/Exchange Server/V15/FrontEnd/HttpProxy/ecp/auth/TimeoutLogout.aspx",
            "C/Program Files/Microsoft/Exchange Server/V15/FrontEnd/HttpProxy/OAB/log.aspx",
            "C/root/lsass.dmp",
            "C/Windows/System32/cmd.exe",
        ];
        let l = layout_of(&kape);
        let p = |i: usize| place(&l, kape[i]).map(|x| x.0);
        assert_eq!(p(0), Some(Place::OwaAuth));
        assert_eq!(place(&l, kape[0]).unwrap().1, vec!["logon.aspx"]);
        assert_eq!(p(1), None);
        assert_eq!(p(2), Some(Place::AspnetClient));
        assert_eq!(place(&l, kape[2]).unwrap().1, vec!["system_web", "abcdefgh.aspx"]);
        assert_eq!(p(3), Some(Place::WindowsTemp));
        assert_eq!(p(4), Some(Place::UsersPublic));
        assert_eq!(p(5), Some(Place::TempAspNet));
        assert_eq!(p(6), Some(Place::ClientAccess));
        assert_eq!(p(7), Some(Place::EcpAuth));
        assert_eq!(p(8), Some(Place::HttpProxy));
        assert_eq!(place(&l, kape[8]).unwrap().1, vec!["oab", "log.aspx"]);
        assert_eq!(p(9), Some(Place::Root));
        assert_eq!(p(10), None);

        let velo = "uploads/auto/C%3A/inetpub/wwwroot/ASPNET_CLIENT/discover.aspx";
        let l = layout_of(&[velo, "uploads/auto/C%3A/Windows/System32/x.dll"]);
        assert_eq!(place(&l, velo).map(|x| x.0), Some(Place::AspnetClient));
    }

    #[test]
    fn script_names() {
        assert!(is_script_name("x.aspx"));
        assert!(is_script_name("h.ashx"));
        assert!(!is_script_name("logon.css"));
        assert!(!is_script_name("aspx"));
    }
}
