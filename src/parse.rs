//! Parsers for offsets and durations, shared by every front end.

use std::time::Duration;

/// The largest offset a store can hold: SQLite stores signed 64-bit integers.
pub const MAX_OFFSET: u64 = i64::MAX as u64;

/// The longest duration: 36500 days (about 100 years). Every duration
/// taken is at most this, so that time arithmetic with it (a time that
/// long ago, a deadline that far ahead) cannot overflow.
pub const MAX_DURATION: Duration = Duration::from_millis(36_500 * 86_400_000);

/// An input quoted for a message: its first 40 characters, with `...`
/// when cut, with control characters escaped.
fn shown(input: &str) -> String {
    let mut shown: String = input.chars().take(40).collect();
    if shown.len() < input.len() {
        shown.push_str("...");
    }
    format!("{shown:?}")
}

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
        Err(OffsetError {
            shown: shown(input),
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
    "units: ms, s, m (minutes), h, d (days), w (weeks); for example 500ms, 1.5s, 10m, 1h30m or 2d";

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

/// Parse a duration such as `5s`, `250ms`, `1.5s`, `10m` (minutes),
/// `1h30m` or `2d`: numbers (whole, or with a decimal fraction) each
/// followed by a unit (`ms`, `s`, `m`, `h`, `d`, `w`, or their long forms
/// such as `minutes` and `days`), at most [`MAX_DURATION`]. The total is
/// whole milliseconds: a fraction finer than that (`0.5ms`) is refused.
/// `M`, months and years are refused: `5M` would read as minutes to some
/// and months to others.
///
/// # Errors
///
/// Returns a message naming the value, what is wrong and the accepted units.
pub fn parse_duration(input: &str) -> Result<Duration, String> {
    let bad = |why: String| format!("invalid duration {}: {why}; {UNITS}", shown(input));
    let text = input.trim();
    if text.is_empty() {
        return Err(bad("it is empty".to_owned()));
    }
    let max_ms = MAX_DURATION.as_millis();
    let too_long =
        || bad("it is longer than 36500d (about 100 years), the longest duration taken".to_owned());
    let mut total: u128 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(bad(format!("expected a number at {}", shown(rest))));
        }
        let (whole, after) = rest.split_at(digits);
        let (fraction, after) = match after.strip_prefix('.') {
            Some(tail) => {
                let n = tail.bytes().take_while(u8::is_ascii_digit).count();
                if n == 0 {
                    return Err(bad(format!(
                        "the number {} has no digits after the point",
                        shown(&format!("{whole}."))
                    )));
                }
                tail.split_at(n)
            }
            None => ("", after),
        };
        let number = &rest[..rest.len() - after.len()];
        let letters = after.bytes().take_while(u8::is_ascii_alphabetic).count();
        let (unit, after) = after.split_at(letters);
        if unit.is_empty() {
            return Err(bad(format!("the number {} has no unit", shown(number))));
        }
        let ms = u128::from(unit_ms(unit).map_err(|why| bad(format!("{} {why}", shown(unit))))?);
        // Past the longest duration already: no need to read more digits.
        let whole: u128 = if whole.len() > 20 {
            return Err(too_long());
        } else {
            whole.parse().map_err(|_| too_long())?
        };
        // A fraction: its first 12 digits count (a week is 6.048e8 ms:
        // finer digits cannot make whole milliseconds); the rest must be 0.
        let (kept, dropped) = fraction.split_at(fraction.len().min(12));
        let scale = 10u128.pow(u32::try_from(kept.len()).unwrap_or(12));
        let part: u128 = kept.parse().unwrap_or(0);
        if (part * ms) % scale != 0 || dropped.bytes().any(|b| b != b'0') {
            return Err(bad(format!(
                "{} is not a whole number of milliseconds, the finest a duration takes",
                shown(&format!("{number}{unit}"))
            )));
        }
        total += whole * ms + part * ms / scale;
        if total > max_ms {
            return Err(too_long());
        }
        rest = after.trim_start();
    }
    let ms = u64::try_from(total).map_err(|_| too_long())?;
    Ok(Duration::from_millis(ms))
}

/// Parse an interval between two reads (`get --watch=INTERVAL`): a
/// duration of at least 1ms (`0s` would read without pause).
///
/// # Errors
///
/// Returns a message naming the value and why.
pub fn parse_interval(input: &str) -> Result<Duration, String> {
    let d = parse_duration(input)?;
    if d.is_zero() {
        return Err(format!(
            "invalid interval {}: it is zero, which would read the store without pause; use at least 1ms, for example 500ms or 2s",
            shown(input)
        ));
    }
    Ok(d)
}

/// A time in milliseconds since the Unix epoch as RFC 3339 in UTC with
/// milliseconds (`2024-05-01T12:00:00.000Z`); a time before 1970 as its
/// milliseconds (`-5ms`).
#[must_use]
pub fn format_time_ms(ms: i64) -> String {
    let Ok(ms) = u64::try_from(ms) else {
        return format!("{ms}ms");
    };
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms);
    humantime::format_rfc3339_millis(t).to_string()
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
    fn fractional_durations_are_whole_milliseconds() {
        assert_eq!(parse_duration("0.5s"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("1.25h"), Ok(Duration::from_secs(4500)));
        assert_eq!(parse_duration("0.001s"), Ok(Duration::from_millis(1)));
        assert_eq!(
            parse_duration("1.5000000000000000s"),
            Ok(Duration::from_millis(1500))
        );
        assert_eq!(parse_duration("1h 0.5m"), Ok(Duration::from_secs(3630)));
        for bad in ["0.5ms", "0.0001s", "1.00000000000001s"] {
            let err = parse_duration(bad).unwrap_err();
            assert!(
                err.contains("not a whole number of milliseconds"),
                "{bad}: {err}"
            );
        }
        for bad in ["1.s", ".5s", "1.5"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn durations_stop_at_the_longest() {
        assert_eq!(parse_duration("36500d"), Ok(MAX_DURATION));
        for bad in [
            "36501d",
            "36500d1ms",
            "18446744073709551615ms",
            "99999999999999999999999999d",
        ] {
            let err = parse_duration(bad).unwrap_err();
            assert!(err.contains("36500d"), "{bad}: {err}");
        }
        let long = "1".repeat(60_000) + "s";
        assert!(parse_duration(&long).unwrap_err().len() < 400);
    }

    #[test]
    fn an_interval_is_not_zero() {
        assert_eq!(parse_interval("0.5s"), Ok(Duration::from_millis(500)));
        for zero in ["0s", "0ms", "0.0s", "0h0m"] {
            assert!(parse_interval(zero).unwrap_err().contains("zero"), "{zero}");
        }
    }
}
