//! Property tests: the library against a simple model over random operation
//! sequences, and every parser on arbitrary text.

use std::collections::HashMap;
use std::time::Duration;

use cursorctl::store::sqlite::SqliteStore;
use cursorctl::{
    parse_duration, parse_offset, ChannelId, CheckpointDriver, CheckpointPolicy, ConsumerCursor,
    ConsumerId, CursorKey, DurabilityError, DurableStore, MemoryStore, PartitionKey, MAX_OFFSET,
};
use proptest::prelude::*;

const KEYS: [(&str, &str); 3] = [
    ("billing", "orders:0"),
    ("billing", "orders:1"),
    ("audit", "orders:0"),
];

#[derive(Clone, Debug)]
enum Op {
    /// A cursor resumed from the store checkpoints to an offset.
    Checkpoint(usize, u64),
    /// A cursor that believes it is at `from` checkpoints (maybe stale).
    CheckpointFrom(usize, u64, u64),
    /// An explicit rewind from what the store holds.
    Rewind(usize, u64),
    /// A raw compare-and-swap.
    Cas(usize, u64, u64),
}

fn op() -> impl Strategy<Value = Op> {
    let k = 0..KEYS.len();
    let off = prop_oneof![0..20u64, Just(MAX_OFFSET), Just(MAX_OFFSET + 1)];
    prop_oneof![
        (k.clone(), off.clone()).prop_map(|(k, n)| Op::Checkpoint(k, n)),
        (k.clone(), 0..20u64, off.clone()).prop_map(|(k, f, n)| Op::CheckpointFrom(k, f, n)),
        (k.clone(), off.clone()).prop_map(|(k, n)| Op::Rewind(k, n)),
        (k, 0..20u64, off).prop_map(|(k, e, n)| Op::Cas(k, e, n)),
    ]
}

/// What the model says an operation does: the outcome, and the new value.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Ok,
    Regression,
    Stale(Option<u64>),
    TooLarge,
}

fn model_cas(model: &mut HashMap<String, u64>, key: &str, expected: u64, new: u64) -> Outcome {
    if new > MAX_OFFSET {
        return Outcome::TooLarge;
    }
    let actual = model.get(key).copied();
    if actual.unwrap_or(0) != expected {
        return Outcome::Stale(actual);
    }
    if actual != Some(new) {
        model.insert(key.to_owned(), new);
    }
    Outcome::Ok
}

fn model_apply(model: &mut HashMap<String, u64>, op: &Op) -> Outcome {
    let key = |k: usize| format!("{}:{}", KEYS[k].0, KEYS[k].1);
    match *op {
        Op::Checkpoint(k, new) => {
            let current = model.get(&key(k)).copied().unwrap_or(0);
            if new < current {
                Outcome::Regression
            } else {
                model_cas(model, &key(k), current, new)
            }
        }
        Op::CheckpointFrom(k, from, new) => {
            if new < from {
                Outcome::Regression
            } else {
                model_cas(model, &key(k), from, new)
            }
        }
        Op::Rewind(k, new) => {
            let current = model.get(&key(k)).copied().unwrap_or(0);
            model_cas(model, &key(k), current, new)
        }
        Op::Cas(k, expected, new) => model_cas(model, &key(k), expected, new),
    }
}

fn store_apply(store: &dyn DurableStore, op: &Op) -> Outcome {
    let result = match *op {
        Op::Checkpoint(k, new) => ConsumerCursor::resume(KEYS[k].0, KEYS[k].1, store)
            .and_then(|mut c| c.checkpoint(store, new)),
        Op::CheckpointFrom(k, from, new) => {
            ConsumerCursor::from_persisted(KEYS[k].0, KEYS[k].1, from).checkpoint(store, new)
        }
        Op::Rewind(k, new) => ConsumerCursor::resume(KEYS[k].0, KEYS[k].1, store)
            .and_then(|mut c| c.rewind(store, new)),
        Op::Cas(k, expected, new) => {
            store.cas(&format!("{}:{}", KEYS[k].0, KEYS[k].1), expected, new)
        }
    };
    match result {
        Ok(()) => Outcome::Ok,
        Err(DurabilityError::CursorRegression { .. }) => Outcome::Regression,
        Err(DurabilityError::StaleCheckpoint { actual, .. }) => Outcome::Stale(actual),
        Err(DurabilityError::OffsetTooLarge { .. }) => Outcome::TooLarge,
        Err(e) => panic!("unexpected error {e}"),
    }
}

fn check_same(store: &dyn DurableStore, model: &HashMap<String, u64>) {
    for (c, pk) in KEYS {
        let key = format!("{c}:{pk}");
        assert_eq!(
            store.read_value(&key).unwrap(),
            model.get(&key).copied(),
            "{key}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn memory_store_matches_the_model(ops in prop::collection::vec(op(), 1..60)) {
        let store = MemoryStore::new();
        let mut model = HashMap::new();
        for op in &ops {
            prop_assert_eq!(store_apply(&store, op), model_apply(&mut model, op), "{:?}", op);
        }
        check_same(&store, &model);
    }

    #[test]
    fn sqlite_store_matches_the_model(ops in prop::collection::vec(op(), 1..40)) {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = SqliteStore::init(&dir.path().join("c.db"), Duration::from_secs(5)).unwrap();
        let mut model = HashMap::new();
        for op in &ops {
            prop_assert_eq!(store_apply(&store, op), model_apply(&mut model, op), "{:?}", op);
        }
        check_same(&store, &model);
    }

    /// The driver writes exactly what its policy says, and keeps pending
    /// work across failed checkpoints.
    #[test]
    fn driver_matches_its_policy(
        batch in prop_oneof![Just(0usize), 1..6usize],
        steps in prop::collection::vec((0..4u8, any::<bool>()), 1..80),
    ) {
        let policy = match batch {
            0 => CheckpointPolicy::ExplicitFlush,
            1 => CheckpointPolicy::PerMessage,
            n => CheckpointPolicy::PerBatch(n),
        };
        let store = MemoryStore::new();
        let mut cursor = ConsumerCursor::new("c", "ch:0");
        let mut driver = CheckpointDriver::new(policy);
        // The model: pending offset and count, and the writes it expects;
        // after a failed checkpoint a batch policy tries again one batch
        // later (`retry_at`), a flush at once.
        let (mut pending, mut count, mut next, mut expected) = (None::<u64>, 0usize, 0u64, Vec::new());
        let mut retry_at = None::<usize>;
        for (kind, fail) in steps {
            if fail {
                store.fail_next_cas();
            }
            let is_flush = kind == 0;
            if !is_flush {
                next += 1;
                pending = Some(next);
                count += 1;
            }
            let due = is_flush || match policy {
                CheckpointPolicy::PerMessage => true,
                CheckpointPolicy::PerBatch(n) => count >= n && retry_at.is_none_or(|at| count >= at),
                CheckpointPolicy::ExplicitFlush => false,
            };
            let result = if is_flush {
                driver.flush(&mut cursor, &store)
            } else {
                driver.record_processed(&mut cursor, &store, next)
            };
            if due && pending.is_some() {
                if fail {
                    prop_assert!(result.is_err());
                    if let CheckpointPolicy::PerBatch(n) = policy {
                        retry_at = Some(count + n);
                    }
                } else {
                    prop_assert!(result.is_ok());
                    expected.push(pending.take().unwrap());
                    count = 0;
                    retry_at = None;
                }
            } else {
                prop_assert!(result.is_ok());
                // An injected failure that no checkpoint consumed stays armed:
                // clear it so it does not leak into the next step.
                if fail {
                    let _ = store.cas("unused:x:0", 1, 1);
                }
            }
            prop_assert_eq!(driver.pending_offset(), pending);
            prop_assert_eq!(driver.messages_since_last_checkpoint(), count);
        }
        prop_assert_eq!(store.writes("c:ch:0"), expected);
    }

    #[test]
    fn offset_parser_never_panics(s in ".*") {
        let _ = parse_offset(&s);
    }

    /// Every offset from 0 to the limit is accepted and is its own text,
    /// with the widths where a narrower integer or a float would lose it.
    #[test]
    fn offsets_round_trip(v in offsets()) {
        prop_assert_eq!(parse_offset(&v.to_string()), Ok(v));
    }

    /// Above the limit (i64::MAX + 1 up to u64::MAX and beyond) every
    /// offset is refused, with a message naming the limit.
    #[test]
    fn offsets_above_the_limit_are_refused(
        v in prop_oneof![Just(MAX_OFFSET + 1), Just(u64::MAX), (MAX_OFFSET + 1)..=u64::MAX],
        extra in "[0-9]{0,20}",
    ) {
        for text in [v.to_string(), format!("{v}{extra}")] {
            let err = parse_offset(&text).unwrap_err();
            prop_assert!(err.to_string().contains("9223372036854775807"), "{}", err);
        }
    }

    /// Any decimal text, with leading zeros and of any length: accepted
    /// exactly when its value is at most the limit, and then the offset is
    /// the number the text says.
    #[test]
    fn an_accepted_offset_is_the_number_its_text_says(text in "[0-9]{1,40}") {
        let digits = text.trim_start_matches('0');
        let digits = if digits.is_empty() { "0" } else { digits };
        let max = MAX_OFFSET.to_string();
        let in_range = digits.len() < max.len() || (digits.len() == max.len() && digits <= max.as_str());
        // One spelling for every number: no leading zeros (but "0" itself).
        let canonical = text == "0" || !text.starts_with('0');
        match parse_offset(&text) {
            Ok(v) => {
                prop_assert!(in_range && canonical, "{} accepted", text);
                prop_assert_eq!(v.to_string(), text);
            }
            Err(_) => prop_assert!(!in_range || !canonical, "{} refused", text),
        }
    }

    /// Arbitrary text is accepted only when it is plain decimal digits, and
    /// then it is the number the text says.
    #[test]
    fn offsets_from_any_text(text in ".*|[0-9+\\- .xe_]{0,25}") {
        if let Ok(v) = parse_offset(&text) {
            prop_assert!(!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()), "{:?}", text);
            prop_assert_eq!(v.to_string(), text.trim_start_matches('0').to_owned() + if v == 0 { "0" } else { "" });
        }
    }

    #[test]
    fn key_parsers_never_panic(s in "\\PC*|[a-z:0-9 \t\u{0}-\u{1f}]{0,40}") {
        let _ = CursorKey::parse(&s);
        let _ = PartitionKey::parse(&s);
        let _ = s.parse::<CheckpointPolicy>();
        let _ = parse_duration(&s);
    }

    /// Any valid UTF-8 name of 1 to 255 bytes (no `:`, whitespace or
    /// control characters) is accepted as a consumer and a channel, and a
    /// key made of them is its own text; 256 bytes and more are refused.
    #[test]
    fn valid_names_up_to_255_bytes_round_trip(
        consumer in name(),
        channel in name(),
        index in any::<u32>(),
    ) {
        let text = format!("{consumer}:{channel}:{index}");
        let key = CursorKey::parse(&text).unwrap();
        prop_assert_eq!(key.to_string(), text);
        prop_assert_eq!(key.consumer().as_str(), consumer.as_str());
        prop_assert_eq!(key.partition_key().channel().as_str(), channel.as_str());
        prop_assert_eq!(key.partition_key().index(), index);
        for (len, ok) in [(255, true), (256, false), (300, false)] {
            let mut padded = consumer.clone();
            while padded.len() < len {
                padded.push('x');
            }
            if padded.len() == len {
                prop_assert_eq!(ConsumerId::new(padded.clone()).is_ok(), ok, "{} bytes", len);
                prop_assert_eq!(ChannelId::new(padded.clone()).is_ok(), ok, "{} bytes", len);
                if !ok {
                    let err = ConsumerId::new(padded).unwrap_err();
                    prop_assert!(err.to_string().contains("255"), "{}", err);
                }
            }
        }
    }

    /// A `:`, a whitespace or a control character anywhere in a name is
    /// refused.
    #[test]
    fn names_with_a_separator_space_or_control_are_refused(
        name in name(),
        at in any::<prop::sample::Index>(),
        bad in "[:\\s\\p{Cc}]".prop_map(|c| c.chars().next().unwrap()),
    ) {
        let mut chars: Vec<char> = name.chars().collect();
        chars.insert(at.index(chars.len() + 1), bad);
        let bad_name: String = chars.into_iter().collect();
        prop_assert!(ConsumerId::new(bad_name.clone()).is_err(), "{:?}", bad_name);
        prop_assert!(ChannelId::new(bad_name.clone()).is_err(), "{:?}", bad_name);
    }

    /// Every policy is its own text: per-message, explicit-flush and
    /// per-batch:N for every N from 1 to usize::MAX.
    #[test]
    fn policies_round_trip(
        policy in prop_oneof![
            Just(CheckpointPolicy::PerMessage),
            Just(CheckpointPolicy::ExplicitFlush),
            (1..=usize::MAX).prop_map(CheckpointPolicy::PerBatch),
            (1..100usize).prop_map(CheckpointPolicy::PerBatch),
        ],
    ) {
        let text = policy.to_string();
        prop_assert_eq!(text.parse::<CheckpointPolicy>().unwrap(), policy);
    }

    /// Any text near a policy's: accepted only as one of the three forms
    /// (N at least 1 and within usize), and then it means what it says.
    #[test]
    fn policies_from_any_text(
        text in "per-batch:[0-9]{0,25}|(per-message|explicit-flush|per-batch:)[ -~]{0,3}|[a-z:\\-0-9]{0,20}|.*",
    ) {
        match text.parse::<CheckpointPolicy>() {
            Ok(CheckpointPolicy::PerMessage) => prop_assert_eq!(text.as_str(), "per-message"),
            Ok(CheckpointPolicy::ExplicitFlush) => prop_assert_eq!(text.as_str(), "explicit-flush"),
            Ok(CheckpointPolicy::PerBatch(n)) => {
                let digits = text.strip_prefix("per-batch:").unwrap();
                prop_assert!(!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()), "{:?}", text);
                prop_assert!(n >= 1);
                prop_assert_eq!(digits.trim_start_matches('0'), n.to_string());
            }
            Err(_) => {
                let valid = text == "per-message"
                    || text == "explicit-flush"
                    || text
                        .strip_prefix("per-batch:")
                        .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
                        .and_then(|d| d.parse::<usize>().ok())
                        .is_some_and(|n| n >= 1);
                prop_assert!(!valid, "{:?} refused", text);
            }
        }
    }
}

/// Offsets across the whole range, with the edges where a 32-bit integer or
/// a double would lose the value, and the limit itself.
fn offsets() -> impl Strategy<Value = u64> {
    let edges: Vec<u64> = vec![
        0,
        1,
        (1 << 31) - 1,
        1 << 31,
        (1 << 31) + 1,
        (1 << 32) - 1,
        1 << 32,
        (1 << 32) + 1,
        (1 << 53) - 1,
        1 << 53,
        (1 << 53) + 1,
        MAX_OFFSET - 1,
        MAX_OFFSET,
    ];
    prop_oneof![
        prop::sample::select(edges),
        0..=MAX_OFFSET,
        0..1000u64,
        (1u64 << 53)..(1u64 << 54),
    ]
}

/// A valid consumer or channel name: 1 to 255 bytes of UTF-8 characters
/// of every width (1 to 4 bytes), none of them `:`, whitespace, control or
/// invisible.
fn name() -> impl Strategy<Value = String> {
    // ASCII without space, ':' and DEL; Latin-1 letters, Greek and Cyrillic
    // (2 bytes); CJK (3 bytes); emoji and musical symbols (4 bytes).
    const RANGES: [(u32, u32); 7] = [
        (0x21, 0x3a),
        (0x3b, 0x7f),
        (0xc0, 0x100),
        (0x391, 0x500),
        (0x4e00, 0xa000),
        (0x1f600, 0x1f650),
        (0x1d100, 0x1d127),
    ];
    let visible = (0..RANGES.len(), any::<u32>()).prop_map(|(r, n)| {
        let (lo, hi) = RANGES[r];
        char::from_u32(lo + n % (hi - lo)).unwrap()
    });
    prop::collection::vec(visible, 1..255).prop_map(|chars| {
        let mut name = String::new();
        for c in chars {
            if name.len() + c.len_utf8() > 255 {
                break;
            }
            name.push(c);
        }
        name
    })
}
