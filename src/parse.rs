//! Parsers for offsets and durations, shared by every front end.

use std::time::Duration;

/// The largest offset a store can hold: SQLite stores signed 64-bit integers.
pub const MAX_OFFSET: u64 = i64::MAX as u64;

/// Why an offset was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid offset {shown}: {reason}; an offset is a decimal integer from 0 to 9223372036854775807")]
pub struct OffsetError {
    shown: String,
    reason: &'static str,
}

/// Parse an offset: plain decimal digits, 0 to [`MAX_OFFSET`].
///
/// Signs, hexadecimal, fractions, exponents, spaces and empty text are refused.
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
    match input.parse::<u64>() {
        Ok(v) if v <= MAX_OFFSET => Ok(v),
        _ => fail("it is above the limit"),
    }
}

/// Parse a duration such as `5s`, `250ms`, `10m`, `1h30m` or `2days`.
///
/// # Errors
///
/// Returns a message naming the accepted forms.
pub fn parse_duration(input: &str) -> Result<Duration, String> {
    humantime::parse_duration(input.trim()).map_err(|e| {
        format!("invalid duration {input:?}: {e}; use a number with a unit, for example 500ms, 5s, 10m, 1h30m or 2days")
    })
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
        assert!(parse_duration("5").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("soon").is_err());
    }
}
