//! Reading `set --from-file` input: every listing format cursorctl writes
//! (NDJSON, a JSON array, TSV) and CSV, one cursor a record, streamed and
//! validated record by record.

use std::borrow::Cow;
use std::io::BufRead;

use cursorctl::key::{ConsumerId, CursorKey, PartitionKey};
use cursorctl::parse_offset;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::error::Failure;
use super::json_records::JsonScan;
use super::output::{escape_text, quote, SHOWN_BYTES};
use super::source::Lines;

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

/// Why a line was refused, with its key when the key could be read.
#[derive(Debug)]
pub struct Invalid {
    pub key: Option<String>,
    pub reason: String,
}

impl Invalid {
    /// A refused line; a key longer than any valid key (as a line may
    /// hold) is shown cut, with its length (see [`quote`]).
    pub(super) fn new(key: Option<String>, reason: impl Into<String>) -> Self {
        Self {
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
    pub fn next_line(&mut self) -> anyhow::Result<Option<Line>> {
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
    fn next_element(&mut self) -> anyhow::Result<Option<Line>> {
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
        std::str::from_utf8(line).map_err(|_| Invalid::new(None, "the line is not valid UTF-8"))?;
    if cols.tabs {
        split_tsv(line, fields);
    } else {
        split_csv(line, fields).map_err(|r| Invalid::new(None, r))?;
    }
    if fields.len() != cols.count {
        return Err(Invalid::new(
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
    let offset = parse_offset(&text(cols.offset))
        .map_err(|e| Invalid::new(shown(), format!("offset: {e}")))?;
    let expect = match cols.expect.map(text) {
        None => None,
        Some(t) if t.is_empty() => None,
        Some(t) => {
            Some(parse_offset(&t).map_err(|e| Invalid::new(shown(), format!("expect: {e}")))?)
        }
    };
    let exists =
        exists_of(cols.exists.map(text).as_deref()).map_err(|r| Invalid::new(shown(), r))?;
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
        Err(Invalid::new(
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
    let invalid = |reason: String| Invalid::new(shown(), reason);
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

/// The fields of a JSON record that are read (the input fields, then
/// `exists`), as positions in [`JsonLine::values`].
const READ: [&str; 8] = [
    "consumer",
    "partition_key",
    "key",
    "channel",
    "partition",
    "offset",
    "expect",
    "exists",
];

/// One JSON input record: each field read as raw JSON (so that offsets go
/// through the same parser as arguments and `null` is told apart from a
/// missing field), borrowed from the line.
#[derive(Default)]
struct JsonLine<'a> {
    /// The fields of [`READ`], in its order.
    values: [Option<&'a RawValue>; 8],
    /// The first field that is neither an input field nor one of a
    /// listing's.
    unknown: Option<String>,
}

/// Positions in [`READ`].
const CONSUMER: usize = 0;
const PARTITION_KEY: usize = 1;
const KEY: usize = 2;
const CHANNEL: usize = 3;
const PARTITION: usize = 4;
const OFFSET: usize = 5;
const EXPECT: usize = 6;
const EXISTS: usize = 7;

/// A field name of a JSON record.
enum FieldName {
    /// One of [`READ`], by position.
    Read(usize),
    /// A field of a listing that says nothing about the move.
    Listing,
    /// Anything else (refused).
    Unknown(String),
}

impl<'de> Deserialize<'de> for FieldName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Name;
        impl serde::de::Visitor<'_> for Name {
            type Value = FieldName;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a field name")
            }

            fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<FieldName, E> {
                Ok(if let Some(i) = READ.iter().position(|n| *n == name) {
                    FieldName::Read(i)
                } else if LISTING_FIELDS.contains(&name) {
                    FieldName::Listing
                } else {
                    FieldName::Unknown(name.to_owned())
                })
            }
        }
        d.deserialize_identifier(Name)
    }
}

impl<'de> Deserialize<'de> for JsonLine<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Record;
        impl<'de> serde::de::Visitor<'de> for Record {
            type Value = JsonLine<'de>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<JsonLine<'de>, A::Error> {
                let mut line = JsonLine::default();
                while let Some(name) = map.next_key::<FieldName>()? {
                    match name {
                        FieldName::Read(i) => {
                            let value: &'de RawValue = map.next_value()?;
                            if line.values[i].replace(value).is_some() {
                                return Err(serde::de::Error::custom(format_args!(
                                    "the field {} appears twice",
                                    READ[i]
                                )));
                            }
                        }
                        FieldName::Listing => {
                            map.next_value::<serde::de::IgnoredAny>()?;
                        }
                        FieldName::Unknown(name) => {
                            map.next_value::<serde::de::IgnoredAny>()?;
                            line.unknown.get_or_insert(name);
                        }
                    }
                }
                Ok(line)
            }
        }
        d.deserialize_map(Record)
    }
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

/// A text field, borrowed from the line unless it holds escapes.
fn json_text<'a>(name: &str, value: Option<&'a RawValue>) -> Result<Option<Cow<'a, str>>, Invalid> {
    let Some(value) = value else {
        return Ok(None);
    };
    let text = value.get();
    if text.starts_with('"') {
        if !text.contains('\\') {
            return Ok(Some(Cow::Borrowed(&text[1..text.len() - 1])));
        }
        return serde_json::from_str::<String>(text)
            .map(|s| Some(Cow::Owned(s)))
            .map_err(|e| Invalid::new(None, format!("{name}: {e}")));
    }
    Err(Invalid::new(
        None,
        format!("{name} is {}, not a string", cut(text)),
    ))
}

fn json_offset(name: &str, value: &RawValue) -> Result<u64, String> {
    let text = value.get();
    match text.as_bytes().first() {
        Some(b'"') => Err(format!(
            "{name} is the string {}; write it as a JSON number",
            cut(text)
        )),
        Some(b'n') if text == "null" => Err(format!("{name} is null")),
        Some(b'-' | b'0'..=b'9') => parse_offset(text).map_err(|e| format!("{name}: {e}")),
        _ => Err(format!("{name} is {}, not a number", cut(text))),
    }
}

pub(super) fn parse_json_line(line: &[u8]) -> Result<Entry, Invalid> {
    if detect(line) != InputFormat::Ndjson {
        return Err(Invalid::new(None, "not a JSON object"));
    }
    // One check of the whole line: parsed from a `str`, serde_json need not
    // check each value it hands out.
    let line = std::str::from_utf8(line).map_err(|e| {
        Invalid::new(
            None,
            format!(
                "the line is not valid UTF-8 (at byte {})",
                e.valid_up_to() + 1
            ),
        )
    })?;
    let parsed: JsonLine<'_> = serde_json::from_str(line).map_err(|e| {
        let text = e.to_string();
        let text = text
            .rsplit_once(" at line ")
            .map_or(text.as_str(), |(head, _)| head);
        Invalid::new(
            None,
            format!("invalid JSON at column {}: {text}", e.column()),
        )
    })?;
    let consumer = json_text("consumer", parsed.values[CONSUMER]);
    let partition_key = json_text("partition_key", parsed.values[PARTITION_KEY]);
    let key_text = json_text("key", parsed.values[KEY]);
    if let Some(name) = &parsed.unknown {
        // The key, when the line holds a readable one, to say which line.
        let key = match (&consumer, &partition_key, &key_text) {
            (Ok(c), Ok(p), Ok(k)) => build_key(c.as_deref(), p.as_deref(), k.as_deref())
                .ok()
                .map(|k| k.to_string()),
            _ => None,
        };
        return Err(Invalid::new(key, unknown_field("field", name)));
    }
    let key = build_key(
        consumer?.as_deref(),
        partition_key?.as_deref(),
        key_text?.as_deref(),
    )?;
    let shown = || Some(key.to_string());
    let channel = json_text("channel", parsed.values[CHANNEL])
        .map_err(|bad| Invalid::new(shown(), bad.reason))?;
    let partition = parsed.values[PARTITION].map(RawValue::get);
    if let Some(p) = partition.filter(|p| !p.bytes().all(|b| b.is_ascii_digit())) {
        return Err(Invalid::new(
            shown(),
            format!("partition is {}, not a partition index", cut(p)),
        ));
    }
    check_parts(&key, channel.as_deref(), partition)?;
    let offset = match parsed.values[OFFSET] {
        Some(v) => json_offset("offset", v).map_err(|r| Invalid::new(shown(), r))?,
        None => return Err(Invalid::new(shown(), "offset is missing")),
    };
    let expect = parsed.values[EXPECT]
        .map(|v| json_offset("expect", v))
        .transpose()
        .map_err(|r| Invalid::new(shown(), r))?;
    let exists = exists_of(parsed.values[EXISTS].map(RawValue::get))
        .map_err(|r| Invalid::new(shown(), r))?;
    Ok(Entry {
        key,
        offset,
        expect,
        exists,
    })
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

fn csv_header(line: &[u8], line_no: u64, tabs: bool) -> anyhow::Result<CsvColumns> {
    let (format, example) = if tabs {
        ("TSV", "key<TAB>offset, as `cursorctl get -o tsv` prints")
    } else {
        ("CSV", "consumer,partition_key,offset,expect")
    };
    let bad = |reason: String| -> anyhow::Error {
        Failure::usage(format!(
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
mod tests {
    use super::*;

    type Read = (u64, Result<(String, u64, Option<u64>), String>);

    fn read(input: &str, format: Option<InputFormat>) -> Vec<Read> {
        let mut r = LineReader::new(input.as_bytes(), format);
        let mut out = Vec::new();
        while let Some((n, line)) = r.next_line().unwrap() {
            out.push((
                n,
                line.map(|e| (e.key.to_string(), e.offset, e.expect))
                    .map_err(|i| i.reason),
            ));
        }
        out
    }

    #[test]
    fn ndjson_lines_like_get_prints() {
        let lines = read(
            "{\"key\":\"b:o:3\",\"consumer\":\"b\",\"partition_key\":\"o:3\",\"channel\":\"o\",\"partition\":3,\"offset\":7,\"exists\":true,\"updated_at\":null,\"expect\":6}\r\n\r\n{\"key\":\"b:o:4\",\"offset\":1}\n",
            None,
        );
        assert_eq!(
            lines,
            vec![
                (1, Ok(("b:o:3".into(), 7, Some(6)))),
                (3, Ok(("b:o:4".into(), 1, None)))
            ]
        );
    }

    #[test]
    fn bad_json_offsets_are_refused_with_a_reason() {
        for (value, needle) in [
            ("-1", "negative"),
            ("1.5", "plain decimal"),
            ("1e3", "plain decimal"),
            ("9223372036854775808", "9223372036854775807"),
            ("\"5\"", "string"),
            ("null", "null"),
            ("true", "not a number"),
        ] {
            let line =
                format!("{{\"consumer\":\"b\",\"partition_key\":\"o:1\",\"offset\":{value}}}");
            let got = read(&line, None);
            let reason = got[0].1.clone().unwrap_err();
            assert!(reason.contains(needle), "{value}: {reason}");
        }
        let got = read(
            "{\"consumer\":\"b\",\"partition_key\":\"o:1\",\"offset\":1,\"expect\":null}",
            None,
        );
        assert!(got[0].1.clone().unwrap_err().contains("expect is null"));
    }

    #[test]
    fn csv_with_quotes_and_optional_expect() {
        let lines = read(
            "consumer,partition_key,offset,expect\r\nb,o:1,5,4\r\n\"a,\"\"b\",o:2,6,\r\nb,o:3,x,1\n",
            None,
        );
        assert_eq!(lines[0], (2, Ok(("b:o:1".into(), 5, Some(4)))));
        assert_eq!(lines[1], (3, Ok(("a,\"b:o:2".into(), 6, None))));
        assert!(lines[2].1.clone().unwrap_err().contains("offset"));
    }

    #[test]
    fn csv_header_must_name_known_columns() {
        let mut r = LineReader::new("consumer,partition_key,offest\n".as_bytes(), None);
        let err = r.next_line().unwrap_err();
        assert!(err.to_string().contains("offest"), "{err}");
    }

    #[test]
    fn every_field_of_a_cursor_listing_is_known() {
        for name in super::super::records::CursorRecord::FIELDS {
            assert!(
                INPUT_FIELDS.contains(name) || LISTING_FIELDS.contains(name),
                "{name}: a field `get` prints must read back"
            );
        }
    }

    #[test]
    fn unknown_fields_are_refused_with_the_name_meant() {
        for (line, needle) in [
            (
                r#"{"consumer":"b","partition_key":"o:1","offset":1,"expected":0}"#,
                "\"expected\" (did you mean expect?)",
            ),
            (
                r#"{"consumer":"b","partition_key":"o:1","offset":1,"Expect":0}"#,
                "\"Expect\" (did you mean expect?)",
            ),
            (
                r#"{"consumer":"b","partition_key":"o:1","Offset":1}"#,
                "\"Offset\"",
            ),
            (
                r#"{"consumer":"b","partition_key":"o:1","offset":1,"\u0065xpect":0,"zz":1}"#,
                "\"zz\"",
            ),
        ] {
            let got = read(line, None);
            let reason = got[0].1.clone().unwrap_err();
            assert!(reason.contains(needle), "{line}: {reason}");
        }
        let got = read(
            r#"{"consumer":"b","partition_key":"o:1","offset":1,"head":5,"lag":2,"owner":null,"lease_expires_at":null,"status":"x","since":null,"updated_at":null,"exists":true}"#,
            None,
        );
        assert_eq!(got[0].1, Ok(("b:o:1".into(), 1, None)));
    }

    #[test]
    fn a_cursor_listed_as_absent_at_zero_is_read_past() {
        let lines = read(
            "{\"key\":\"b:o:1\",\"offset\":0,\"exists\":false}\n{\"key\":\"b:o:2\",\"offset\":5,\"exists\":false}\n{\"key\":\"b:o:3\",\"offset\":0,\"exists\":\"no\"}\n",
            None,
        );
        assert_eq!(lines[0], (2, Ok(("b:o:2".into(), 5, None))));
        assert!(lines[1]
            .1
            .clone()
            .unwrap_err()
            .contains("not true or false"));
        let tsv = read(
            "key\toffset\texists\nb:o:1\t0\tfalse\nb:o:2\t0\ttrue\n",
            None,
        );
        assert_eq!(tsv, vec![(3, Ok(("b:o:2".into(), 0, None)))]);
    }

    #[test]
    fn tsv_escapes_read_back() {
        assert_eq!(
            tsv_unescape(r"a\tb\\c\e[1m\x07\u{9b}\q"),
            "a\tb\\c\u{1b}[1m\u{7}\u{9b}\\q"
        );
    }

    #[test]
    fn disagreeing_key_is_refused() {
        let got = read(
            "{\"key\":\"a:o:1\",\"consumer\":\"b\",\"partition_key\":\"o:1\",\"offset\":1}",
            None,
        );
        assert!(got[0].1.clone().unwrap_err().contains("does not match"));
    }

    proptest::proptest! {
        /// Any bytes, in any format: every line either parses or is refused
        /// with a reason; nothing panics.
        #[test]
        fn arbitrary_input_never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
            for format in [None, Some(InputFormat::Ndjson), Some(InputFormat::Csv)] {
                let mut r = LineReader::new(bytes.as_slice(), format);
                while let Ok(Some((_, line))) = r.next_line() {
                    if let Err(invalid) = line {
                        proptest::prop_assert!(!invalid.reason.is_empty());
                    }
                }
            }
        }

        /// Lines shaped like real input, with arbitrary field text.
        #[test]
        fn arbitrary_fields_never_panic(
            consumer in "\\PC{0,12}|[a-z:\" \\\\]{0,8}",
            pk in "\\PC{0,12}|[a-z]{1,5}:[0-9+-]{0,12}",
            offset in "\\PC{0,12}|-?[0-9]{0,25}(\\.[0-9])?|\"[0-9]+\"|null|true",
        ) {
            let json = format!(r#"{{"consumer":"{consumer}","partition_key":"{pk}","offset":{offset}}}"#);
            let csv = format!("consumer,partition_key,offset\n{consumer},{pk},{offset}\n");
            for input in [json, csv] {
                let mut r = LineReader::new(input.as_bytes(), None);
                while let Ok(Some((_, line))) = r.next_line() {
                    if let Ok(entry) = line {
                        proptest::prop_assert!(entry.offset <= cursorctl::MAX_OFFSET);
                    }
                }
            }
        }
    }
}
