//! Minimal civil-time arithmetic: event timestamps to milliseconds since the Unix epoch.

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// ISO-8601 week number (1..=53).
pub fn iso_week(y: i64, m: u32, d: u32) -> i64 {
    let days = days_from_civil(y, m, d);
    let weekday = (days + 3).rem_euclid(7) + 1; // Monday = 1
    let ordinal = days - days_from_civil(y, 1, 1) + 1;
    let w = (ordinal - weekday + 10) / 7;
    let weeks_in = |year: i64| {
        let jan1 = (days_from_civil(year, 1, 1) + 3).rem_euclid(7) + 1;
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        if jan1 == 4 || (leap && jan1 == 3) {
            53
        } else {
            52
        }
    };
    if w < 1 {
        weeks_in(y - 1)
    } else if w > weeks_in(y) {
        1
    } else {
        w
    }
}

/// Parses `YYYY-MM-DD[T ]HH:MM:SS[.fff…][Z|±HH:MM]` (or a date alone, or epoch seconds/milliseconds as a number)
/// into milliseconds since the epoch.
pub fn parse_timestamp_ms(s: &str) -> Option<i64> {
    let t = s.trim();
    if !t.is_empty() && t.bytes().all(|c| c.is_ascii_digit() || c == b'.') {
        let v: f64 = t.parse().ok()?;
        // Heuristic: values above 10^11 are milliseconds.
        return Some(if v > 1e11 { v as i64 } else { (v * 1000.0) as i64 });
    }
    let b = t.as_bytes();
    let num = |a: usize, e: usize| -> Option<i64> {
        let x = t.get(a..e)?;
        if x.bytes().all(|c| c.is_ascii_digit()) {
            x.parse().ok()
        } else {
            None
        }
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, mo, d) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    let mut ms = days_from_civil(y, mo as u32, d as u32) * 86_400_000;
    if b.len() >= 19 && (b[10] == b'T' || b[10] == b' ' || b[10] == b't') {
        let (h, mi, se) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
        ms += ((h * 60 + mi) * 60 + se) * 1000;
        let mut i = 19;
        if b.get(i) == Some(&b'.') {
            i += 1;
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            let frac = &t[start..i];
            let mut millis = 0i64;
            for (k, c) in frac.bytes().take(3).enumerate() {
                millis += (c - b'0') as i64 * [100, 10, 1][k];
            }
            ms += millis;
        }
        match b.get(i) {
            Some(b'+') | Some(b'-') => {
                let sign = if b[i] == b'+' { 1 } else { -1 };
                let oh = num(i + 1, i + 3)?;
                let om = if b.get(i + 3) == Some(&b':') {
                    num(i + 4, i + 6)?
                } else {
                    num(i + 3, i + 5).unwrap_or(0)
                };
                ms -= sign * (oh * 60 + om) * 60_000;
            }
            _ => {}
        }
    }
    Some(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(parse_timestamp_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_timestamp_ms("2019-08-14T14:06:44.495674Z"),
            Some(1_565_791_604_495)
        );
        assert_eq!(
            parse_timestamp_ms("2019-08-14 16:06:44.495+02:00"),
            Some(1_565_791_604_495)
        );
        assert_eq!(parse_timestamp_ms("nope"), None);
        assert_eq!(iso_week(2021, 1, 3), 53);
        assert_eq!(iso_week(2024, 1, 1), 1);
        assert_eq!(iso_week(2024, 12, 30), 1);
    }
}
