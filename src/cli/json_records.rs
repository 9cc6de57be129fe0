//! Reading JSON input record by record: a JSON array (the shape `get -o
//! json` prints, in any layout) or objects one after another (as `jq`
//! pretty-prints them). Each object is found by its braces, line by line,
//! and parsed as an NDJSON line is; memory holds one object at a time.

use super::input::{invalid, parse_json_line, Line};

/// Where the reading of a JSON array (or of objects one after another, as
/// `jq` pretty-prints them) is.
#[derive(Debug, Default)]
pub struct JsonScan {
    /// Seen `[`, or the first `{` of a sequence.
    opened: bool,
    /// Objects one after another, with no array around them.
    sequence: bool,
    /// Seen the closing `]`.
    closed: bool,
    /// Seen an element since the last `,` (or the `[`).
    after_value: bool,
    /// Seen a `,` that an element must follow.
    after_comma: bool,
    /// The element being read, and the line it starts on.
    element: Vec<u8>,
    start_line: u64,
    depth: u32,
    in_string: bool,
    escape: bool,
    /// The input is not readable JSON: stop.
    pub broken: bool,
    /// Where the scan is in the current line.
    pub pos: usize,
}

impl JsonScan {
    /// Scan the rest of the buffered line; an element or an error, or
    /// `None` when the line ends first.
    pub fn scan(&mut self, buf: &[u8], line_no: u64) -> Option<Line> {
        if self.broken {
            return None;
        }
        let a = self;
        let fail = |a: &mut JsonScan, line: u64, reason: &str| {
            a.broken = true;
            Some((line, Err(invalid(None, reason.to_owned()))))
        };
        while a.pos < buf.len() {
            let b = buf[a.pos];
            a.pos += 1;
            if a.depth > 0 {
                a.element.push(b);
                if a.in_string {
                    match (a.escape, b) {
                        (true, _) => a.escape = false,
                        (false, b'\\') => a.escape = true,
                        (false, b'"') => a.in_string = false,
                        _ => {}
                    }
                    continue;
                }
                match b {
                    b'"' => a.in_string = true,
                    b'{' | b'[' => a.depth += 1,
                    b'}' | b']' => a.depth -= 1,
                    _ => {}
                }
                if a.depth == 0 {
                    a.after_value = true;
                    a.after_comma = false;
                    let parsed = parse_json_line(&a.element);
                    a.element.clear();
                    return Some((a.start_line, parsed));
                }
                continue;
            }
            if b.is_ascii_whitespace() {
                continue;
            }
            if a.closed {
                return fail(a, line_no, "text after the end of the JSON array");
            }
            if !a.opened {
                a.opened = true;
                match b {
                    b'[' => continue,
                    b'{' => a.sequence = true,
                    _ => return fail(a, line_no, "JSON input starts with [ or {"),
                }
            }
            if a.sequence {
                if b != b'{' {
                    return fail(
                        a,
                        line_no,
                        "expected a JSON object, as `cursorctl get -o json` prints",
                    );
                }
                a.depth = 1;
                a.start_line = line_no;
                a.element.push(b);
                continue;
            }
            match b {
                b'{' if !a.after_value => {
                    a.depth = 1;
                    a.start_line = line_no;
                    a.element.push(b);
                }
                b',' if a.after_value => {
                    a.after_value = false;
                    a.after_comma = true;
                }
                b']' if !a.after_comma => a.closed = true,
                b']' => return fail(a, line_no, "a comma before the closing ] of the JSON array"),
                b'{' => return fail(a, line_no, "a comma is missing between two objects"),
                _ => {
                    return fail(
                        a,
                        line_no,
                        "expected a JSON object, as `cursorctl get -o json` prints",
                    )
                }
            }
        }
        None
    }

    /// What the end of the input (after line `line_no`) means.
    pub fn end(&mut self, line_no: u64) -> Option<Line> {
        let a = self;
        if a.broken || a.closed || !a.opened || (a.sequence && a.depth == 0) {
            return None;
        }
        a.broken = true;
        if a.depth > 0 {
            return Some((
                a.start_line,
                Err(invalid(None, "the object that starts here is not closed")),
            ));
        }
        Some((
            line_no,
            Err(invalid(None, "the JSON array is not closed with ]")),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The records (key or error) and their line numbers, scanning `text`
    /// line by line as the reader does.
    fn scan_all(text: &str) -> Vec<(u64, Result<String, String>)> {
        let mut scan = JsonScan::default();
        let mut out = Vec::new();
        let mut n = 0;
        for line in text.split_inclusive('\n') {
            n += 1;
            scan.pos = 0;
            while let Some((at, record)) = scan.scan(line.as_bytes(), n) {
                out.push((at, record.map(|e| e.key.to_string()).map_err(|i| i.reason)));
            }
        }
        out.extend(
            scan.end(n)
                .map(|(at, r)| (at, r.map(|_| String::new()).map_err(|i| i.reason))),
        );
        out
    }

    #[test]
    fn arrays_in_any_layout_and_sequences_of_objects() {
        let ok = |pairs: &[(u64, &str)]| -> Vec<(u64, Result<String, String>)> {
            pairs
                .iter()
                .map(|(n, k)| (*n, Ok((*k).to_owned())))
                .collect()
        };
        let a = r#"{"key":"b:o:1","offset":1}"#;
        let b = "{\n  \"key\": \"b:o:2\",\n  \"offset\": 2\n}";
        assert_eq!(scan_all(&format!("[\n{a},\n{a}\n]\n")).len(), 2);
        assert_eq!(
            scan_all(&format!("[{a},{b}]")),
            ok(&[(1, "b:o:1"), (1, "b:o:2")])
        );
        assert_eq!(
            scan_all(&format!("[\n{b},\n{a}\n]")),
            ok(&[(2, "b:o:2"), (6, "b:o:1")])
        );
        assert_eq!(
            scan_all(&format!("{b}\n{b}\n")),
            ok(&[(1, "b:o:2"), (5, "b:o:2")])
        );
        assert_eq!(scan_all("[]"), ok(&[]));
        // Braces and brackets inside strings do not count.
        let tricky = r#"[{"key":"b:o:1","offset":1,"status":"}]{[\"x"}]"#;
        assert_eq!(scan_all(tricky), ok(&[(1, "b:o:1")]));
    }

    #[test]
    fn broken_json_is_refused_where_it_breaks() {
        let a = r#"{"key":"b:o:1","offset":1}"#;
        for (text, line, needle) in [
            (format!("[\n{a}\n{a}]"), 3, "comma is missing"),
            (format!("[{a},]"), 1, "comma before the closing"),
            (format!("[\n{a}"), 2, "not closed with ]"),
            ("[\n{\"key\":\n".to_owned(), 2, "starts here is not closed"),
            (format!("[{a}] x"), 1, "after the end"),
            ("[1]".to_owned(), 1, "expected a JSON object"),
            (format!("{a}\n[{a}]"), 2, "expected a JSON object"),
        ] {
            let got = scan_all(&text);
            let (at, last) = got.last().unwrap();
            let reason = last.clone().unwrap_err();
            assert_eq!(*at, line, "{text}: {reason}");
            assert!(reason.contains(needle), "{text}: {reason}");
        }
    }
}
