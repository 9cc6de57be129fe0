//! The JSON records of every command, field by field: each record kind has
//! exactly its fields, in their order (scripts and `jq` users read them by
//! name, people read them in order), on each backend. A field added,
//! removed, renamed or moved fails here until this list and the docs say
//! so.

use std::time::Duration;

use cursorctl::lease;
use cursorctl::{Access, CursorKey};

use crate::common::{backend_tests, Backend, Env};

const CHANGE: &[&str] = &[
    "id",
    "key",
    "consumer",
    "partition_key",
    "old_offset",
    "new_offset",
    "delta",
    "status",
    "dry_run",
];
const CURSOR: &[&str] = &[
    "key",
    "consumer",
    "partition_key",
    "channel",
    "partition",
    "offset",
    "exists",
    "updated_at",
    "head",
    "lag",
    "owner",
    "lease_expires_at",
];
/// On PostgreSQL the history also names the database role, after `user`.
const HISTORY_WITH_ROLE: &[&str] = &[
    "id",
    "at",
    "key",
    "consumer",
    "partition_key",
    "old_offset",
    "new_offset",
    "command",
    "reason",
    "user",
    "role",
    "batch",
];
const HISTORY: &[&str] = &[
    "id",
    "at",
    "key",
    "consumer",
    "partition_key",
    "old_offset",
    "new_offset",
    "command",
    "reason",
    "user",
    "batch",
];
const STATUS: &[&str] = &[
    "key",
    "consumer",
    "partition_key",
    "offset",
    "head",
    "lag",
    "status",
    "since",
];
const DESCRIBE: &[&str] = &[
    "consumer",
    "cursors",
    "channels",
    "lowest_offset",
    "highest_offset",
    "oldest_updated_at",
    "newest_updated_at",
    "idle",
    "total_lag",
    "highest_lag",
    "behind",
    "stalled",
    "live_leases",
];
const INFO: &[&str] = &[
    "backend",
    "location",
    "host",
    "port",
    "database",
    "schema",
    "role",
    "server_version",
    "schema_version",
    "consumers",
    "cursors",
    "history",
    "batches",
    "snapshots",
    "heads",
    "leases",
];
const INIT: &[&str] = &["path", "status", "schema_version"];
const HEAD_CHANGE: &[&str] = &[
    "id",
    "partition_key",
    "old_head",
    "new_head",
    "delta",
    "status",
    "dry_run",
];
const HEAD: &[&str] = &[
    "partition_key",
    "channel",
    "partition",
    "head",
    "recorded_at",
];
const HEAD_HISTORY: &[&str] = &[
    "id",
    "at",
    "partition_key",
    "old_head",
    "new_head",
    "delta",
    "command",
    "reason",
    "user",
];
const SNAPSHOT: &[&str] = &["name", "at", "consumer", "cursors", "user", "reason"];
const SNAPSHOT_SHOW: &[&str] = &["key", "saved", "current", "delta", "status"];
const FLUSH_SIM: &[&str] = &[
    "key",
    "policy",
    "flush_every",
    "crash_after",
    "messages",
    "start_offset",
    "checkpoints",
    "flushes",
    "errors",
    "final_offset",
    "last_offset",
    "pending_offset",
    "pending_at_end",
    "max_redelivery_window",
    "crashed",
    "redelivered_after_crash",
    "committed",
    "stopped",
];
const ERROR: &[&str] = &["error"];
const ERROR_BODY: &[&str] = &["code", "kind", "message"];
const ERROR_BODY_NOT_FOUND: &[&str] = &["code", "hint", "key", "kind", "message"];

fn every_record_kind_has_its_fields_in_order(backend: Backend) {
    let env = Env::empty_on(backend);
    let ok = |args: &[&str]| env.ok(args);
    let one = |args: &[&str]| {
        let out = ok(args);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 1, "{args:?}: one record: {out}");
        Json::parse(lines[0])
    };
    let each = |args: &[&str]| -> Vec<Json> {
        let out = ok(args);
        assert!(!out.is_empty(), "{args:?}: no records");
        out.lines().map(Json::parse).collect()
    };
    let check = |what: &str, records: &[Json], fields: &[&str]| {
        for record in records {
            assert_eq!(record.keys(), fields, "{what}");
        }
    };

    check("init", &[one(&["init", "-o", "json"])], INIT);
    check(
        "set",
        &[one(&[
            "set", "billing", "orders:0", "5", "--create", "-o", "json",
        ])],
        CHANGE,
    );
    check(
        "advance",
        &[one(&["advance", "billing", "orders:0", "-o", "json"])],
        CHANGE,
    );
    let bulk = env.ok_stdin(
        &["set", "--from-file", "-", "--create", "-o", "ndjson"],
        "{\"key\":\"billing:orders:1\",\"offset\":3}\n{\"key\":\"billing:orders:2\",\"offset\":4}\n",
    );
    check(
        "set --from-file",
        &bulk.lines().map(Json::parse).collect::<Vec<_>>(),
        CHANGE,
    );
    check(
        "set --dry-run",
        &[one(&[
            "set",
            "billing",
            "orders:0",
            "9",
            "--dry-run",
            "-o",
            "json",
        ])],
        CHANGE,
    );
    check(
        "get KEY",
        &[one(&["get", "billing", "orders:0", "-o", "json"])],
        CURSOR,
    );
    check("get", &each(&["get", "-o", "ndjson"]), CURSOR);
    let history = match backend {
        Backend::Sqlite => HISTORY,
        Backend::Postgres => HISTORY_WITH_ROLE,
    };
    check("history", &each(&["history", "-o", "ndjson"]), history);
    check(
        "undo",
        &[one(&["undo", "2", "--reason", "back", "-o", "json"])],
        CHANGE,
    );
    check(
        "copy",
        &each(&["copy", "billing", "audit", "--create", "-o", "ndjson"]),
        CHANGE,
    );
    check(
        "delete",
        &each(&[
            "delete",
            "audit:orders:2",
            "--reason",
            "gone",
            "-o",
            "ndjson",
        ]),
        CHANGE,
    );
    check(
        "head set",
        &[one(&["head", "set", "orders:0", "10", "-o", "json"])],
        HEAD_CHANGE,
    );
    check("head get", &each(&["head", "get", "-o", "ndjson"]), HEAD);
    check(
        "head history",
        &each(&["head", "history", "-o", "ndjson"]),
        HEAD_HISTORY,
    );
    check("status", &each(&["status", "-o", "ndjson"]), STATUS);
    check("describe", &each(&["describe", "-o", "ndjson"]), DESCRIBE);
    check("info", &[one(&["info", "-o", "json"])], INFO);
    check(
        "snapshot save",
        &[one(&["snapshot", "save", "before", "-o", "json"])],
        SNAPSHOT,
    );
    check(
        "snapshot list",
        &each(&["snapshot", "list", "-o", "ndjson"]),
        SNAPSHOT,
    );
    ok(&["advance", "billing", "orders:1", "-q"]);
    check(
        "snapshot show",
        &each(&["snapshot", "show", "before", "-o", "ndjson"]),
        SNAPSHOT_SHOW,
    );
    check(
        "snapshot restore",
        &each(&[
            "snapshot", "restore", "before", "--reason", "back", "-o", "ndjson",
        ]),
        CHANGE,
    );
    check(
        "flush-sim",
        &[one(&[
            "flush-sim",
            "billing",
            "orders:0",
            "--policy",
            "per-batch:3",
            "--messages",
            "10",
            "-o",
            "json",
        ])],
        FLUSH_SIM,
    );

    // Leases: a cursor held through the library.
    let store = cursorctl::store::open(&env.location(), Access::ReadWrite, Duration::from_secs(10))
        .unwrap();
    let key = CursorKey::parse("billing:orders:2").unwrap();
    let _held = lease::acquire(&*store, &key, "host-a", Duration::from_secs(600)).unwrap();
    check(
        "lease list",
        &each(&["lease", "list", "-o", "ndjson"]),
        &[
            "key",
            "owner",
            "epoch",
            "acquired_at",
            "expires_at",
            "state",
        ],
    );
    check(
        "get with a lease",
        &[one(&["get", "billing", "orders:2", "-o", "json"])],
        CURSOR,
    );

    // Errors: one object, `error`, whose fields (the details of the failure
    // among them: the key of a cursor not found) are in name order.
    for (args, body) in [
        (
            vec!["set", "billing", "orders:0", "-1", "-o", "json"],
            ERROR_BODY,
        ),
        (
            vec!["set", "billing", "orders:9", "1", "-o", "json"],
            ERROR_BODY_NOT_FOUND,
        ),
    ] {
        let out = env.run(&args);
        assert_ne!(out.status.code(), Some(0), "{args:?}");
        let text = String::from_utf8(out.stderr).unwrap();
        let line = text
            .lines()
            .find(|l| l.starts_with('{'))
            .unwrap_or_else(|| {
                panic!("{args:?}: no JSON error on stderr: {text}");
            });
        let error = Json::parse(line);
        assert_eq!(error.keys(), ERROR, "{args:?}");
        assert_eq!(error.get("error").keys(), body, "{args:?}: {line}");
    }
}

backend_tests!(every_record_kind_has_its_fields_in_order);

/// JSON as written, objects keeping the order of their fields (which
/// `serde_json::Value` does not).
#[derive(Debug)]
enum Json {
    Object(Vec<(String, Json)>),
    Array,
    Scalar,
}

impl Json {
    fn parse(text: &str) -> Self {
        let mut parser = Parser {
            bytes: text.as_bytes(),
            at: 0,
        };
        let value = parser.value();
        parser.space();
        assert_eq!(
            parser.at,
            text.len(),
            "trailing text after the JSON: {text}"
        );
        value
    }

    fn keys(&self) -> Vec<&str> {
        match self {
            Self::Object(fields) => fields.iter().map(|(k, _)| k.as_str()).collect(),
            other => panic!("not an object: {other:?}"),
        }
    }

    fn get(&self, name: &str) -> &Self {
        match self {
            Self::Object(fields) => &fields.iter().find(|(k, _)| k == name).unwrap().1,
            other => panic!("not an object: {other:?}"),
        }
    }
}

struct Parser<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn space(&mut self) {
        while self.bytes.get(self.at).is_some_and(u8::is_ascii_whitespace) {
            self.at += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> bool {
        self.space();
        let found = self.bytes.get(self.at) == Some(&byte);
        if found {
            self.at += 1;
        }
        found
    }

    fn string(&mut self) -> String {
        assert!(self.eat(b'"'), "a string expected at byte {}", self.at);
        let start = self.at;
        while self.bytes[self.at] != b'"' {
            self.at += if self.bytes[self.at] == b'\\' { 2 } else { 1 };
        }
        let text = std::str::from_utf8(&self.bytes[start..self.at]).unwrap();
        self.at += 1;
        serde_json::from_str(&format!("\"{text}\"")).unwrap()
    }

    fn value(&mut self) -> Json {
        self.space();
        match self.bytes[self.at] {
            b'{' => {
                self.at += 1;
                let mut fields = Vec::new();
                if !self.eat(b'}') {
                    loop {
                        let name = self.string();
                        assert!(self.eat(b':'), "':' expected at byte {}", self.at);
                        fields.push((name, self.value()));
                        if self.eat(b'}') {
                            break;
                        }
                        assert!(self.eat(b','), "',' expected at byte {}", self.at);
                    }
                }
                Json::Object(fields)
            }
            b'[' => {
                self.at += 1;
                if !self.eat(b']') {
                    loop {
                        self.value();
                        if self.eat(b']') {
                            break;
                        }
                        assert!(self.eat(b','), "',' expected at byte {}", self.at);
                    }
                }
                Json::Array
            }
            b'"' => {
                self.string();
                Json::Scalar
            }
            _ => {
                while self
                    .bytes
                    .get(self.at)
                    .is_some_and(|b| !matches!(b, b',' | b'}' | b']') && !b.is_ascii_whitespace())
                {
                    self.at += 1;
                }
                Json::Scalar
            }
        }
    }
}

/// The checker itself: objects keep their order, nested values are
/// skipped whole, and text that is not one JSON value is refused.
#[test]
fn the_field_order_reader_reads_what_is_written() {
    let record = Json::parse(r#"{"b":1,"a":{"z":[1,{"y":"}"}],"x":"\"q"},"c":null}"#);
    assert_eq!(record.keys(), ["b", "a", "c"]);
    assert_eq!(record.get("a").keys(), ["z", "x"]);
    assert!(std::panic::catch_unwind(|| Json::parse(r#"{"a":1} {"b":2}"#)).is_err());
}
