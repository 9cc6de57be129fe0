//! Reading `head set --from-file` input: NDJSON (the shape `head get -o
//! ndjson` prints), CSV or TSV with a header line (`partition_key,head`),
//! one head a line, validated line by line.

use std::collections::HashMap;
use std::io::BufRead;

use cursorctl::key::PartitionKey;
use cursorctl::parse_offset;
use serde_json::value::RawValue;

use super::input::{invalid, Invalid};
use super::source::Lines;

pub use cursorctl::ops::head_set::{HeadEntry, HeadLine};

/// The fields a head line may have: `partition_key` and `head`, and what a
/// `head get` listing prints beside them.
const KNOWN: &str = "partition_key, head, channel, partition, recorded_at";

/// Where each CSV or TSV column is.
struct Columns {
    count: usize,
    partition_key: usize,
    head: usize,
    channel: Option<usize>,
    partition: Option<usize>,
    tabs: bool,
}

enum Format {
    Ndjson,
    Table(Columns),
}

/// Reads head lines one at a time.
pub struct HeadReader<R> {
    lines: Lines<R>,
    format: Option<Format>,
}

impl<R: BufRead> HeadReader<R> {
    pub fn new(reader: R, name: String) -> Self {
        Self {
            lines: Lines::new(reader, name),
            format: None,
        }
    }

    /// The next non-blank line, or `None` at the end of the input.
    ///
    /// # Errors
    ///
    /// Read failures (exit 2). A CSV header that cannot be used is
    /// returned as the failure of its line, and ends the input.
    pub fn next_line(&mut self) -> cursorctl::ops::OpResult<Option<HeadLine>> {
        loop {
            if !self.lines.advance()? {
                return Ok(None);
            }
            let number = self.lines.number;
            let text = self.lines.text();
            if text.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let Ok(text) = std::str::from_utf8(text) else {
                return Ok(Some((
                    number,
                    Err(invalid(None, "the line is not valid UTF-8")),
                )));
            };
            match &self.format {
                None if text.trim_start().starts_with('{') => {
                    self.format = Some(Format::Ndjson);
                    return Ok(Some((number, parse_json(text))));
                }
                None => match header(text) {
                    Ok(columns) => {
                        self.format = Some(Format::Table(columns));
                    }
                    Err(reason) => {
                        // Nothing after a bad header can be read.
                        while self.lines.advance()? {}
                        return Ok(Some((number, Err(invalid(None, reason)))));
                    }
                },
                Some(Format::Ndjson) => return Ok(Some((number, parse_json(text)))),
                Some(Format::Table(columns)) => {
                    return Ok(Some((number, parse_row(columns, text))));
                }
            }
        }
    }
}

fn split(text: &str, tabs: bool) -> Vec<&str> {
    text.split(if tabs { '\t' } else { ',' })
        .map(|f| {
            let f = f.trim();
            f.strip_prefix('"')
                .and_then(|f| f.strip_suffix('"'))
                .unwrap_or(f)
        })
        .collect()
}

fn header(text: &str) -> Result<Columns, String> {
    let tabs = text.contains('\t');
    let names = split(text, tabs);
    let (mut partition_key, mut head, mut channel, mut partition, mut recorded_at) =
        (None, None, None, None, None);
    for (i, name) in names.iter().enumerate() {
        let slot = match *name {
            "partition_key" => &mut partition_key,
            "head" => &mut head,
            "channel" => &mut channel,
            "partition" => &mut partition,
            "recorded_at" => &mut recorded_at,
            other => {
                return Err(format!(
                    "unknown column {other:?} in the header line (known: {KNOWN}); CSV and TSV input start with a header such as partition_key,head"
                ))
            }
        };
        if slot.replace(i).is_some() {
            return Err(format!("column {name:?} appears twice"));
        }
    }
    Ok(Columns {
        count: names.len(),
        partition_key: partition_key.ok_or("the partition_key column is missing")?,
        head: head.ok_or("the head column is missing")?,
        channel,
        partition,
        tabs,
    })
}

fn parse_row(columns: &Columns, text: &str) -> Result<HeadEntry, Invalid> {
    let fields = split(text, columns.tabs);
    if fields.len() != columns.count {
        return Err(invalid(
            None,
            format!(
                "{} fields where the header has {}",
                fields.len(),
                columns.count
            ),
        ));
    }
    let key = parse_key(fields[columns.partition_key])?;
    let shown = || Some(key.to_string());
    let head =
        parse_offset(fields[columns.head]).map_err(|e| invalid(shown(), format!("head: {e}")))?;
    check_parts(
        &key,
        columns.channel.map(|i| fields[i]),
        columns.partition.map(|i| fields[i]),
    )?;
    Ok(HeadEntry { key, head })
}

fn parse_key(text: &str) -> Result<PartitionKey, Invalid> {
    PartitionKey::parse(text).map_err(|e| invalid(None, format!("partition_key: {e}")))
}

/// A `channel` or `partition` that disagrees with the partition key is
/// refused.
fn check_parts(
    key: &PartitionKey,
    channel: Option<&str>,
    partition: Option<&str>,
) -> Result<(), Invalid> {
    if let Some(c) = channel.filter(|c| *c != key.channel().as_str()) {
        return Err(invalid(
            Some(key.to_string()),
            format!("channel {c:?} does not match partition_key {key}"),
        ));
    }
    if let Some(p) = partition.filter(|p| *p != key.index().to_string()) {
        return Err(invalid(
            Some(key.to_string()),
            format!("partition {p} does not match partition_key {key}"),
        ));
    }
    Ok(())
}

fn json_string(name: &str, value: &RawValue) -> Result<String, String> {
    serde_json::from_str::<String>(value.get())
        .map_err(|_| format!("{name} is {}, not a string", value.get()))
}

fn parse_json(text: &str) -> Result<HeadEntry, Invalid> {
    let fields: HashMap<String, Box<RawValue>> = serde_json::from_str(text).map_err(|e| {
        let message = e.to_string();
        let message = message
            .rsplit_once(" at line ")
            .map_or(message.as_str(), |(head, _)| head);
        invalid(
            None,
            format!("invalid JSON at column {}: {message}", e.column()),
        )
    })?;
    let mut names: Vec<&String> = fields.keys().collect();
    names.sort();
    if let Some(unknown) = names
        .iter()
        .find(|n| !KNOWN.split(", ").any(|k| k == n.as_str()))
    {
        return Err(invalid(
            None,
            format!("unknown field {unknown:?} (known: {KNOWN})"),
        ));
    }
    let key_text = fields
        .get("partition_key")
        .ok_or_else(|| invalid(None, "partition_key is missing"))?;
    let key_text = json_string("partition_key", key_text).map_err(|r| invalid(None, r))?;
    let key = parse_key(&key_text)?;
    let shown = || Some(key.to_string());
    let head = match fields.get("head").map(|v| v.get()) {
        None => return Err(invalid(shown(), "head is missing")),
        Some(t) if t.starts_with('"') => {
            return Err(invalid(
                shown(),
                format!("head is the string {t}; write it as a JSON number"),
            ))
        }
        Some("null") => return Err(invalid(shown(), "head is null")),
        Some(t) => parse_offset(t).map_err(|e| invalid(shown(), format!("head: {e}")))?,
    };
    let channel = fields
        .get("channel")
        .map(|v| json_string("channel", v))
        .transpose()
        .map_err(|r| invalid(shown(), r))?;
    let partition = fields.get("partition").map(|v| v.get().to_owned());
    check_parts(&key, channel.as_deref(), partition.as_deref())?;
    Ok(HeadEntry { key, head })
}

#[cfg(test)]
mod tests {
    use super::*;

    type Read = (u64, Result<(String, u64), String>);

    fn read(input: &str) -> Vec<Read> {
        let mut r = HeadReader::new(input.as_bytes(), "test".to_owned());
        let mut out = Vec::new();
        while let Some((n, line)) = r.next_line().unwrap() {
            out.push((
                n,
                line.map(|e| (e.key.to_string(), e.head))
                    .map_err(|e| e.reason),
            ));
        }
        out
    }

    #[test]
    fn ndjson_and_csv_lines_are_read() {
        let lines = read("{\"partition_key\":\"orders:3\",\"head\":5000}\r\n\n{\"partition_key\":\"orders:4\",\"head\":7,\"recorded_at\":null}\n");
        assert_eq!(lines[0], (1, Ok(("orders:3".to_owned(), 5000))));
        assert_eq!(lines[1], (3, Ok(("orders:4".to_owned(), 7))));
        let lines = read("partition_key,head\norders:3,5000\n");
        assert_eq!(lines, vec![(2, Ok(("orders:3".to_owned(), 5000)))]);
    }

    #[test]
    fn bad_lines_say_why() {
        let lines = read("{\"partition_key\":\"orders:3\",\"haed\":5}\n{\"partition_key\":\"orders:3\",\"head\":-1}\n{\"partition_key\":\"orders:3\",\"head\":\"5\"}\n");
        assert!(lines[0]
            .1
            .as_ref()
            .unwrap_err()
            .contains("unknown field \"haed\""));
        assert!(lines[1].1.as_ref().unwrap_err().contains("head:"));
        assert!(lines[2].1.as_ref().unwrap_err().contains("JSON number"));
        let lines = read("partition_key,hed\norders:3,5\n");
        assert_eq!(lines.len(), 1);
        assert!(lines[0].1.as_ref().unwrap_err().contains("unknown column"));
    }
}
