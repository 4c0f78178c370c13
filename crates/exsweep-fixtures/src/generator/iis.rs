//! IIS W3C logs (`C:\inetpub\logs\LogFiles\W3SVC1\u_exYYMMDD.log` for the Default Web Site on
//! 443, `W3SVC2` for Exchange Back End on 444), with the 15 default fields. The front-end log has
//! one line per HttpProxy request (same `cafeReqId`), plus what the front end serves itself: load
//! balancer health checks, OWA logon resources and internet noise. The back-end log has the calls
//! the front end proxied to this server, with the server itself as the client.

use super::fmt::{MS_PER_DAY, MS_PER_HOUR, push_guid, push_iis, push_iis_time, push_u64};
use super::rng::Rng;
use super::traffic::{IisItem, Protocol, activity};
use super::{Expect, LineSink, Mark, Server, mark, oracle};
use std::borrow::Cow;
use std::io::{self, Write};

/// The 15 default fields (the `#Fields:` line without its prefix).
pub const IIS_FIELDS: &str = "date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken";

const LB_PATHS: &[&str] = &[
    "/owa/healthcheck.htm",
    "/ecp/healthcheck.htm",
    "/EWS/healthcheck.htm",
    "/Microsoft-Server-ActiveSync/healthcheck.htm",
    "/mapi/healthcheck.htm",
    "/OAB/healthcheck.htm",
    "/Autodiscover/healthcheck.htm",
    "/rpc/healthcheck.htm",
];

/// Internet background noise: (method, stem, status).
const NOISE: &[(&str, &str, u16)] = &[
    ("GET", "/", 200),
    ("GET", "/favicon.ico", 404),
    ("GET", "/robots.txt", 404),
    ("GET", "/.env", 404),
    ("GET", "/wp-login.php", 404),
    ("GET", "/owa/auth/logon.aspx", 200),
    ("GET", "/remote/login", 404),
    ("GET", "/vpn/index.html", 404),
    ("GET", "/owa/", 302),
    ("POST", "/Autodiscover/Autodiscover.xml", 401),
];

const NOISE_UAS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/79.0.3945.88 Safari/537.36",
    "Mozilla/5.0 (compatible; CensysInspect/1.1; +https://about.censys.io/)",
    "Mozilla/5.0 zgrab/0.x",
    "curl/7.68.0",
    "Mozilla/5.0 (X11; Linux x86_64; rv:78.0) Gecko/20100101 Firefox/78.0",
    "",
];

impl<'a> IisItem<'a> {
    /// A borrowed copy (scenario lines are stored owned in the server).
    fn view(&'a self) -> IisItem<'a> {
        let b = |c: &'a Cow<'a, str>| Cow::Borrowed(c.as_ref());
        IisItem {
            t: self.t,
            method: b(&self.method),
            stem: b(&self.stem),
            query: [b(&self.query[0]), b(&self.query[1]), b(&self.query[2])],
            cafe: self.cafe,
            encoding: self.encoding,
            port: self.port,
            user: b(&self.user),
            ip: b(&self.ip),
            ua: b(&self.ua),
            referer: b(&self.referer),
            status: self.status,
            substatus: self.substatus,
            win32: self.win32,
            time_taken: self.time_taken,
        }
    }

    /// The cs-uri-query value as written (before IIS escaping).
    fn query_text(&self) -> String {
        let mut q = String::new();
        for p in &self.query {
            q.push_str(p);
        }
        if let Some(c) = &self.cafe {
            let mut b = Vec::new();
            push_guid(&mut b, c);
            q.push_str("&CorrelationID=<empty>;&cafeReqId=");
            q.push_str(std::str::from_utf8(&b).unwrap_or(""));
            q.push(';');
        }
        if self.encoding {
            q.push_str("&encoding=;");
        }
        q
    }
}

impl Server {
    /// The day an IIS restart left a second header block in both logs.
    fn restart_time(&self) -> i64 {
        self.day_start((self.attack_day + 5) % self.spec.days) + 3 * MS_PER_HOUR + 12 * 60_000 + 7_000
    }

    pub(crate) fn write_iis(&self, site: u8, day: u32, w: &mut dyn Write) -> io::Result<Vec<Mark>> {
        let t_day = self.day_start(day);
        let restart = self.restart_time();
        let mut restarted = !(restart >= t_day && restart < t_day + MS_PER_DAY);
        let mut sink = LineSink::new(w);
        let mut header = false;
        let mut marks = Vec::new();
        let mut reqs = Vec::new();
        let mut statics = Vec::new();
        let mut order: Vec<(i64, u8, u32)> = Vec::new();
        for h in 0..24u32 {
            let hour = day * 24 + h;
            let th = t_day + i64::from(h) * MS_PER_HOUR;
            reqs.clear();
            for p in Protocol::ALL {
                self.hour_requests(p, hour, &mut reqs);
            }
            statics.clear();
            if site == 1 {
                self.iis_static_items(hour, &mut statics);
            }
            let in_hour = |t: i64| t >= th && t < th + MS_PER_HOUR;
            // Lines are built when written, from an index sorted by time: (time, source, index).
            // Sources: 0 benign request, 1 front-end's own line, 2 scenario request, 3 scenario line.
            order.clear();
            for (k, r) in reqs.iter().enumerate() {
                if (site == 1 && r.iis) || (site == 2 && r.on_local_backend()) {
                    order.push((r.t, 0, k as u32));
                }
            }
            order.extend(statics.iter().enumerate().map(|(k, i)| (i.t, 1, k as u32)));
            for (k, s) in self.scenario.proxy.iter().enumerate().filter(|(_, s)| in_hour(s.req.t)) {
                let wanted = if site == 1 { s.iis.is_some() } else { s.backend.is_some() && s.req.on_local_backend() };
                if wanted {
                    order.push((s.req.t, 2, k as u32));
                }
            }
            for (k, s) in self.scenario.iis.iter().enumerate().filter(|(_, s)| s.site == site && in_hour(s.item.t)) {
                order.push((s.item.t, 3, k as u32));
            }
            // IIS logs in request order at one-second resolution; ties keep a fixed order.
            order.sort_unstable();
            for &(_, source, k) in &order {
                let k = k as usize;
                let side = |r| if site == 1 { IisItem::front(r) } else { IisItem::back(r, &self.ip) };
                let (item, expect): (IisItem, Option<(Expect, &str)>) = match source {
                    0 => (side(&reqs[k]), None),
                    1 => (statics[k].view(), None),
                    2 => {
                        let s = &self.scenario.proxy[k];
                        let e = if site == 1 { s.iis } else { s.backend };
                        let note = s.iis_note.as_deref().unwrap_or(&s.note);
                        (side(&s.req), e.map(|e| (e, note)))
                    }
                    _ => {
                        let s = &self.scenario.iis[k];
                        (s.item.view(), Some((s.expect, s.note.as_str())))
                    }
                };
                let item = &item;
                if !header {
                    self.push_iis_header(&mut sink, item.t)?;
                    header = true;
                }
                if !restarted && item.t >= restart {
                    // After an application pool / IIS restart the log gets a fresh header block.
                    self.push_iis_header(&mut sink, item.t)?;
                    restarted = true;
                }
                self.push_iis_line(&mut sink.buf, item);
                let line = sink.emit()?;
                let check = expect.is_some() || cfg!(debug_assertions);
                let rules = if check {
                    oracle::iis(&item.method, &item.stem, &item.query_text(), &item.ua, item.status)
                } else {
                    Vec::new()
                };
                match expect {
                    Some((e, note)) => marks.extend(mark(e, rules, Some(line), None, note)),
                    None => debug_assert!(
                        rules.is_empty(),
                        "benign IIS line fires {rules:?}: {} {}",
                        item.method,
                        item.stem
                    ),
                }
            }
        }
        if !header {
            self.push_iis_header(&mut sink, t_day)?;
        }
        Ok(marks)
    }

    fn push_iis_header(&self, sink: &mut LineSink, t: i64) -> io::Result<()> {
        sink.emit_str("#Software: Microsoft Internet Information Services 8.5")?;
        sink.emit_str("#Version: 1.0")?;
        sink.buf.extend_from_slice(b"#Date: ");
        push_iis_time(&mut sink.buf, t);
        sink.emit()?;
        sink.buf.extend_from_slice(b"#Fields: ");
        sink.buf.extend_from_slice(IIS_FIELDS.as_bytes());
        sink.emit()?;
        Ok(())
    }

    /// Formats one line into `b`.
    fn push_iis_line(&self, b: &mut Vec<u8>, i: &IisItem) {
        push_iis_time(b, i.t);
        b.push(b' ');
        b.extend_from_slice(self.ip.as_bytes());
        b.push(b' ');
        push_iis(b, &i.method);
        b.push(b' ');
        push_iis(b, &i.stem);
        b.push(b' ');
        let start = b.len();
        for p in i.query.iter().filter(|p| !p.is_empty()) {
            push_iis(b, p);
        }
        if let Some(c) = &i.cafe {
            b.extend_from_slice(b"&CorrelationID=<empty>;&cafeReqId=");
            push_guid(b, c);
            b.push(b';');
        }
        if i.encoding {
            b.extend_from_slice(b"&encoding=;");
        }
        if b.len() == start {
            b.push(b'-');
        }
        b.push(b' ');
        push_u64(b, u64::from(i.port));
        b.push(b' ');
        push_iis(b, &i.user);
        b.push(b' ');
        push_iis(b, &i.ip);
        b.push(b' ');
        push_iis(b, &i.ua);
        b.push(b' ');
        push_iis(b, &i.referer);
        b.push(b' ');
        push_u64(b, u64::from(i.status));
        b.push(b' ');
        push_u64(b, u64::from(i.substatus));
        b.push(b' ');
        push_u64(b, u64::from(i.win32));
        b.push(b' ');
        push_u64(b, u64::from(i.time_taken));
    }

    /// What the front end answers itself in one hour: load-balancer health checks, OWA logon
    /// page resources, and internet noise.
    fn iis_static_items<'a>(&'a self, hour: u32, out: &mut Vec<IisItem<'a>>) {
        let th = self.t0 + i64::from(hour) * MS_PER_HOUR;
        let mut rng = Rng::stream(self.spec.seed, &[5, u64::from(hour)]);
        let scale = self.spec.scale.max(0.0);
        let blank = |t: i64, stem: &'a str| IisItem {
            t,
            method: Cow::Borrowed("GET"),
            stem: Cow::Borrowed(stem),
            query: [Cow::Borrowed(""), Cow::Borrowed(""), Cow::Borrowed("")],
            cafe: None,
            encoding: false,
            port: 443,
            user: Cow::Borrowed(""),
            ip: Cow::Borrowed(""),
            ua: Cow::Borrowed(""),
            referer: Cow::Borrowed(""),
            status: 200,
            substatus: 0,
            win32: 0,
            time_taken: 0,
        };
        // Two load balancers check every virtual directory.
        for _ in 0..rng.round(40.0 * scale) {
            let mut i = blank(th + rng.below(MS_PER_HOUR as u64) as i64, rng.pick_str(LB_PATHS));
            i.ip = Cow::Borrowed(&self.lb_ips[rng.below(2) as usize]);
            i.cafe = Some(rng.guid());
            i.time_taken = rng.range(0, 3) as u32;
            out.push(i);
        }
        // OWA forms logons from outside: logon page, its resources, the credential POST.
        for _ in 0..rng.round(6.0 * activity(th) * scale) {
            let u = &self.users[rng.below(self.users.len() as u64) as usize];
            let mut t = th + rng.below(MS_PER_HOUR as u64 - 20_000) as i64;
            let mut page = blank(t, "/owa/auth/logon.aspx");
            page.query = [
                Cow::Borrowed("url=https%3a%2f%2f"),
                Cow::Borrowed(&self.mail_host),
                Cow::Borrowed("%2fowa%2f&reason=0"),
            ];
            page.cafe = Some(rng.guid());
            page.encoding = true;
            page.ip = Cow::Borrowed(&u.remote_ip);
            page.ua = Cow::Borrowed(u.browser_ua);
            page.time_taken = rng.range(5, 40) as u32;
            let referer = Cow::Borrowed(self.owa_referer.as_str());
            out.push(page.clone());
            for path in &self.owa_resources {
                t += rng.range(20, 300) as i64;
                let mut r = page.clone();
                r.t = t;
                r.stem = Cow::Borrowed(path.as_str());
                r.query = [Cow::Borrowed(""), Cow::Borrowed(""), Cow::Borrowed("")];
                r.cafe = None;
                r.encoding = false;
                r.referer = referer.clone();
                r.status = if rng.chance(0.5) { 304 } else { 200 };
                r.time_taken = rng.range(0, 15) as u32;
                out.push(r);
            }
            t += rng.range(3_000, 15_000) as i64;
            let mut post = page.clone();
            post.t = t;
            post.method = Cow::Borrowed("POST");
            post.stem = Cow::Borrowed("/owa/auth.owa");
            post.query = [Cow::Borrowed(""), Cow::Borrowed(""), Cow::Borrowed("")];
            post.cafe = Some(rng.guid());
            post.user = Cow::Borrowed(&u.nt);
            post.referer = Cow::Borrowed(&self.logon_referer);
            post.status = 302;
            post.time_taken = rng.range(8, 60) as u32;
            out.push(post);
        }
        for _ in 0..rng.round(1.5 * scale) {
            let &(method, stem, status) = rng.pick(NOISE);
            let mut i = blank(th + rng.below(MS_PER_HOUR as u64) as i64, stem);
            i.method = Cow::Borrowed(method);
            i.status = status;
            i.ip = Cow::Borrowed(&self.noise_ips[rng.below(self.noise_ips.len() as u64) as usize]);
            i.ua = Cow::Borrowed(rng.pick_str(NOISE_UAS));
            i.cafe = (stem.starts_with("/owa") || stem.starts_with("/Autodiscover")).then(|| rng.guid());
            i.time_taken = rng.range(0, 30) as u32;
            out.push(i);
        }
    }
}
