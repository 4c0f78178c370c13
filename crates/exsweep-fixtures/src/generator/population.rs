//! The people and machines of the synthetic organisation: mailbox users with their SIDs, GUIDs,
//! devices and addresses, the mailbox databases, the two Exchange servers, and the user agents
//! real clients sent in 2021.

use super::fmt::guid_string;
use super::rng::Rng;

/// One mailbox user (or service / health mailbox).
#[derive(Clone, Debug)]
pub(crate) struct User {
    pub sam: String,
    /// `jane.doe@contoso.com`
    pub upn: String,
    /// `contoso\jdoe`
    pub nt: String,
    pub sid: String,
    pub mailbox_guid: String,
    pub object_guid: String,
    /// `<mailbox guid>@contoso.com`, the MAPI/HTTP `MailboxId` and RPC endpoint.
    pub mailbox_id: String,
    pub db: usize,
    /// `&User=jdoe&DeviceId=...&DeviceType=iPhone` when the user has a phone on ActiveSync.
    pub eas_tail: Option<String>,
    pub mobile_ua: &'static str,
    pub outlook_ua: &'static str,
    pub browser_ua: &'static str,
    /// Office workstation.
    pub ip: String,
    /// Home / mobile address seen from outside.
    pub remote_ip: String,
    /// Published calendar id (OwaCalendar) for some users.
    pub calendar: Option<String>,
}

/// One mailbox database and the server that hosts its active copy.
#[derive(Clone, Debug)]
pub(crate) struct Database {
    pub guid: String,
    pub server: usize,
}

/// An Exchange server of the organisation (index 0 is the one the logs come from).
#[derive(Clone, Debug)]
pub(crate) struct ExServer {
    pub fqdn: String,
}

const FIRST: &[&str] = &[
    "Anna", "Bjorn", "Carla", "David", "Emma", "Frode", "Grete", "Hans", "Ingrid", "Jonas", "Kari", "Lars", "Maria",
    "Nils", "Ola", "Petra", "Rune", "Sofie", "Tor", "Una", "Vidar", "Wenche", "Yngve", "Aksel", "Berit", "Chris",
    "Dina", "Erik", "Fatima", "Geir", "Hilde", "Ivar", "Julie", "Knut", "Linn", "Magnus", "Nora", "Oskar", "Pia",
    "Ragnhild", "Sindre", "Thea", "Ulrik", "Vilde", "Ahmed", "Elena", "John", "Sarah", "Michael", "Laura", "Daniel",
    "Amira", "Tomas", "Katrin", "Jan", "Mette",
];

const LAST: &[&str] = &[
    "Hansen",
    "Johansen",
    "Olsen",
    "Larsen",
    "Andersen",
    "Pedersen",
    "Nilsen",
    "Kristiansen",
    "Jensen",
    "Karlsen",
    "Johnsen",
    "Pettersen",
    "Eriksen",
    "Berg",
    "Haugen",
    "Hagen",
    "Johannessen",
    "Andreassen",
    "Jacobsen",
    "Dahl",
    "Jorgensen",
    "Halvorsen",
    "Henriksen",
    "Lund",
    "Sorensen",
    "Jakobsen",
    "Moen",
    "Gundersen",
    "Iversen",
    "Strand",
    "Solberg",
    "Svendsen",
    "Eide",
    "Knutsen",
    "Martinsen",
    "Paulsen",
    "Bakken",
    "Kristoffersen",
    "Mathisen",
    "Lie",
    "Amundsen",
    "Nguyen",
    "Rasmussen",
    "Ali",
    "Lunde",
    "Smith",
    "Miller",
    "Garcia",
    "Novak",
    "Schmidt",
];

pub(crate) const OUTLOOK_UAS: &[&str] = &[
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.13801; Pro)",
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.13628; Pro)",
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.5122; Pro)",
    "Microsoft Office/15.0 (Windows NT 10.0; Microsoft Outlook 15.0.5319; Pro)",
    "Microsoft Office/16.0 (Windows NT 6.1; Microsoft Outlook 16.0.4266; Pro)",
];

pub(crate) const BROWSER_UAS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/88.0.4324.190 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/88.0.4324.182 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/89.0.4389.72 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/88.0.4324.190 Safari/537.36 Edg/88.0.705.81",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/89.0.4389.72 Safari/537.36 Edg/89.0.774.45",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:86.0) Gecko/20100101 Firefox/86.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:85.0) Gecko/20100101 Firefox/85.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/14.0.3 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; WOW64; Trident/7.0; rv:11.0) like Gecko",
];

pub(crate) const MOBILE_UAS: &[&str] = &[
    "Apple-iPhone12C1/1805.212",
    "Apple-iPhone13C2/1805.212",
    "Apple-iPhone11C8/1804.231",
    "Apple-iPad8C1/1805.212",
    "Android-Mail/2021.01.31.357398797.release",
    "Android-Mail/2020.12.06.348614151.release",
    "Outlook-iOS-Android/1.0",
    "SAMSUNG-SM-G973F/101.10.6",
];

pub(crate) const MAC_OUTLOOK_UA: &str = "MacOutlook/16.46.21021202 (Intelx64 Mac OS X 10.15.7)";

/// Builds `n` ordinary users plus administrators.
pub(crate) fn users(
    rng: &mut Rng,
    n: usize,
    netbios: &str,
    smtp_domain: &str,
    domain_sid: &str,
    dbs: usize,
) -> Vec<User> {
    let mut out: Vec<User> = Vec::with_capacity(n + 4);
    let mut taken = std::collections::BTreeSet::new();
    let mut rid = 1103u64;
    let mut make = |rng: &mut Rng, first: &str, last: &str, sam: String, admin: bool| -> User {
        rid += rng.range(1, 7);
        let upn = if admin && sam == "administrator" {
            format!("administrator@{smtp_domain}")
        } else {
            // A second Anna Hansen is ahansen2 / anna.hansen2.
            let digits: String = sam.chars().filter(|c| c.is_ascii_digit()).collect();
            format!("{}.{}{}@{}", first.to_ascii_lowercase(), last.to_ascii_lowercase(), digits, smtp_domain)
        };
        let mailbox_guid = guid_string(&rng.guid());
        let mobile = rng.chance(0.55);
        let device_id = rng.chars(b"0123456789ABCDEF", 24);
        let mobile_ua = rng.pick_str(MOBILE_UAS);
        let device_type = if mobile_ua.starts_with("Apple-iPad") {
            "iPad"
        } else if mobile_ua.starts_with("Apple") {
            "iPhone"
        } else if mobile_ua.starts_with("Outlook") {
            "Outlook"
        } else {
            "Android"
        };
        let prefix = if device_type.starts_with('i') { "Appl" } else { "" };
        User {
            nt: format!("{netbios}\\{sam}"),
            sid: format!("{domain_sid}-{rid}"),
            mailbox_id: format!("{mailbox_guid}@{smtp_domain}"),
            mailbox_guid,
            object_guid: guid_string(&rng.guid()),
            db: rng.below(dbs as u64) as usize,
            eas_tail: mobile.then(|| format!("&User={sam}&DeviceId={prefix}{device_id}&DeviceType={device_type}")),
            mobile_ua,
            outlook_ua: if rng.chance(0.06) { MAC_OUTLOOK_UA } else { rng.pick_str(OUTLOOK_UAS) },
            browser_ua: rng.pick_str(BROWSER_UAS),
            ip: format!("10.0.{}.{}", rng.range(2, 5), rng.range(10, 250)),
            remote_ip: public_ip(rng),
            calendar: rng.chance(0.05).then(|| guid_string(&rng.guid()).replace('-', "")),
            upn,
            sam,
        }
    };
    out.push(make(rng, "Administrator", "Admin", "administrator".into(), true));
    taken.insert("administrator".to_string());
    while out.len() < n + 1 {
        let first = *rng.pick(FIRST);
        let last = *rng.pick(LAST);
        let mut sam = format!("{}{}", &first[..1], last).to_ascii_lowercase();
        if taken.contains(&sam) {
            sam = format!("{}{}", sam, rng.range(2, 99));
            if taken.contains(&sam) {
                continue;
            }
        }
        taken.insert(sam.clone());
        let admin = out.len() <= 3;
        let user = make(rng, first, last, sam, admin);
        out.push(user);
    }
    out
}

/// A public address from ranges that home and mobile providers used; never one of the attacker
/// addresses the scenario plants.
pub(crate) fn public_ip(rng: &mut Rng) -> String {
    const PREFIXES: &[&str] =
        &["84.208", "88.89", "92.220", "178.232", "185.176", "193.90", "212.251", "77.16", "46.9", "146.72"];
    format!("{}.{}.{}", rng.pick(PREFIXES), rng.range(1, 254), rng.range(1, 254))
}
