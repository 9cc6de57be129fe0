//! Reading `set --from-file` input: every listing format cursorctl writes
//! (NDJSON, a JSON array, TSV) and CSV, one cursor a record, streamed and
//! validated record by record.

use std::borrow::Cow;
use std::io::BufRead;

use cursorctl::key::{ConsumerId, CursorKey, PartitionKey};
use cursorctl::parse_offset;

use super::json_records::JsonScan;
use super::output::{escape_text, quote, SHOWN_BYTES};
use super::source::Lines;
use cursorctl::ops::{OpError, OpResult, Refusal};

mod json_line;

pub use json_line::parse_json_line;

/// The format of bulk input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum InputFormat {
    /// One JSON object a line (the shape `get -o ndjson` prints).
    Ndjson,
    /// A JSON array of objects (the shape `get -o json` prints), or objects
    /// one after another in any layout (as `jq` pretty-prints them).
    Json,
    /// Comma-separated values with a header line.
    Csv,
    /// Tab-separated values with a header line (the shape `get -o tsv`
    /// prints).
    Tsv,
}

/// One valid input line.
///
/// A line that says its cursor does not exist (`exists` false, as `get`
/// prints a cursor that is not there) with offset 0 and no `expect` but 0
/// asks for nothing: it is read past, as a blank line is (see
/// [`LineReader::next_line`]). With any other offset it is a cursor to
/// create, and needs `--create` as any new cursor does.
#[derive(Debug)]
pub struct Entry {
    pub key: CursorKey,
    pub offset: u64,
    /// The offset the compare-and-swap expects, if the line gives one.
    pub expect: Option<u64>,
    /// Whether the cursor existed when it was listed (`exists`), if the
    /// line says.
    pub exists: Option<bool>,
}

impl Entry {
    /// Whether the line asks for nothing: a cursor listed as absent, at
    /// offset 0, with no `expect` but 0 (see [`Entry`]).
    pub fn asks_nothing(&self) -> bool {
        self.exists == Some(false) && self.offset == 0 && self.expect.unwrap_or(0) == 0
    }
}

pub use cursorctl::ops::bulk::Invalid;

/// A refused line; a key longer than any valid key (as a line may hold)
/// is shown cut, with its length (see [`quote`]).
pub(crate) fn invalid(key: Option<String>, reason: impl Into<String>) -> Invalid {
    Invalid {
        key: key.map(|k| {
            if k.len() > MAX_KEY_BYTES {
                quote(&k)
            } else {
                k
            }
        }),
        reason: reason.into(),
    }
}

/// The longest valid cursor key, in bytes: two names and an index.
const MAX_KEY_BYTES: usize = 2 * cursorctl::key::MAX_NAME_BYTES + 2 + 10;

/// The fields of an input record: what `set --from-file` reads.
pub const INPUT_FIELDS: &[&str] = &[
    "key",
    "consumer",
    "partition_key",
    "channel",
    "partition",
    "offset",
    "expect",
];

/// The fields a cursor record of `get` carries beside the input fields,
/// which say nothing about the move and are read past: `exists` (a line
/// whose cursor did not exist, see [`Entry`]), `updated_at`, and those of
/// the heads, lag and leases `get` shows.
pub const LISTING_FIELDS: &[&str] = &[
    "exists",
    "updated_at",
    "head",
    "lag",
    "owner",
    "lease_expires_at",
    "status",
    "since",
];

/// Why an unknown field or column is refused (a misspelt `expect` would
/// silently drop the guard), with the known field it most likely meant.
fn unknown_field(what: &str, name: &str) -> String {
    let meant = INPUT_FIELDS
        .iter()
        .chain(LISTING_FIELDS)
        .find(|known| near(name, known));
    let mut text = format!("unknown {what} {}", quote(name));
    if let Some(known) = meant {
        text.push_str(&format!(" (did you mean {known}?)"));
    }
    text.push_str(&format!(
        "; the {what}s read are {}, and those of a `get` listing ({}) are read past",
        INPUT_FIELDS.join(", "),
        LISTING_FIELDS.join(", ")
    ));
    text
}

/// Whether `name` is `known` in another case, or one or two edits away.
fn near(name: &str, known: &str) -> bool {
    if name.len() > 64 {
        return false;
    }
    let (a, b): (Vec<char>, Vec<char>) = (
        name.to_lowercase().chars().collect(),
        known.chars().collect(),
    );
    // Levenshtein distance, two rows.
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut row = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            row[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(row[j] + 1);
        }
        prev = row;
    }
    prev[b.len()] <= 2
}

/// One non-blank input line: its number (1-based) and what it holds.
pub type Line = (u64, Result<Entry, Invalid>);

/// Where each CSV or TSV column is.
#[derive(Debug)]
struct CsvColumns {
    count: usize,
    consumer: Option<usize>,
    partition_key: Option<usize>,
    key: Option<usize>,
    channel: Option<usize>,
    partition: Option<usize>,
    offset: usize,
    expect: Option<usize>,
    exists: Option<usize>,
    /// Tabs (TSV) or commas (CSV).
    tabs: bool,
}

/// Reads input lines one at a time into a reused buffer.
pub struct LineReader<R> {
    lines: Lines<R>,
    format: Option<InputFormat>,
    csv: Option<CsvColumns>,
    fields: Vec<(usize, usize, bool)>,
    array: JsonScan,
}

impl<R: BufRead> LineReader<R> {
    /// Read `reader`; with `format` `None` the format is detected from the
    /// first non-blank line (`{` means NDJSON, anything else a CSV header).
    pub fn new(reader: R, format: Option<InputFormat>) -> Self {
        Self {
            lines: Lines::new(reader, "the input".to_owned()),
            format,
            csv: None,
            fields: Vec::new(),
            array: JsonScan::default(),
        }
    }

    /// Name the input in read errors (`--from-file moves.csv`).
    #[must_use]
    pub fn named(mut self, name: String) -> Self {
        self.lines.name = name;
        self
    }

    /// Bytes read so far.
    pub const fn bytes_read(&self) -> u64 {
        self.lines.bytes
    }

    /// The next non-blank line, or `None` at the end of the input. A line
    /// that asks for nothing (a cursor listed as absent, at offset 0: see
    /// [`Entry`]) is read past, as a blank line is.
    ///
    /// # Errors
    ///
    /// Read failures, and a CSV header that cannot be used (exit 2).
    pub fn next_line(&mut self) -> OpResult<Option<Line>> {
        if self.format == Some(InputFormat::Json) {
            return self.next_element();
        }
        loop {
            if !self.lines.advance()? {
                return Ok(None);
            }
            let line = self.lines.text();
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let format = *self.format.get_or_insert_with(|| detect(line));
            let parsed = match format {
                InputFormat::Ndjson => parse_json_line(line),
                InputFormat::Json => {
                    // Detected on this line: scan it from its start.
                    self.array.pos = self.bom_len();
                    return self.next_element();
                }
                InputFormat::Csv | InputFormat::Tsv if self.csv.is_none() => {
                    let tabs = format == InputFormat::Tsv;
                    self.csv = Some(csv_header(line, self.lines.number, tabs)?);
                    continue;
                }
                InputFormat::Csv | InputFormat::Tsv => {
                    parse_csv_line(self.csv.as_ref(), &mut self.fields, line)
                }
            };
            if parsed.as_ref().is_ok_and(Entry::asks_nothing) {
                continue;
            }
            return Ok(Some((self.lines.number, parsed)));
        }
    }

    /// The next element of a JSON array, scanned from where the last one
    /// ended (several may share a line; one may span many).
    fn next_element(&mut self) -> OpResult<Option<Line>> {
        loop {
            if self.array.broken {
                return Ok(None);
            }
            if self.array.pos >= self.lines.buf.len() {
                if !self.lines.advance()? {
                    return Ok(self.array.end(self.lines.number));
                }
                self.array.pos = self.bom_len();
            }
            if let Some(found) = self.array.scan(&self.lines.buf, self.lines.number) {
                if found.1.as_ref().is_ok_and(Entry::asks_nothing) {
                    continue;
                }
                return Ok(Some(found));
            }
        }
    }

    /// The length of a byte order mark at the start of the input.
    fn bom_len(&self) -> usize {
        if self.lines.number == 1 && self.lines.buf.starts_with(b"\xef\xbb\xbf") {
            3
        } else {
            0
        }
    }
}

fn parse_csv_line(
    cols: Option<&CsvColumns>,
    fields: &mut Vec<(usize, usize, bool)>,
    line: &[u8],
) -> Result<Entry, Invalid> {
    let cols = cols.expect("the header is read first");
    let line =
        std::str::from_utf8(line).map_err(|_| invalid(None, "the line is not valid UTF-8"))?;
    if cols.tabs {
        split_tsv(line, fields);
    } else {
        split_csv(line, fields).map_err(|r| invalid(None, r))?;
    }
    if fields.len() != cols.count {
        return Err(invalid(
            None,
            format!(
                "expected {} fields as in the header, found {}",
                cols.count,
                fields.len()
            ),
        ));
    }
    let fields = &*fields;
    let text = |i: usize| -> Cow<'_, str> {
        let (start, end, quoted) = fields[i];
        let raw = &line[start..end];
        if cols.tabs && raw.contains('\\') {
            Cow::Owned(tsv_unescape(raw))
        } else if quoted && raw.contains("\"\"") {
            Cow::Owned(raw.replace("\"\"", "\""))
        } else {
            Cow::Borrowed(raw)
        }
    };
    let key = build_key(
        cols.consumer.map(text).as_deref(),
        cols.partition_key.map(text).as_deref(),
        cols.key.map(text).as_deref(),
    )?;
    let shown = || Some(key.to_string());
    check_parts(
        &key,
        cols.channel.map(text).as_deref(),
        cols.partition.map(text).as_deref(),
    )?;
    let offset =
        parse_offset(&text(cols.offset)).map_err(|e| invalid(shown(), format!("offset: {e}")))?;
    let expect = match cols.expect.map(text) {
        None => None,
        Some(t) if t.is_empty() => None,
        Some(t) => Some(parse_offset(&t).map_err(|e| invalid(shown(), format!("expect: {e}")))?),
    };
    let exists = exists_of(cols.exists.map(text).as_deref()).map_err(|r| invalid(shown(), r))?;
    Ok(Entry {
        key,
        offset,
        expect,
        exists,
    })
}

/// The format, from the first non-blank line: `{` starts NDJSON (a `{`
/// alone, a pretty-printed object), `[` a JSON array, a header with a tab
/// TSV, anything else CSV.
fn detect(line: &[u8]) -> InputFormat {
    match line.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') if line.trim_ascii() == b"{" => InputFormat::Json,
        Some(b'{') => InputFormat::Ndjson,
        Some(b'[') => InputFormat::Json,
        _ if line.contains(&b'\t') => InputFormat::Tsv,
        _ => InputFormat::Csv,
    }
}

/// A `channel` or `partition` field must agree with the key: an edit to
/// one and not the other must not silently write to the key alone.
fn check_parts(
    key: &CursorKey,
    channel: Option<&str>,
    partition: Option<&str>,
) -> Result<(), Invalid> {
    let pk = key.partition_key();
    let disagree = |field: &str, value: &str| {
        Err(invalid(
            Some(key.to_string()),
            format!(
                "{field} {value} does not match the partition key {pk}; change both, or drop the {field} field"
            ),
        ))
    };
    if let Some(c) = channel {
        if c != pk.channel().as_str() {
            return disagree("channel", &format!("{c:?}"));
        }
    }
    if let Some(p) = partition {
        if p != itoa::Buffer::new().format(pk.index()) {
            return disagree("partition", p);
        }
    }
    Ok(())
}

/// The cursor key from `consumer` + `partition_key`, or from `key`; when all
/// three are given they must agree.
fn build_key(
    consumer: Option<&str>,
    partition_key: Option<&str>,
    key: Option<&str>,
) -> Result<CursorKey, Invalid> {
    // The key as the line gives it, for an error (only then built).
    let shown = || match (consumer, partition_key, key) {
        (Some(c), Some(p), _) => Some(format!("{c}:{p}")),
        (_, _, Some(k)) => Some(k.to_owned()),
        _ => None,
    };
    let invalid = |reason: String| invalid(shown(), reason);
    let parsed = match (consumer, partition_key) {
        (Some(c), Some(p)) => {
            let consumer = ConsumerId::new(c).map_err(|e| invalid(e.to_string()))?;
            let pk = PartitionKey::parse(p).map_err(|e| invalid(e.to_string()))?;
            CursorKey::new(consumer, pk)
        }
        (None, None) => match key {
            Some(k) => CursorKey::parse(k).map_err(|e| invalid(e.to_string()))?,
            None => {
                return Err(invalid(
                    "needs consumer and partition_key (or key)".to_owned(),
                ))
            }
        },
        (None, Some(_)) => return Err(invalid("consumer is missing".to_owned())),
        (Some(_), None) => return Err(invalid("partition_key is missing".to_owned())),
    };
    if let (Some(k), Some(_), Some(_)) = (key, consumer, partition_key) {
        if parsed.to_string() != k {
            return Err(invalid(format!(
                "key {k:?} does not match consumer and partition_key ({parsed})"
            )));
        }
    }
    Ok(parsed)
}

/// A raw value as a message shows it: cut to its first bytes, with its
/// length, when long; control characters escaped.
fn cut(text: &str) -> String {
    let mut end = text.len().min(SHOWN_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let shown = escape_text(&text[..end], false, &[]);
    if end < text.len() {
        format!("{shown}... ({} bytes)", text.len())
    } else {
        shown.into_owned()
    }
}

/// Whether the cursor of a line existed when it was listed: the `exists`
/// field (`None`: not given).
fn exists_of(text: Option<&str>) -> Result<Option<bool>, String> {
    match text {
        None | Some("") => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(other) => Err(format!(
            "exists is {}, not true or false (as `get` prints it)",
            cut(other)
        )),
    }
}

/// Split one TSV line into `(start, end, false)` field spans.
fn split_tsv(line: &str, out: &mut Vec<(usize, usize, bool)>) {
    out.clear();
    let mut start = 0;
    for (i, b) in line.bytes().enumerate() {
        if b == b'\t' {
            out.push((start, i, false));
            start = i + 1;
        }
    }
    out.push((start, line.len(), false));
}

/// Undo the escapes `-o tsv` writes: `\t`, `\n`, `\r`, `\\`, `\e`,
/// `\xHH` and `\u{H...}` (an escape that does not decode is kept as it
/// is).
fn tsv_unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let code = |hex: &str| u32::from_str_radix(hex, 16).ok().and_then(char::from_u32);
        let (decoded, used) = match after.as_bytes().first() {
            Some(b't') => (Some('\t'), 1),
            Some(b'n') => (Some('\n'), 1),
            Some(b'r') => (Some('\r'), 1),
            Some(b'e') => (Some('\u{1b}'), 1),
            Some(b'\\') => (Some('\\'), 1),
            Some(b'x') if after.len() >= 3 && after.is_char_boundary(3) => (code(&after[1..3]), 3),
            Some(b'u') if after.starts_with("u{") => match after.find('}') {
                Some(close) if close <= 8 => (code(&after[2..close]), close + 1),
                _ => (None, 0),
            },
            _ => (None, 0),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &after[used..];
            }
            None => {
                out.push('\\');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Split one CSV line into `(start, end, quoted)` field spans. Quoted fields
/// may hold commas and doubled quotes; a line never holds a newline (keys
/// cannot contain control characters).
fn split_csv(line: &str, out: &mut Vec<(usize, usize, bool)>) -> Result<(), String> {
    out.clear();
    let bytes = line.as_bytes();
    let mut i = 0;
    loop {
        if bytes.get(i) == Some(&b'"') {
            let start = i + 1;
            let mut j = start;
            loop {
                match bytes.get(j) {
                    None => return Err("a quoted field is not closed".to_owned()),
                    Some(b'"') if bytes.get(j + 1) == Some(&b'"') => j += 2,
                    Some(b'"') => break,
                    Some(_) => j += 1,
                }
            }
            out.push((start, j, true));
            i = j + 1;
            match bytes.get(i) {
                None => return Ok(()),
                Some(b',') => i += 1,
                Some(_) => return Err("text after a closing quote".to_owned()),
            }
        } else {
            let end = line[i..].find(',').map_or(bytes.len(), |n| i + n);
            out.push((i, end, false));
            if end == bytes.len() {
                return Ok(());
            }
            i = end + 1;
        }
    }
}

fn csv_header(line: &[u8], line_no: u64, tabs: bool) -> OpResult<CsvColumns> {
    let (format, example) = if tabs {
        ("TSV", "key<TAB>offset, as `cursorctl get -o tsv` prints")
    } else {
        ("CSV", "consumer,partition_key,offset,expect")
    };
    let bad = |reason: String| -> OpError {
        Refusal::usage(format!(
            "line {line_no}: {reason}; {format} input starts with a header such as {example}"
        ))
        .with("line", line_no)
        .into()
    };
    let text = std::str::from_utf8(line).map_err(|_| bad("the header is not UTF-8".into()))?;
    let mut spans = Vec::new();
    if tabs {
        split_tsv(text, &mut spans);
    } else {
        split_csv(text, &mut spans).map_err(bad)?;
    }
    let mut cols = CsvColumns {
        count: spans.len(),
        consumer: None,
        partition_key: None,
        key: None,
        channel: None,
        partition: None,
        offset: usize::MAX,
        expect: None,
        exists: None,
        tabs,
    };
    let mut offset = None;
    // Columns a listing prints that say nothing about the move.
    let mut listing = [None; LISTING_FIELDS.len()];
    for (i, (start, end, _)) in spans.iter().enumerate() {
        let name = text[*start..*end].trim();
        let slot = match name {
            "consumer" => &mut cols.consumer,
            "partition_key" => &mut cols.partition_key,
            "key" => &mut cols.key,
            "channel" => &mut cols.channel,
            "partition" => &mut cols.partition,
            "offset" => &mut offset,
            "expect" => &mut cols.expect,
            "exists" => &mut cols.exists,
            other => match LISTING_FIELDS.iter().position(|f| *f == other) {
                Some(at) => &mut listing[at],
                None => return Err(bad(unknown_field("column", other))),
            },
        };
        if slot.replace(i).is_some() {
            return Err(bad(format!("the column {} appears twice", quote(name))));
        }
    }
    cols.offset = offset.ok_or_else(|| bad("the offset column is missing".into()))?;
    let has_parts = cols.consumer.is_some() && cols.partition_key.is_some();
    if !has_parts && cols.key.is_none() {
        return Err(bad(
            "the consumer and partition_key columns (or key) are missing".into(),
        ));
    }
    Ok(cols)
}

#[cfg(test)]
mod tests;
