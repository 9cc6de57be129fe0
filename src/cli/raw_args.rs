//! The one scanner of raw arguments, for what must be known where clap's
//! parse is not there: whether a failed parse is reported as JSON (`-o
//! json`), and the store a shell completion reads (`--db`).

use std::ffi::{OsStr, OsString};

/// The values given to the option `--long` (and `-short`) in `args`, in
/// order: `--long V`, `--long=V`, `-s V`, `-sV` and `-s=V`.
pub fn option_values<'a>(
    args: &'a [OsString],
    long: &'a str,
    short: Option<char>,
) -> impl Iterator<Item = &'a OsStr> + 'a {
    let mut it = args.iter();
    std::iter::from_fn(move || {
        while let Some(arg) = it.next() {
            let Some(text) = arg.to_str() else { continue };
            let is_long = text.strip_prefix("--") == Some(long);
            let is_short =
                short.is_some_and(|s| text.strip_prefix('-') == Some(s.encode_utf8(&mut [0; 4])));
            if is_long || is_short {
                if let Some(value) = it.next() {
                    return Some(value.as_os_str());
                }
                return None;
            }
            let joined = text
                .strip_prefix("--")
                .and_then(|t| t.strip_prefix(long))
                .and_then(|t| t.strip_prefix('='))
                .or_else(|| {
                    let s = short?;
                    let rest = text.strip_prefix('-')?.strip_prefix(s)?;
                    Some(rest.strip_prefix('=').unwrap_or(rest))
                })
                .filter(|v| !v.is_empty());
            if let Some(value) = joined {
                return Some(OsStr::new(value));
            }
        }
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    fn values(list: &[&str], long: &str, short: Option<char>) -> Vec<String> {
        let a = args(list);
        option_values(&a, long, short)
            .map(|v| v.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn every_spelling_of_an_option_is_read() {
        let list = [
            "get",
            "-o",
            "json",
            "--output=tsv",
            "-ondjson",
            "-o=table",
            "--output",
            "value",
        ];
        assert_eq!(
            values(&list, "output", Some('o')),
            ["json", "tsv", "ndjson", "table", "value"]
        );
        assert_eq!(
            values(&["--db", "a.db", "--db=b.db"], "db", None),
            ["a.db", "b.db"]
        );
    }

    #[test]
    fn other_options_and_a_missing_value_give_nothing() {
        assert!(values(&["--dbx", "a", "--output-x=1", "-q"], "db", None).is_empty());
        assert!(values(&["--dry-run", "-o"], "output", Some('o')).is_empty());
        assert!(values(&["--db"], "db", None).is_empty());
        assert!(values(&["--db="], "db", None).is_empty());
    }
}
