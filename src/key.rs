//! Validated names: consumer ids, channels, partition keys and cursor keys.
//!
//! A cursor key is `CONSUMER:CHANNEL:INDEX`. Consumers and channels are 1 to
//! 255 bytes of UTF-8 with no `:`, whitespace, control, invisible
//! (zero-width) or bidirectional-control characters, so a key splits back
//! into its parts without ambiguity and two different keys never look the
//! same. The partition index is a
//! decimal number from 0 to 4294967295 written without leading zeros, so one
//! partition has exactly one key.

use std::fmt;
use std::str::FromStr;

/// The longest consumer id or channel, in bytes.
pub const MAX_NAME_BYTES: usize = 255;

/// Why a name or key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} {shown}: {reason}")]
pub struct KeyError {
    what: &'static str,
    shown: String,
    reason: String,
}

impl KeyError {
    fn new(what: &'static str, input: &str, reason: impl Into<String>) -> Self {
        Self {
            what,
            shown: show(input),
            reason: reason.into(),
        }
    }

    /// What kind of name was refused (`consumer`, `channel`, ...).
    #[must_use]
    pub const fn what(&self) -> &'static str {
        self.what
    }

    /// Why it was refused.
    #[must_use]
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

/// Quote an input for an error message, shortened and with control
/// characters escaped.
fn show(input: &str) -> String {
    const LIMIT: usize = 60;
    let mut cut: String = input.chars().take(LIMIT).collect();
    if cut.len() < input.len() {
        cut.push_str("...");
    }
    format!("{cut:?}")
}

/// The name of an invisible or bidirectional-control character, or `None`
/// for any other character. These are the default-ignorable and bidi
/// formatting code points: they change how text looks, or show nothing,
/// so two names holding them can look the same.
fn invisible(c: char) -> Option<&'static str> {
    Some(match c {
        '\u{00AD}' => "SOFT HYPHEN",
        '\u{034F}' => "COMBINING GRAPHEME JOINER",
        '\u{061C}' => "ARABIC LETTER MARK",
        '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}' => "HANGUL FILLER",
        '\u{17B4}' | '\u{17B5}' => "KHMER INHERENT VOWEL",
        '\u{180B}'..='\u{180F}' => "MONGOLIAN VARIATION SELECTOR",
        '\u{200B}' => "ZERO WIDTH SPACE",
        '\u{200C}' => "ZERO WIDTH NON-JOINER",
        '\u{200D}' => "ZERO WIDTH JOINER",
        '\u{200E}' => "LEFT-TO-RIGHT MARK",
        '\u{200F}' => "RIGHT-TO-LEFT MARK",
        '\u{202A}' => "LEFT-TO-RIGHT EMBEDDING",
        '\u{202B}' => "RIGHT-TO-LEFT EMBEDDING",
        '\u{202C}' => "POP DIRECTIONAL FORMATTING",
        '\u{202D}' => "LEFT-TO-RIGHT OVERRIDE",
        '\u{202E}' => "RIGHT-TO-LEFT OVERRIDE",
        '\u{2060}' => "WORD JOINER",
        '\u{2061}'..='\u{2064}' => "INVISIBLE OPERATOR",
        '\u{2066}' => "LEFT-TO-RIGHT ISOLATE",
        '\u{2067}' => "RIGHT-TO-LEFT ISOLATE",
        '\u{2068}' => "FIRST STRONG ISOLATE",
        '\u{2069}' => "POP DIRECTIONAL ISOLATE",
        '\u{2065}' | '\u{206A}'..='\u{206F}' | '\u{FFF0}'..='\u{FFF8}' => {
            "INVISIBLE FORMATTING CHARACTER"
        }
        '\u{FE00}'..='\u{FE0F}' | '\u{E0100}'..='\u{E01EF}' => "VARIATION SELECTOR",
        '\u{FEFF}' => "ZERO WIDTH NO-BREAK SPACE",
        '\u{1BCA0}'..='\u{1BCA3}' => "SHORTHAND FORMAT CONTROL",
        '\u{1D173}'..='\u{1D17A}' => "MUSICAL SYMBOL FORMATTING",
        '\u{E0000}'..='\u{E0FFF}' => "TAG CHARACTER",
        _ => return None,
    })
}

fn check_name(what: &'static str, input: &str) -> Result<(), KeyError> {
    if input.is_empty() {
        return Err(KeyError::new(what, input, "must not be empty"));
    }
    if input.len() > MAX_NAME_BYTES {
        return Err(KeyError::new(
            what,
            input,
            format!(
                "is {} bytes long; the limit is {MAX_NAME_BYTES}",
                input.len()
            ),
        ));
    }
    // Most names are plain ASCII: checked byte by byte, as listings check
    // every stored name.
    if input.bytes().all(|b| b.is_ascii_graphic() && b != b':') {
        return Ok(());
    }
    if let Some(c) = input
        .chars()
        .find(|c| *c == ':' || c.is_whitespace() || c.is_control() || invisible(*c).is_some())
    {
        let reason = if c == ':' {
            "must not contain ':'".to_owned()
        } else if c.is_whitespace() {
            "must not contain whitespace".to_owned()
        } else if c.is_control() {
            format!("must not contain control characters (found {c:?})")
        } else {
            format!(
                "must not contain invisible or bidirectional-control characters (found U+{:04X} {})",
                u32::from(c),
                invisible(c).unwrap_or_default()
            )
        };
        return Err(KeyError::new(what, input, reason));
    }
    Ok(())
}

macro_rules! name_type {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            /// Validate a name.
            ///
            /// # Errors
            ///
            /// Returns [`KeyError`] when the name is empty, longer than 255
            /// bytes, or contains `:`, whitespace, control, invisible or
            /// bidirectional-control characters.
            pub fn new(input: impl Into<String>) -> Result<Self, KeyError> {
                let input = input.into();
                check_name($what, &input)?;
                Ok(Self(input))
            }

            /// Check a name without keeping it (for names read from a
            /// store, which another program may have written).
            ///
            /// # Errors
            ///
            /// As [`Self::new`].
            pub fn check(input: &str) -> Result<(), KeyError> {
                check_name($what, input)
            }

            /// The name as text.
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = KeyError;
            fn from_str(s: &str) -> Result<Self, KeyError> {
                Self::new(s)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

name_type!(
    /// A consumer id: who reads.
    ConsumerId,
    "consumer"
);
name_type!(
    /// A channel: the partitioned stream that is read.
    ChannelId,
    "channel"
);
name_type!(
    /// The name of a snapshot of cursors (`cursorctl snapshot save NAME`),
    /// under the rules of a consumer id.
    SnapshotName,
    "snapshot name"
);

/// Parse a partition index: decimal, 0 to 4294967295, no sign, no leading zeros.
fn parse_index(input: &str, whole: &str) -> Result<u32, KeyError> {
    let what = "partition key";
    if input.is_empty() {
        return Err(KeyError::new(
            what,
            whole,
            "the partition index after ':' is missing",
        ));
    }
    if !input.bytes().all(|b| b.is_ascii_digit()) {
        return Err(KeyError::new(
            what,
            whole,
            "the partition index must be a decimal number from 0 to 4294967295",
        ));
    }
    if input.len() > 1 && input.starts_with('0') {
        return Err(KeyError::new(
            what,
            whole,
            "the partition index must not have leading zeros",
        ));
    }
    input.parse::<u32>().map_err(|_| {
        KeyError::new(
            what,
            whole,
            "the partition index is above the limit 4294967295",
        )
    })
}

/// A partition of a channel: `CHANNEL:INDEX`, for example `orders:3`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PartitionKey {
    channel: ChannelId,
    index: u32,
}

impl PartitionKey {
    /// Build a partition key from its parts.
    #[must_use]
    pub const fn new(channel: ChannelId, index: u32) -> Self {
        Self { channel, index }
    }

    /// Parse `CHANNEL:INDEX`.
    ///
    /// # Errors
    ///
    /// Returns [`KeyError`] when the text is not a valid partition key.
    pub fn parse(input: &str) -> Result<Self, KeyError> {
        let Some((channel, index)) = input.rsplit_once(':') else {
            return Err(KeyError::new(
                "partition key",
                input,
                "expected CHANNEL:INDEX, for example orders:3",
            ));
        };
        let channel = ChannelId::new(channel).map_err(|e| {
            KeyError::new(
                "partition key",
                input,
                format!("its channel {}", e.reason()),
            )
        })?;
        let index = parse_index(index, input)?;
        Ok(Self { channel, index })
    }

    /// The channel.
    #[must_use]
    pub const fn channel(&self) -> &ChannelId {
        &self.channel
    }

    /// The partition index within the channel.
    #[must_use]
    pub const fn index(&self) -> u32 {
        self.index
    }
}

impl FromStr for PartitionKey {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, KeyError> {
        Self::parse(s)
    }
}

// Keys are formatted once or twice per cursor written: plain writes rather
// than the formatting machinery, which shows in bulk writes.
/// Write a partition key, `CHANNEL:INDEX`: the one place its text is
/// made.
///
/// # Errors
///
/// Those of `out`.
pub fn write_partition_key(out: &mut impl fmt::Write, channel: &str, index: u32) -> fmt::Result {
    out.write_str(channel)?;
    out.write_str(":")?;
    out.write_str(itoa::Buffer::new().format(index))
}

/// Write a cursor key, `CONSUMER:CHANNEL:INDEX`: the one place the text of
/// a key is made, for validated keys and stored rows alike.
///
/// # Errors
///
/// Those of `out`.
pub fn write_cursor_key(
    out: &mut impl fmt::Write,
    consumer: &str,
    channel: &str,
    index: u32,
) -> fmt::Result {
    out.write_str(consumer)?;
    out.write_str(":")?;
    write_partition_key(out, channel, index)
}

impl fmt::Display for PartitionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_partition_key(f, self.channel.as_str(), self.index)
    }
}

/// The key of one cursor: `CONSUMER:CHANNEL:INDEX`, for example
/// `billing:orders:3`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CursorKey {
    consumer: ConsumerId,
    partition_key: PartitionKey,
}

impl CursorKey {
    /// Build a cursor key from its parts.
    #[must_use]
    pub const fn new(consumer: ConsumerId, partition_key: PartitionKey) -> Self {
        Self {
            consumer,
            partition_key,
        }
    }

    /// The key of a cursor as a store holds it, its names not checked: for
    /// a cursor another program wrote under names cursorctl refuses
    /// (`sp ace`, `bad:name`), so that it can be addressed (removed, and its
    /// removal recorded, by `delete --raw-key`). Names a user types go
    /// through [`CursorKey::parse`] instead.
    #[must_use]
    pub fn stored(consumer: &str, channel: &str, index: u32) -> Self {
        Self {
            consumer: ConsumerId(consumer.to_owned()),
            partition_key: PartitionKey {
                channel: ChannelId(channel.to_owned()),
                index,
            },
        }
    }

    /// Parse `CONSUMER:CHANNEL:INDEX`.
    ///
    /// # Errors
    ///
    /// Returns [`KeyError`] when the text is not a valid cursor key.
    pub fn parse(input: &str) -> Result<Self, KeyError> {
        let Some((consumer, partition_key)) = input.split_once(':') else {
            return Err(KeyError::new(
                "cursor key",
                input,
                "expected CONSUMER:CHANNEL:INDEX, for example billing:orders:3",
            ));
        };
        let consumer = ConsumerId::new(consumer).map_err(|e| {
            KeyError::new("cursor key", input, format!("its consumer {}", e.reason()))
        })?;
        let partition_key = PartitionKey::parse(partition_key)
            .map_err(|e| KeyError::new("cursor key", input, e.reason().to_owned()))?;
        Ok(Self {
            consumer,
            partition_key,
        })
    }

    /// The consumer.
    #[must_use]
    pub const fn consumer(&self) -> &ConsumerId {
        &self.consumer
    }

    /// The partition key.
    #[must_use]
    pub const fn partition_key(&self) -> &PartitionKey {
        &self.partition_key
    }

    /// Whether `text` is this key's text, compared without building it.
    #[must_use]
    pub fn is_text(&self, text: &str) -> bool {
        /// Takes the key's pieces off the front of the text while they
        /// match.
        struct Rest<'a>(&'a str);
        impl fmt::Write for Rest<'_> {
            fn write_str(&mut self, piece: &str) -> fmt::Result {
                self.0 = self.0.strip_prefix(piece).ok_or(fmt::Error)?;
                Ok(())
            }
        }
        let mut rest = Rest(text);
        fmt::Write::write_fmt(&mut rest, format_args!("{self}")).is_ok() && rest.0.is_empty()
    }
}

impl FromStr for CursorKey {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, KeyError> {
        Self::parse(s)
    }
}

impl fmt::Display for CursorKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_cursor_key(
            f,
            self.consumer.as_str(),
            self.partition_key.channel().as_str(),
            self.partition_key.index(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_accept_and_refuse() {
        assert!(ConsumerId::new("billing").is_ok());
        assert!(ConsumerId::new("bill-ing_2.x\"q").is_ok());
        assert!(ConsumerId::new("").is_err());
        assert!(ConsumerId::new("a:b").is_err());
        assert!(ConsumerId::new("a b").is_err());
        assert!(ConsumerId::new("a\tb").is_err());
        assert!(ConsumerId::new("a\u{7}").is_err());
        assert!(ConsumerId::new("x".repeat(255)).is_ok());
        assert!(ConsumerId::new("café-ü").is_ok());
        for bad in [
            "a\u{200B}b",
            "\u{202E}abc",
            "a\u{FEFF}",
            "a\u{2066}b",
            "a\u{00AD}b",
        ] {
            let err = ConsumerId::new(bad).unwrap_err();
            assert!(err.to_string().contains("invisible"), "{err}");
        }
        let err = ConsumerId::new("x".repeat(256)).unwrap_err();
        assert!(err.to_string().contains("255"), "{err}");
    }

    #[test]
    fn partition_keys() {
        let pk = PartitionKey::parse("orders:3").unwrap();
        assert_eq!(pk.channel().as_str(), "orders");
        assert_eq!(pk.index(), 3);
        assert_eq!(pk.to_string(), "orders:3");
        assert_eq!(
            PartitionKey::parse("orders:4294967295").unwrap().index(),
            u32::MAX
        );
        for bad in [
            "orders",
            "orders:",
            ":3",
            "orders:03",
            "orders:-1",
            "orders:+1",
            "orders:4294967296",
            "a:b:3",
            "orders:1.5",
            "orders: 1",
        ] {
            assert!(PartitionKey::parse(bad).is_err(), "{bad} should be refused");
        }
        assert!(PartitionKey::parse("orders:0").is_ok());
    }

    #[test]
    fn cursor_keys_round_trip() {
        let key = CursorKey::parse("billing:orders:3").unwrap();
        assert_eq!(key.consumer().as_str(), "billing");
        assert_eq!(key.partition_key().to_string(), "orders:3");
        assert_eq!(key.to_string(), "billing:orders:3");
        assert!(CursorKey::parse("billing:orders").is_err());
        assert!(CursorKey::parse("billing").is_err());
        assert!(CursorKey::parse("a:b:c:1").is_err());
    }

    #[test]
    fn a_key_knows_its_text() {
        let key = CursorKey::parse("billing:orders:3").unwrap();
        assert!(key.is_text("billing:orders:3"));
        for other in [
            "billing:orders:30",
            "billing:orders:",
            "billing:orders",
            "",
            "billing:orders:3 ",
        ] {
            assert!(!key.is_text(other), "{other:?}");
        }
    }
}
