//! Parsers for offsets and durations, shared by every front end.

use std::time::Duration;

/// The largest offset a store can hold: SQLite stores signed 64-bit integers.
pub const MAX_OFFSET: u64 = i64::MAX as u64;

/// The longest busy timeout: SQLite takes it in milliseconds as a C `int`
/// (2147483647 ms, about 24.8 days).
pub const MAX_BUSY_TIMEOUT: Duration = Duration::from_millis(i32::MAX as u64);

/// Why an offset was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid offset {shown}: {reason}; an offset is a decimal integer from 0 to 9223372036854775807")]
pub struct OffsetError {
    shown: String,
    reason: &'static str,
}

/// Parse an offset: plain decimal digits, 0 to [`MAX_OFFSET`], without
/// leading zeros (one offset has one spelling, as a partition index does).
///
/// Signs, hexadecimal, fractions, exponents, spaces, leading zeros and
/// empty text are refused.
///
/// # Errors
///
/// Returns [`OffsetError`], whose message names the limit.
pub fn parse_offset(input: &str) -> Result<u64, OffsetError> {
    let fail = |reason| {
        let mut shown: String = input.chars().take(40).collect();
        if shown.len() < input.len() {
            shown.push_str("...");
        }
        Err(OffsetError {
            shown: format!("{shown:?}"),
            reason,
        })
    };
    if input.is_empty() {
        return fail("it is empty");
    }
    if input.starts_with('-') {
        return fail("it is negative");
    }
    if input.starts_with('+') {
        return fail("it has a sign");
    }
    if !input.bytes().all(|b| b.is_ascii_digit()) {
        return fail("it is not a plain decimal integer");
    }
    if input.len() > 1 && input.starts_with('0') {
        return fail("it has leading zeros");
    }
    match input.parse::<u64>() {
        Ok(v) if v <= MAX_OFFSET => Ok(v),
        _ => fail("it is above the limit"),
    }
}

/// The units a duration takes, for messages.
const UNITS: &str =
    "units: ms, s, m (minutes), h, d (days), w (weeks); for example 500ms, 5s, 10m, 1h30m or 2d";

/// Milliseconds per unit; `Err` holds why a unit is refused.
fn unit_ms(unit: &str) -> Result<u64, &'static str> {
    Ok(match unit {
        "ms" | "msec" | "msecs" => 1,
        "s" | "sec" | "secs" | "second" | "seconds" => 1000,
        "m" | "min" | "mins" | "minute" | "minutes" => 60_000,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3_600_000,
        "d" | "day" | "days" => 86_400_000,
        "w" | "week" | "weeks" => 604_800_000,
        "M" => return Err("is ambiguous (m is minutes; for months use days, for example 90d)"),
        "month" | "months" | "y" | "year" | "years" => {
            return Err("is not a unit, as its length varies: use days, for example 90d")
        }
        "ns" | "nsec" | "us" | "usec" => return Err("is finer than ms, the smallest unit"),
        _ => return Err("is not a unit"),
    })
}

/// Parse a duration such as `5s`, `250ms`, `10m` (minutes), `1h30m` or
/// `2d`: numbers each followed by a unit (`ms`, `s`, `m`, `h`, `d`, `w`, or
/// their long forms such as `minutes` and `days`). `M`, months and years are
/// refused: `5M` would read as minutes to some and months to others.
///
/// # Errors
///
/// Returns a message naming the value, what is wrong and the accepted units.
pub fn parse_duration(input: &str) -> Result<Duration, String> {
    let bad = |why: String| format!("invalid duration {input:?}: {why}; {UNITS}");
    let text = input.trim();
    if text.is_empty() {
        return Err(bad("it is empty".to_owned()));
    }
    let mut total: u64 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(bad(format!("expected a number at {rest:?}")));
        }
        let (number, after) = rest.split_at(digits);
        let letters = after.bytes().take_while(u8::is_ascii_alphabetic).count();
        let (unit, after) = after.split_at(letters);
        if unit.is_empty() {
            return Err(bad(format!("the number {number} has no unit")));
        }
        let ms = unit_ms(unit).map_err(|why| bad(format!("{unit:?} {why}")))?;
        let part = number
            .parse::<u64>()
            .ok()
            .and_then(|n| n.checked_mul(ms))
            .and_then(|n| total.checked_add(n))
            .ok_or_else(|| bad("it is too long".to_owned()))?;
        total = part;
        rest = after.trim_start();
    }
    Ok(Duration::from_millis(total))
}

/// Parse a busy timeout: a duration up to [`MAX_BUSY_TIMEOUT`].
///
/// # Errors
///
/// Returns a message naming the value and the limit.
pub fn parse_busy_timeout(input: &str) -> Result<Duration, String> {
    let d = parse_duration(input)?;
    if d > MAX_BUSY_TIMEOUT {
        return Err(format!(
            "busy timeout {input:?} is above the limit 2147483647ms (24d20h31m23s647ms), the longest SQLite waits"
        ));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets() {
        assert_eq!(parse_offset("0"), Ok(0));
        assert_eq!(parse_offset("42"), Ok(42));
        assert_eq!(parse_offset("9223372036854775807"), Ok(MAX_OFFSET));
        for bad in [
            "",
            "-1",
            "+1",
            "0x10",
            "1.5",
            "1e3",
            " 1",
            "1 ",
            "9223372036854775808",
            "18446744073709551616",
            "abc",
            "0150",
            "00",
        ] {
            let err = parse_offset(bad).unwrap_err();
            assert!(
                err.to_string().contains("9223372036854775807"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("1h 30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("2days"), Ok(Duration::from_secs(172_800)));
        assert_eq!(parse_duration("1w"), Ok(Duration::from_secs(604_800)));
        for bad in [
            "5",
            "",
            "soon",
            "5M",
            "1y",
            "3months",
            "5us",
            "m5",
            "99999999999999999999d",
        ] {
            let err = parse_duration(bad).unwrap_err();
            assert!(err.contains("units: ms, s, m (minutes)"), "{bad}: {err}");
        }
        assert!(parse_duration("5M").unwrap_err().contains("ambiguous"));
    }

    #[test]
    fn busy_timeouts_stop_at_what_sqlite_takes() {
        assert_eq!(
            parse_busy_timeout("2147483647ms"),
            Ok(Duration::from_millis(2_147_483_647))
        );
        assert!(parse_busy_timeout("24d").is_ok());
        for bad in ["2147483648ms", "25d", "25days", "4w"] {
            let err = parse_busy_timeout(bad).unwrap_err();
            assert!(err.contains("2147483647ms"), "{bad}: {err}");
        }
    }
}
