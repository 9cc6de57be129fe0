//! Value parsers of arguments shared by several commands: offsets, ids,
//! limits and reasons.

use cursorctl::parse_offset;

use super::output;

/// Parse an offset argument (clap value parser).
pub fn offset_arg(s: &str) -> Result<u64, String> {
    parse_offset(s).map_err(|e| e.to_string())
}

/// Parse a whole number from `min` up (clap value parser helper); the
/// messages say the rule, not the parser's words.
fn whole_number(s: &str, what: &str, min: u64, max: u64) -> Result<u64, String> {
    let rule = format!("it is a whole number from {min} to {max}");
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        let why = if s.starts_with('-') {
            "it is negative"
        } else {
            "it is not a whole number"
        };
        return Err(format!(
            "invalid {what} {}: {why}; {rule}",
            output::quote(s)
        ));
    }
    match s.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        Ok(n) if n < min => Err(format!(
            "invalid {what} {}: it is below {min}; {rule}",
            output::quote(s)
        )),
        _ => Err(format!(
            "invalid {what} {}: it is above the limit; {rule}",
            output::quote(s)
        )),
    }
}

/// Parse a change or batch id (clap value parser).
pub fn id_arg(s: &str) -> Result<i64, String> {
    let max = u64::try_from(i64::MAX).unwrap_or(u64::MAX);
    whole_number(s, "id", 1, max).map(|n| i64::try_from(n).unwrap_or(i64::MAX))
}

/// Parse `--limit` (clap value parser).
pub fn limit_arg(s: &str) -> Result<u64, String> {
    whole_number(s, "limit", 1, u64::MAX)
}

/// The longest `--reason`, in characters.
pub const MAX_REASON_CHARS: usize = 1000;

/// Parse a `--reason` (clap value parser): it must say something, in at
/// most [`MAX_REASON_CHARS`] characters.
pub fn reason_arg(s: &str) -> Result<String, String> {
    if s.trim().is_empty() {
        return Err(
            "a reason must have non-blank text, for example --reason 'replay INC-123'".to_owned(),
        );
    }
    let chars = s.chars().count();
    if chars > MAX_REASON_CHARS {
        return Err(format!(
            "the reason is {chars} characters long, above the limit of {MAX_REASON_CHARS}: say why in a line, and point to the rest (a ticket, a document)"
        ));
    }
    Ok(s.to_owned())
}
