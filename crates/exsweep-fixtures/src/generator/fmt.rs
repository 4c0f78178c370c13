//! Allocation-free formatting into a reusable byte buffer: timestamps, integers, GUIDs and the
//! field escaping of Exchange CSV logs and IIS W3C logs. The writers format millions of fields,
//! so nothing here goes through `format!`.

pub(crate) const MS_PER_HOUR: i64 = 3_600_000;
pub(crate) const MS_PER_DAY: i64 = 86_400_000;

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub(crate) fn days_from_civil(y: i32, m: u32, d: u32) -> i64 {
    let y = i64::from(y) - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01.
pub(crate) fn civil_from_days(z: i64) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    ((y + i64::from(m <= 2)) as i32, m, d)
}

/// A UTC instant split into its calendar parts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Civil {
    pub y: i32,
    pub mo: u32,
    pub d: u32,
    pub h: u32,
    pub mi: u32,
    pub s: u32,
    pub ms: u32,
}

pub(crate) fn civil(t_ms: i64) -> Civil {
    let days = t_ms.div_euclid(MS_PER_DAY);
    let rem = t_ms.rem_euclid(MS_PER_DAY);
    let (y, mo, d) = civil_from_days(days);
    let secs = (rem / 1000) as u32;
    Civil { y, mo, d, h: secs / 3600, mi: secs / 60 % 60, s: secs % 60, ms: (rem % 1000) as u32 }
}

/// 0 = Monday .. 6 = Sunday.
pub(crate) fn weekday(t_ms: i64) -> u32 {
    // 1970-01-01 was a Thursday.
    ((t_ms.div_euclid(MS_PER_DAY) + 3).rem_euclid(7)) as u32
}

pub(crate) fn push_u64(buf: &mut Vec<u8>, mut n: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.extend_from_slice(&tmp[i..]);
}

/// `n` zero-padded to `width` digits.
pub(crate) fn push_pad(buf: &mut Vec<u8>, n: u64, width: usize) {
    let mut tmp = [b'0'; 20];
    let mut i = tmp.len();
    let mut n = n;
    while n > 0 {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    let start = (tmp.len() - width).min(i);
    buf.extend_from_slice(&tmp[start..]);
}

fn push_date(buf: &mut Vec<u8>, c: &Civil) {
    push_pad(buf, c.y as u64, 4);
    buf.push(b'-');
    push_pad(buf, c.mo as u64, 2);
    buf.push(b'-');
    push_pad(buf, c.d as u64, 2);
}

fn push_hms(buf: &mut Vec<u8>, c: &Civil) {
    push_pad(buf, c.h as u64, 2);
    buf.push(b':');
    push_pad(buf, c.mi as u64, 2);
    buf.push(b':');
    push_pad(buf, c.s as u64, 2);
}

/// `2021-03-03T06:49:42.162Z` (Exchange logs).
pub(crate) fn push_iso_ms(buf: &mut Vec<u8>, t_ms: i64) {
    let c = civil(t_ms);
    push_date(buf, &c);
    buf.push(b'T');
    push_hms(buf, &c);
    buf.push(b'.');
    push_pad(buf, c.ms as u64, 3);
    buf.push(b'Z');
}

/// `2021-03-03 06:49:42` (IIS logs: date and time fields, and the `#Date:` header).
pub(crate) fn push_iis_time(buf: &mut Vec<u8>, t_ms: i64) {
    let c = civil(t_ms);
    push_date(buf, &c);
    buf.push(b' ');
    push_hms(buf, &c);
}

/// `3/9/2021 10:00:00 AM` (.NET's en-US general date, as some Exchange values carry it).
pub(crate) fn us_datetime(t_ms: i64) -> String {
    let c = civil(t_ms);
    let (h12, ampm) = match c.h {
        0 => (12, "AM"),
        1..=11 => (c.h, "AM"),
        12 => (12, "PM"),
        _ => (c.h - 12, "PM"),
    };
    format!("{}/{}/{} {}:{:02}:{:02} {}", c.mo, c.d, c.y, h12, c.mi, c.s, ampm)
}

/// `yyyyMMdd` plus, when `hour` is set, `HH`.
pub(crate) fn stamp(t_ms: i64, hour: bool) -> String {
    let c = civil(t_ms);
    if hour { format!("{:04}{:02}{:02}{:02}", c.y, c.mo, c.d, c.h) } else { format!("{:04}{:02}{:02}", c.y, c.mo, c.d) }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// `8-4-4-4-12` lowercase hex.
pub(crate) fn push_guid(buf: &mut Vec<u8>, g: &[u8; 16]) {
    for (i, b) in g.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            buf.push(b'-');
        }
        buf.push(HEX[(b >> 4) as usize]);
        buf.push(HEX[(b & 15) as usize]);
    }
}

pub(crate) fn guid_string(g: &[u8; 16]) -> String {
    let mut v = Vec::with_capacity(36);
    push_guid(&mut v, g);
    String::from_utf8(v).unwrap_or_default()
}

/// One field of an Exchange CSV log: wrapped in `"` with inner `"` doubled when it holds a comma,
/// a quote or a line break; as is otherwise (empty stays empty).
pub(crate) fn push_csv(buf: &mut Vec<u8>, s: &str) {
    let b = s.as_bytes();
    if b.iter().any(|&c| matches!(c, b',' | b'"' | b'\r' | b'\n')) {
        buf.push(b'"');
        for &c in b {
            if c == b'"' {
                buf.push(b'"');
            }
            buf.push(c);
        }
        buf.push(b'"');
    } else {
        buf.extend_from_slice(b);
    }
}

/// HttpProxy logs replace the commas of a user agent by spaces instead of quoting it.
pub(crate) fn push_csv_user_agent(buf: &mut Vec<u8>, ua: &str) {
    if ua.bytes().any(|c| matches!(c, b'"' | b'\r' | b'\n')) {
        push_csv(buf, &ua.replace(',', " "));
    } else {
        buf.extend(ua.bytes().map(|c| if c == b',' { b' ' } else { c }));
    }
}

/// One field of an IIS W3C log: spaces become `+`, an empty value is `-`.
pub(crate) fn push_iis(buf: &mut Vec<u8>, s: &str) {
    if s.is_empty() {
        buf.push(b'-');
        return;
    }
    let b = s.as_bytes();
    if b.contains(&b' ') {
        buf.extend(b.iter().map(|&c| if c == b' ' { b'+' } else { c }));
    } else {
        buf.extend_from_slice(b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_round_trip() {
        for days in [-1000i64, 0, 18_689, 18_694, 20_000, 60_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(days_from_civil(2021, 3, 3), 18_689);
        let t = days_from_civil(2021, 3, 3) * MS_PER_DAY + 6 * MS_PER_HOUR + 49 * 60_000 + 42_162;
        let mut b = Vec::new();
        push_iso_ms(&mut b, t);
        assert_eq!(b, b"2021-03-03T06:49:42.162Z");
        b.clear();
        push_iis_time(&mut b, t);
        assert_eq!(b, b"2021-03-03 06:49:42");
        assert_eq!(weekday(t), 2, "2021-03-03 was a Wednesday");
        assert_eq!(stamp(t, true), "2021030306");
        assert_eq!(us_datetime(t + 4 * MS_PER_HOUR), "3/3/2021 10:49:42 AM");
    }

    #[test]
    fn fields() {
        let mut b = Vec::new();
        push_csv(&mut b, "a,\"b\"");
        assert_eq!(b, b"\"a,\"\"b\"\"\"");
        b.clear();
        push_csv_user_agent(&mut b, "Mozilla/5.0 (KHTML, like Gecko)");
        assert_eq!(b, b"Mozilla/5.0 (KHTML  like Gecko)");
        b.clear();
        push_iis(&mut b, "a b");
        push_iis(&mut b, "");
        assert_eq!(b, b"a+b-");
        b.clear();
        push_pad(&mut b, 7, 3);
        push_u64(&mut b, 0);
        push_u64(&mut b, 1234);
        assert_eq!(b, b"00701234");
        let g = [0xABu8; 16];
        assert_eq!(guid_string(&g), "abababab-abab-abab-abab-abababababab");
    }
}
