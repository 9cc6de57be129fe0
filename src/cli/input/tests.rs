//! Tests of the input readers.
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
        let line = format!("{{\"consumer\":\"b\",\"partition_key\":\"o:1\",\"offset\":{value}}}");
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
