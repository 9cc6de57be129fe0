//! Property tests: the library against a simple model over random operation
//! sequences, and every parser on arbitrary text.

use std::collections::HashMap;
use std::time::Duration;

use cursorctl::store::sqlite::SqliteStore;
use cursorctl::{
    parse_duration, parse_offset, CheckpointDriver, CheckpointPolicy, ConsumerCursor, CursorKey,
    DurabilityError, DurableStore, MemoryStore, PartitionKey, MAX_OFFSET,
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
        // The model: pending offset and count, and the writes it expects.
        let (mut pending, mut count, mut next, mut expected) = (None::<u64>, 0usize, 0u64, Vec::new());
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
                CheckpointPolicy::PerBatch(n) => count >= n,
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
                } else {
                    prop_assert!(result.is_ok());
                    expected.push(pending.take().unwrap());
                    count = 0;
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

    #[test]
    fn offsets_round_trip(v in 0..=MAX_OFFSET) {
        prop_assert_eq!(parse_offset(&v.to_string()), Ok(v));
    }

    #[test]
    fn offsets_above_the_limit_are_refused(v in (MAX_OFFSET + 1)..=u64::MAX) {
        prop_assert!(parse_offset(&v.to_string()).is_err());
    }

    #[test]
    fn key_parsers_never_panic(s in "\\PC*|[a-z:0-9 \t\u{0}-\u{1f}]{0,40}") {
        let _ = CursorKey::parse(&s);
        let _ = PartitionKey::parse(&s);
        let _ = s.parse::<CheckpointPolicy>();
        let _ = parse_duration(&s);
    }

    #[test]
    fn valid_keys_round_trip(
        consumer in "[a-zA-Z0-9_.\\-]{1,40}",
        channel in "[a-zA-Z0-9_.\\-]{1,40}",
        index in any::<u32>(),
    ) {
        let text = format!("{consumer}:{channel}:{index}");
        let key = CursorKey::parse(&text).unwrap();
        prop_assert_eq!(key.to_string(), text);
        prop_assert_eq!(key.consumer().as_str(), consumer.as_str());
        prop_assert_eq!(key.partition_key().index(), index);
    }

    #[test]
    fn policies_round_trip(n in 1..100_000usize) {
        let text = format!("per-batch:{n}");
        let policy: CheckpointPolicy = text.parse().unwrap();
        prop_assert_eq!(policy.to_string(), text);
    }
}
