//! ECP Server logs (`Logging\ECP\Server\ECPServer<yyyyMMdd>-1.LOG`): one `ECP.Request` line per
//! ECP call, EventData a CSV-quoted `;`-separated list of `S:KEY=value` pairs.

use super::fmt::{MS_PER_HOUR, guid_string, push_csv, push_iso_ms};
use super::rng::Rng;
use super::scenario::ecp_event_data;
use super::traffic::activity;
use super::{LineSink, Mark, Server, mark, oracle};
use std::io::{self, Write};

/// Admin cmdlets run from the ECP, with the DDI schema the page calls. `{id}` is a mailbox's AD
/// object GUID.
const ADMIN_CMDS: &[(&str, &str, &str)] = &[
    ("Get-Mailbox.ResultSize=Unlimited.SortBy='DisplayName'", "GetList", "Mailboxes"),
    ("Get-Recipient.RecipientTypeDetails='UserMailbox'.ResultSize='500'", "GetList", "Mailboxes"),
    ("Get-Mailbox.Identity='{id}'", "GetObject", "MailboxPropertiesMaster"),
    ("Get-CASMailbox.Identity='{id}'", "GetObject", "MailboxPropertiesMaster"),
    ("Get-MailboxStatistics.Identity='{id}'", "GetObject", "MailboxUsage"),
    ("Get-OabVirtualDirectory.ADPropertiesOnly=$true.Identity=$null", "GetList", "VirtualDirectories"),
    ("Get-OwaVirtualDirectory.ADPropertiesOnly=$true.Identity=$null", "GetList", "VirtualDirectories"),
    ("Get-EcpVirtualDirectory.ADPropertiesOnly=$true.Identity=$null", "GetList", "VirtualDirectories"),
    ("Get-WebServicesVirtualDirectory.ADPropertiesOnly=$true.Identity=$null", "GetList", "VirtualDirectories"),
    ("Get-ExchangeCertificate.Server='{host}'", "GetList", "Certificates"),
    ("Get-MailboxDatabase.Status=$true", "GetList", "MailboxDatabases"),
    ("Get-DistributionGroup.ResultSize=Unlimited", "GetList", "DistributionGroups"),
    ("Get-ManagementRoleAssignment.RoleAssignee='{id}'", "GetList", "RoleAssignments"),
    (
        "Set-Mailbox.Identity='{id}'.ProhibitSendQuota='9.5 GB (10,200,547,328 bytes)'",
        "SetObject",
        "MailboxPropertiesMaster",
    ),
    ("Set-CASMailbox.Identity='{id}'.ActiveSyncEnabled=$true", "SetObject", "MailboxPropertiesMaster"),
    ("Pipeline.1|Get-Mailbox.Identity='{id}'|Get-MailboxAutoReplyConfiguration", "GetObject", "MailboxAutoReply"),
];

/// Self-service calls of ordinary users (Options pages).
const USER_CMDS: &[(&str, &str, &str)] = &[
    ("Get-MailboxRegionalConfiguration.Identity='{id}'", "GetObject", "MailboxRegionalConfiguration"),
    ("Get-MailboxAutoReplyConfiguration.Identity='{id}'", "GetObject", "AutomaticReplies"),
    ("Set-MailboxAutoReplyConfiguration.Identity='{id}'.AutoReplyState='Scheduled'", "SetObject", "AutomaticReplies"),
    ("Get-InboxRule.Mailbox='{id}'", "GetList", "InboxRules"),
    ("Get-MailboxJunkEmailConfiguration.Identity='{id}'", "GetObject", "JunkEmailConfiguration"),
];

impl Server {
    pub(crate) fn write_ecp(&self, day: u32, w: &mut dyn Write) -> io::Result<Vec<Mark>> {
        let t0 = self.day_start(day);
        let mut rng = Rng::stream(self.spec.seed, &[4, u64::from(day)]);
        let mut sink = LineSink::new(w);
        // ECP Server logs write a fixed format version, not the build.
        let created = t0 + rng.range(5, 900) as i64;
        sink.exchange_header("15.0.0.0", "ECP Server Log", created, "TimeStamp,ServerName,EventId,EventData")?;

        let be = format!("https://{}:444", self.fqdn);
        let mut marks = Vec::new();
        let specials: Vec<_> = self.scenario.ecp.iter().filter(|s| s.t >= t0 && s.t < t0 + 24 * MS_PER_HOUR).collect();
        let mut next_special = 0;
        let scale = self.spec.scale.max(0.0);
        let mut lines: Vec<(i64, String)> = Vec::new();
        for hour in 0..24 {
            let th = t0 + hour * MS_PER_HOUR;
            let n = rng.round(6.0 * activity(th) * scale);
            // Managed Availability's ECP probe signs in every six hours, whatever the load.
            let probe = hour % 6 == 3;
            let mut times: Vec<(i64, bool)> = Vec::with_capacity(n as usize + 1);
            for _ in 0..n {
                times.push((th + 1000 + rng.below(MS_PER_HOUR as u64 - 1000) as i64, false));
            }
            if probe {
                times.push((th + 7 * 60_000 + rng.below(60_000) as i64, true));
            }
            times.sort_unstable();
            lines.clear();
            for (t, probe) in times {
                lines.push((t, self.benign_ecp(&mut rng, &be, probe)));
            }
            let end = th + MS_PER_HOUR;
            let mut i = 0;
            loop {
                let special = specials.get(next_special).filter(|s| s.t < end);
                let benign = lines.get(i);
                let (t, data, expect, note) = match (special, benign) {
                    (Some(s), Some(b)) if b.0 <= s.t => {
                        i += 1;
                        (b.0, b.1.as_str(), None, "")
                    }
                    (Some(s), _) => {
                        next_special += 1;
                        (s.t, s.data.as_str(), Some(s.expect), s.note.as_str())
                    }
                    (None, Some(b)) => {
                        i += 1;
                        (b.0, b.1.as_str(), None, "")
                    }
                    (None, None) => break,
                };
                push_iso_ms(&mut sink.buf, t);
                sink.buf.push(b',');
                sink.buf.extend_from_slice(self.host.as_bytes());
                sink.buf.extend_from_slice(b",ECP.Request,");
                push_csv(&mut sink.buf, data);
                let rules = if expect.is_some() || cfg!(debug_assertions) {
                    oracle::ecp_line(std::str::from_utf8(&sink.buf).unwrap_or(""))
                } else {
                    Vec::new()
                };
                let line = sink.emit()?;
                match expect {
                    Some(e) => marks.extend(mark(e, rules, Some(line), None, note)),
                    None => debug_assert!(rules.is_empty(), "benign ECP line fires {rules:?}"),
                }
            }
        }
        Ok(marks)
    }

    fn benign_ecp(&self, rng: &mut Rng, be: &str, probe: bool) -> String {
        let admin_call = !probe && rng.chance(0.7);
        let (u, table) = if probe {
            (&self.health[0], &USER_CMDS[..1])
        } else if admin_call {
            (&self.users[rng.below(4) as usize], ADMIN_CMDS)
        } else {
            (&self.users[rng.below(self.users.len() as u64) as usize], USER_CMDS)
        };
        let target = &self.users[rng.below(self.users.len() as u64) as usize];
        let &(cmd, call, schema) = rng.pick(table);
        let id = if admin_call { &target.object_guid } else { &u.object_guid };
        let cmd = cmd.replace("{id}", id).replace("{host}", &self.host);
        let url = format!("{be}/ecp/DDI/DDIService.svc/{call}?msExchEcpCanary={}&schema={schema}", self.canary);
        let referrer = if admin_call {
            format!("https://{}/ecp/", self.mail_host)
        } else {
            format!("https://{}/ecp/PersonalSettings/HomePage.aspx?showhelp=false&", self.mail_host)
        };
        let ex = if rng.chance(0.03) {
            "Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException:The operation couldn't be performed because object 'Unknown' couldn't be found on 'DC01'."
        } else {
            ""
        };
        let session = guid_string(&rng.guid());
        let req = guid_string(&rng.guid());
        let act = guid_string(&rng.guid());
        ecp_event_data(self, rng.skewed(120).into(), &u.sid, &cmd, &req, &url, &referrer, ex, &act, &session)
    }
}
