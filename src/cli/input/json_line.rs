//! One NDJSON record (or one element of a JSON array) of bulk input, read
//! field by field as raw JSON.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::*;

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
            .map_err(|e| invalid(None, format!("{name}: {e}")));
    }
    Err(invalid(
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

pub fn parse_json_line(line: &[u8]) -> Result<Entry, Invalid> {
    if detect(line) != InputFormat::Ndjson {
        return Err(invalid(None, "not a JSON object"));
    }
    // One check of the whole line: parsed from a `str`, serde_json need not
    // check each value it hands out.
    let line = std::str::from_utf8(line).map_err(|e| {
        invalid(
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
        invalid(
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
        return Err(invalid(key, unknown_field("field", name)));
    }
    let key = build_key(
        consumer?.as_deref(),
        partition_key?.as_deref(),
        key_text?.as_deref(),
    )?;
    let shown = || Some(key.to_string());
    let channel =
        json_text("channel", parsed.values[CHANNEL]).map_err(|bad| invalid(shown(), bad.reason))?;
    let partition = parsed.values[PARTITION].map(RawValue::get);
    if let Some(p) = partition.filter(|p| !p.bytes().all(|b| b.is_ascii_digit())) {
        return Err(invalid(
            shown(),
            format!("partition is {}, not a partition index", cut(p)),
        ));
    }
    check_parts(&key, channel.as_deref(), partition)?;
    let offset = match parsed.values[OFFSET] {
        Some(v) => json_offset("offset", v).map_err(|r| invalid(shown(), r))?,
        None => return Err(invalid(shown(), "offset is missing")),
    };
    let expect = parsed.values[EXPECT]
        .map(|v| json_offset("expect", v))
        .transpose()
        .map_err(|r| invalid(shown(), r))?;
    let exists =
        exists_of(parsed.values[EXISTS].map(RawValue::get)).map_err(|r| invalid(shown(), r))?;
    Ok(Entry {
        key,
        offset,
        expect,
        exists,
    })
}
