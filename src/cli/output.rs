//! The one place that decides how records look: table, JSON, NDJSON, TSV or
//! bare values, for every command.

use std::borrow::Cow;
use std::io::{self, BufWriter, IsTerminal, Stdout, Write};

use clap::ValueEnum;
use comfy_table::{Cell, Table};

use super::error::OutputError;

/// How records are printed on stdout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns for people.
    Table,
    /// One JSON document: an object, or an array for listings.
    Json,
    /// One JSON object a line.
    Ndjson,
    /// Tab-separated values with a header line.
    Tsv,
    /// Bare values (offsets), one a line, for `$(...)`.
    Value,
    /// Prometheus text format (`get` listings and `status` only).
    Prometheus,
}

impl Format {
    /// Whether errors go to stderr as JSON objects too.
    pub const fn is_json(self) -> bool {
        matches!(self, Self::Json | Self::Ndjson)
    }
}

/// When to use colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// When the stream is a terminal and `NO_COLOR` is not set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

impl ColorChoice {
    /// Decide for one stream.
    pub fn enabled(self, is_terminal: bool) -> bool {
        match self {
            Self::Always => true,
            Self::Never => false,
            Self::Auto => is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    }

    pub fn stdout(self) -> bool {
        self.enabled(io::stdout().is_terminal())
    }

    pub fn stderr(self) -> bool {
        self.enabled(io::stderr().is_terminal())
    }
}

/// One field of a record.
#[derive(Clone, Copy, Debug)]
pub enum Field<'a> {
    Str(&'a str),
    OptStr(Option<&'a str>),
    U64(u64),
    OptU64(Option<u64>),
    I64(i64),
    OptI64(Option<i64>),
    Bool(bool),
    /// Milliseconds since the Unix epoch, printed as RFC 3339 UTC.
    Time(Option<i64>),
    /// A number already written out (a fraction, such as `12.5`): a JSON
    /// number, not a string.
    OptNumber(Option<&'a str>),
}

/// Something printable as a row.
pub trait Record {
    /// Visit every field, in output order, with its JSON name.
    fn fields(
        &self,
        visit: &mut dyn FnMut(&'static str, Field<'_>) -> io::Result<()>,
    ) -> io::Result<()>;

    /// The fields a table shows (a readable subset).
    fn table_columns(&self) -> &'static [&'static str];

    /// What `-o value` prints.
    fn value(&self) -> Field<'_>;
}

/// Formats timestamps. The date part is formatted once per day and the
/// time of day written digit by digit: a listing of a million cursors with
/// different times formats a million timestamps.
struct TimeCache {
    /// The day (since the epoch) whose date `text` holds; -1: none.
    day: i64,
    /// `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    text: [u8; 24],
    /// A time outside the years 1970 to 9999, formatted in full.
    other: String,
}

impl Default for TimeCache {
    fn default() -> Self {
        Self {
            day: -1,
            text: [b'0'; 24],
            other: String::new(),
        }
    }
}

impl TimeCache {
    const DAY_MS: i64 = 86_400_000;
    /// 10000-01-01T00:00:00.000Z: the first time that does not fit the form.
    const END_MS: i64 = 253_402_300_800_000;

    fn format(&mut self, ms: i64) -> &str {
        if !(0..Self::END_MS).contains(&ms) {
            self.other = format_time(ms);
            return &self.other;
        }
        let day = ms / Self::DAY_MS;
        if day != self.day {
            let midnight = format_time(day * Self::DAY_MS);
            if midnight.len() != self.text.len() {
                self.other = format_time(ms);
                return &self.other;
            }
            self.text.copy_from_slice(midnight.as_bytes());
            self.day = day;
        }
        let of_day = ms % Self::DAY_MS;
        let mut put = |at: usize, v: i64, digits: u32| {
            for i in 0..digits as usize {
                let d = v / 10_i64.pow(digits - 1 - i as u32) % 10;
                self.text[at + i] = b'0' + u8::try_from(d).unwrap_or(0);
            }
        };
        put(11, of_day / 3_600_000, 2);
        put(14, of_day / 60_000 % 60, 2);
        put(17, of_day / 1000 % 60, 2);
        put(20, of_day % 1000, 3);
        std::str::from_utf8(&self.text).unwrap_or_default()
    }
}

/// RFC 3339 UTC with milliseconds.
pub fn format_time(ms: i64) -> String {
    cursorctl::parse::format_time_ms(ms)
}

/// Whether a character is one a terminal acts on, or one that reorders
/// the text around it: a C0 control, DEL, a C1 control (U+0080 to U+009F:
/// U+009B is CSI, as ESC `[` is), or a bidirectional control (U+061C,
/// U+200E, U+200F, U+202A to U+202E, U+2066 to U+2069).
pub const fn is_unsafe(c: char) -> bool {
    matches!(
        c,
        '\u{0}'..='\u{1f}'
            | '\u{7f}'..='\u{9f}'
            | '\u{61c}'
            | '\u{200e}'
            | '\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
    )
}

/// Append the visible escape of an unsafe character (see [`is_unsafe`]):
/// `\t`, `\n`, `\r`, `\e` (ESC), `\x07` (another C0 control or DEL), or
/// `\u{9b}` (a C1 or bidirectional control).
fn push_escape(out: &mut String, c: char) {
    use std::fmt::Write as _;
    let _ = match c {
        '\t' => write!(out, "\\t"),
        '\n' => write!(out, "\\n"),
        '\r' => write!(out, "\\r"),
        '\u{1b}' => write!(out, "\\e"),
        '\u{0}'..='\u{1f}' | '\u{7f}' => write!(out, "\\x{:02x}", u32::from(c)),
        _ => write!(out, "\\u{{{:x}}}", u32::from(c)),
    };
}

/// Text with every unsafe character (see [`is_unsafe`]) escaped visibly;
/// with `backslash`, a backslash is doubled too (so that the text can be
/// read back, as TSV is). `keep` characters are left as they are.
pub fn escape_text<'a>(s: &'a str, backslash: bool, keep: &[char]) -> Cow<'a, str> {
    let needs = |c: char| (is_unsafe(c) && !keep.contains(&c)) || (backslash && c == '\\');
    let plain = |b: &u8| (0x20..0x7f).contains(b) && !(backslash && *b == b'\\');
    if s.bytes().all(|b| plain(&b)) || !s.chars().any(needs) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c == '\\' && backslash {
            out.push_str("\\\\");
        } else if needs(c) {
            push_escape(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// How many bytes of an echoed input a message shows.
pub const SHOWN_BYTES: usize = 200;

/// An input as a message quotes it: in double quotes, with unsafe
/// characters, quotes and backslashes escaped, and when it is long, its
/// first [`SHOWN_BYTES`] bytes (cut on a character boundary) followed by
/// `...` and its length.
pub fn quote(input: &str) -> String {
    let mut end = input.len().min(SHOWN_BYTES);
    while !input.is_char_boundary(end) {
        end -= 1;
    }
    let head = &input[..end];
    let mut out = String::with_capacity(head.len() + 24);
    out.push('"');
    for c in head.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if is_unsafe(c) => push_escape(&mut out, c),
            c => out.push(c),
        }
    }
    out.push('"');
    if end < input.len() {
        use std::fmt::Write as _;
        let _ = write!(out, "... ({} bytes)", input.len());
    }
    out
}

/// The JSON formatter of every JSON document cursorctl writes: as
/// serde_json's, but DEL, C1 and bidirectional controls are written as
/// `\u` escapes too (serde_json escapes only C0 controls), so that no JSON
/// it prints can act on a terminal. The text read back is the same.
pub struct SafeJson;

impl serde_json::ser::Formatter for SafeJson {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if is_unsafe(c) {
                writer.write_all(&fragment.as_bytes()[start..i])?;
                write!(writer, "\\u{:04x}", u32::from(c))?;
                start = i + c.len_utf8();
            }
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }
}

/// Write a value as compact JSON with [`SafeJson`].
///
/// # Errors
///
/// A failed write.
pub fn write_json<T: serde::Serialize + ?Sized>(w: &mut impl Write, value: &T) -> io::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(&mut *w, SafeJson);
    value.serialize(&mut ser).map_err(io::Error::from)
}

fn write_json_str(w: &mut impl Write, s: &str) -> io::Result<()> {
    if s.bytes()
        .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
    {
        w.write_all(b"\"")?;
        w.write_all(s.as_bytes())?;
        return w.write_all(b"\"");
    }
    write_json(w, s)
}

fn write_int(w: &mut impl Write, v: impl itoa::Integer) -> io::Result<()> {
    w.write_all(itoa::Buffer::new().format(v).as_bytes())
}

fn write_json_field(w: &mut impl Write, times: &mut TimeCache, f: Field<'_>) -> io::Result<()> {
    match f {
        Field::Str(s) | Field::OptStr(Some(s)) => write_json_str(w, s),
        Field::OptNumber(Some(n)) => w.write_all(n.as_bytes()),
        Field::U64(v) | Field::OptU64(Some(v)) => write_int(w, v),
        Field::I64(v) | Field::OptI64(Some(v)) => write_int(w, v),
        Field::Bool(b) => w.write_all(if b { b"true" } else { b"false" }),
        Field::Time(Some(ms)) => write_json_str(w, times.format(ms)),
        Field::OptStr(None)
        | Field::OptU64(None)
        | Field::OptI64(None)
        | Field::Time(None)
        | Field::OptNumber(None) => w.write_all(b"null"),
    }
}

fn field_text(times: &mut TimeCache, f: Field<'_>) -> String {
    match f {
        Field::Str(s) | Field::OptStr(Some(s)) | Field::OptNumber(Some(s)) => s.to_owned(),
        Field::U64(v) | Field::OptU64(Some(v)) => v.to_string(),
        Field::I64(v) | Field::OptI64(Some(v)) => v.to_string(),
        Field::Bool(b) => b.to_string(),
        Field::Time(Some(ms)) => times.format(ms).to_owned(),
        Field::OptStr(None)
        | Field::OptU64(None)
        | Field::OptI64(None)
        | Field::Time(None)
        | Field::OptNumber(None) => String::new(),
    }
}

/// A TSV value: unsafe characters escaped (see [`escape_text`]) and
/// backslashes doubled, so that `set --from-file` reads it back.
fn tsv_escape(s: &str) -> Cow<'_, str> {
    escape_text(s, true, &[])
}

/// A table cell or a bare value: unsafe characters (a newline in a reason,
/// an escape sequence) are shown escaped, so that one record stays one row
/// and nothing printed acts on the terminal.
fn table_escape(s: String) -> String {
    match escape_text(&s, false, &[]) {
        Cow::Borrowed(_) => s,
        Cow::Owned(escaped) => escaped,
    }
}

/// Whether a printer prints one record or a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// One record: `-o json` prints an object.
    One,
    /// A listing: `-o json` prints an array, streamed.
    List,
}

/// Prints records on stdout in the chosen format. Every format but `table`
/// streams; a table is drawn when the printer finishes.
pub struct Printer {
    format: Format,
    shape: Shape,
    out: BufWriter<Stdout>,
    times: TimeCache,
    table: Option<Table>,
    color: bool,
    count: u64,
    /// The field names, for the header of a TSV listing with no rows.
    header: &'static [&'static str],
    /// Table columns shown only when a row has a value in them, and which
    /// of them have one.
    optional: &'static [&'static str],
    optional_seen: Vec<bool>,
    /// The table's columns (those of the first record).
    columns: &'static [&'static str],
}

impl Printer {
    pub fn new(format: Format, shape: Shape, color: bool) -> Self {
        Self {
            format,
            shape,
            out: BufWriter::with_capacity(64 * 1024, io::stdout()),
            times: TimeCache::default(),
            table: None,
            color,
            count: 0,
            header: &[],
            optional: &[],
            optional_seen: Vec::new(),
            columns: &[],
        }
    }

    /// Table columns to show only when a row has a value in them (`head`
    /// and `lag` of a listing where no partition has a head).
    #[must_use]
    pub fn with_optional_columns(mut self, columns: &'static [&'static str]) -> Self {
        self.optional = columns;
        self.optional_seen = vec![false; columns.len()];
        self
    }

    /// Name the fields of the records to come, so that a TSV listing with
    /// no rows still prints its header.
    #[must_use]
    pub const fn with_header(mut self, fields: &'static [&'static str]) -> Self {
        self.header = fields;
        self
    }

    /// How many records were printed.
    pub const fn count(&self) -> u64 {
        self.count
    }

    pub fn record(&mut self, record: &dyn Record) -> Result<(), OutputError> {
        Ok(self.write_record(record)?)
    }

    fn write_record(&mut self, record: &dyn Record) -> io::Result<()> {
        let first = self.count == 0;
        self.count += 1;
        match self.format {
            Format::Json | Format::Ndjson => self.json(record, first),
            Format::Tsv => self.tsv(record, first),
            Format::Value => {
                // A value may be two, tab-separated (`flush-sim --compare`).
                let text = field_text(&mut self.times, record.value());
                let text = escape_text(&text, false, &['\t']);
                self.out.write_all(text.as_bytes())?;
                self.out.write_all(b"\n")
            }
            Format::Table => {
                self.table_row(record);
                Ok(())
            }
            Format::Prometheus => Err(io::Error::other(
                "-o prometheus is for `get` listings and `status`",
            )),
        }
    }

    fn json(&mut self, record: &dyn Record, first: bool) -> io::Result<()> {
        let list_json = self.format == Format::Json && self.shape == Shape::List;
        if list_json {
            self.out.write_all(if first { b"[\n" } else { b",\n" })?;
        }
        let out = &mut self.out;
        let times = &mut self.times;
        let mut sep = b'{';
        record.fields(&mut |name, f| {
            out.write_all(&[sep, b'"'])?;
            out.write_all(name.as_bytes())?;
            out.write_all(b"\":")?;
            sep = b',';
            write_json_field(out, times, f)
        })?;
        out.write_all(if list_json { b"}" } else { b"}\n" })
    }

    fn tsv(&mut self, record: &dyn Record, first: bool) -> io::Result<()> {
        if first {
            let mut names = Vec::new();
            record.fields(&mut |name, _| {
                names.push(name);
                Ok(())
            })?;
            self.out.write_all(names.join("\t").as_bytes())?;
            self.out.write_all(b"\n")?;
        }
        let out = &mut self.out;
        let times = &mut self.times;
        let mut first_field = true;
        record.fields(&mut |_, f| {
            if !first_field {
                out.write_all(b"\t")?;
            }
            first_field = false;
            out.write_all(tsv_escape(&field_text(times, f)).as_bytes())
        })?;
        out.write_all(b"\n")
    }

    fn table_row(&mut self, record: &dyn Record) {
        let columns = record.table_columns();
        self.columns = columns;
        let color = self.color;
        let table = self.table.get_or_insert_with(|| {
            let mut t = Table::new();
            t.load_preset(comfy_table::presets::NOTHING);
            if color {
                t.enforce_styling();
            } else {
                t.force_no_tty();
            }
            t.set_header(columns.iter().map(|c| {
                let cell = Cell::new(c.to_uppercase());
                if color {
                    cell.add_attribute(comfy_table::Attribute::Bold)
                } else {
                    cell
                }
            }));
            t
        });
        // Cells in the order of the columns, which need not be the order
        // of the fields.
        let mut cells = vec![String::new(); columns.len()];
        let times = &mut self.times;
        let (optional, seen) = (self.optional, &mut self.optional_seen);
        let _ = record.fields(&mut |name, f| {
            if let Some(at) = columns.iter().position(|c| *c == name) {
                let text = table_escape(field_text(times, f));
                if !text.is_empty() {
                    if let Some(i) = optional.iter().position(|o| *o == name) {
                        seen[i] = true;
                    }
                }
                cells[at] = text;
            }
            Ok(())
        });
        table.add_row(cells);
    }

    /// Close the output: end a JSON array, draw a table, flush.
    pub fn finish(self) -> Result<(), OutputError> {
        Ok(self.close()?)
    }

    fn close(mut self) -> io::Result<()> {
        match self.format {
            Format::Tsv if self.count == 0 && !self.header.is_empty() => {
                self.out.write_all(self.header.join("\t").as_bytes())?;
                self.out.write_all(b"\n")?;
            }
            Format::Json if self.shape == Shape::List => {
                self.out
                    .write_all(if self.count == 0 { b"[]\n" } else { b"\n]\n" })?;
            }
            Format::Table => {
                if let Some(mut table) = self.table.take() {
                    for (name, seen) in self.optional.iter().zip(&self.optional_seen) {
                        let at = self.columns.iter().position(|c| c == name);
                        if let (false, Some(column)) = (*seen, at.and_then(|i| table.column_mut(i)))
                        {
                            column.set_constraint(comfy_table::ColumnConstraint::Hidden);
                        }
                    }
                    for line in table.lines() {
                        self.out.write_all(line.trim_end().as_bytes())?;
                        self.out.write_all(b"\n")?;
                    }
                }
            }
            _ => {}
        }
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_times_match_the_full_format() {
        let mut cache = TimeCache::default();
        for ms in [
            0,
            1,
            86_399_999,
            86_400_000,
            1_700_000_000_123,
            1_764_000_000_000,
            1_764_086_399_999,
            253_402_300_799_999,
            -1,
        ] {
            assert_eq!(cache.format(ms), format_time(ms), "{ms}");
        }
    }

    #[test]
    fn times_are_rfc3339_utc() {
        assert_eq!(format_time(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_time(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
    }

    #[test]
    fn json_strings_are_escaped() {
        let mut out = Vec::new();
        write_json_str(&mut out, "a\"b\\c\u{1}").unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), r#""a\"b\\c\u0001""#);
    }

    #[test]
    fn table_cells_show_control_characters_escaped() {
        assert_eq!(table_escape("a\nb\tc".to_owned()), "a\\nb\\tc");
        assert_eq!(table_escape("plain é".to_owned()), "plain é");
        assert_eq!(table_escape("é\n".to_owned()), "é\\n");
    }

    #[test]
    fn unsafe_characters_are_shown_escaped() {
        let text = "a\u{1b}[31m\u{7}\u{7f}\u{9b}\u{202e}\u{2069}é\\";
        assert_eq!(
            escape_text(text, false, &[]),
            r"a\e[31m\x07\x7f\u{9b}\u{202e}\u{2069}é\"
        );
        assert_eq!(
            escape_text(text, true, &[]),
            r"a\e[31m\x07\x7f\u{9b}\u{202e}\u{2069}é\\"
        );
        assert_eq!(escape_text("a\nb\tc\r", false, &['\n', '\t']), "a\nb\tc\\r");
        assert!(matches!(
            escape_text("plain é", true, &[]),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn json_escapes_del_c1_and_bidi_controls_too() {
        let text = "a\u{1b}\u{7f}\u{9b}\u{202e}é\"";
        let mut out = Vec::new();
        write_json_str(&mut out, text).unwrap();
        let json = String::from_utf8(out).unwrap();
        assert_eq!(json, r#""a\u001b\u007f\u009b\u202eé\"""#);
        assert_eq!(serde_json::from_str::<String>(&json).unwrap(), text);
    }

    #[test]
    fn long_inputs_are_quoted_cut_on_a_character_boundary() {
        assert_eq!(quote("a\"b"), r#""a\"b""#);
        let long = "é".repeat(1000);
        let quoted = quote(&long);
        assert!(quoted.ends_with("\"... (2000 bytes)"), "{quoted}");
        assert_eq!(
            quoted.chars().filter(|c| *c == 'é').count(),
            SHOWN_BYTES / 2
        );
    }

    #[test]
    fn tsv_values_are_escaped() {
        assert_eq!(tsv_escape("a\tb\nc\\"), "a\\tb\\nc\\\\");
        assert_eq!(tsv_escape("plain"), "plain");
    }
}
