//! The store keeps its own rules: the history's hash chain and `history
//! verify` (both backends), the history's filters and proven role, the
//! append-only history and the server-side regression guard of a
//! PostgreSQL store, its roles command by command, forging attempts, and the
//! upgrade to schema version 4.

use std::process::Command;

use serde_json::Value;

use crate::common::{backend_tests, pg_admin, pg_url, Backend, Env, BIN};

backend_tests!(
    verify_holds_for_the_tool_s_own_writes_and_prunes,
    verify_names_a_changed_row,
    verify_names_an_inserted_row,
    verify_names_a_removed_row,
    verify_sees_the_newest_row_removed,
    history_filters_by_user_command_and_role,
    init_upgrades_a_version_3_store_and_chains_its_history,
);

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// A few changes of every kind the tool writes: a create, moves, a rewind,
/// a bulk write (a batch), a removal.
fn some_history(env: &Env) {
    env.ok(&["set", "billing", "orders:0", "10", "--create", "-q"]);
    env.ok(&["advance", "billing", "orders:0", "--by", "5", "-q"]);
    env.ok(&[
        "set",
        "billing",
        "orders:0",
        "3",
        "--allow-rewind",
        "--reason",
        "replay",
        "-q",
    ]);
    env.ok_stdin(
        &["set", "--from-file", "-", "--create", "-q"],
        "key,offset\naudit:orders:0,1\naudit:orders:1,2\n",
    );
    env.ok(&["delete", "audit", "orders:1", "--reason", "gone", "-q"]);
}

/// Change the store below the tool, its triggers off (on PostgreSQL as the
/// owner: what only the owner, or a superuser, can do; on SQLite, anyone
/// who may write the file).
fn tamper(env: &Env, sql: &str) {
    match env.backend {
        Backend::Sqlite => {
            let conn = rusqlite::Connection::open(&env.db).unwrap();
            let trigger: String = conn
                .query_row(
                    "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'history_chain'",
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            conn.execute_batch(&format!(
                "BEGIN; DROP TRIGGER history_chain; {sql}; {trigger}; COMMIT;"
            ))
            .unwrap();
        }
        Backend::Postgres => env.execute(&format!(
            "SET session_replication_role = replica; {sql}; SET session_replication_role = origin"
        )),
    }
}

/// `history verify` fails with exit 7; its record (JSON on stdout).
fn broken(env: &Env) -> Value {
    let out = env.run(&["history", "verify", "-o", "json"]);
    assert_eq!(
        out.status.code(),
        Some(7),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("hash chain is broken"), "{stderr}");
    let record = json(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(record["verified"], false);
    record
}

fn verified(env: &Env) -> Value {
    let record = json(&env.ok(&["history", "verify", "-o", "json"]));
    assert_eq!(record["verified"], true, "{record}");
    record
}

/// The chain holds through every write of the tool, through prunes (of
/// the oldest changes, of everything, of a prefix with a batch kept
/// whole), and the writes after them.
fn verify_holds_for_the_tool_s_own_writes_and_prunes(backend: Backend) {
    let env = Env::on(backend);
    assert_eq!(verified(&env)["changes"], 0);
    some_history(&env);
    let record = verified(&env);
    assert_eq!(record["changes"], 6);
    assert_eq!(record["head_id"], 6);
    // --head: the head kept from the last run still holds, until the
    // next change.
    let head = record["head_hash"].as_str().unwrap().to_owned();
    env.ok(&["history", "verify", "--head", &head, "-q"]);
    env.ok(&["advance", "billing", "orders:0", "-q"]);
    env.fails(7, &["history", "verify", "--head", &head]);
    // A prune of everything before now, then more changes.
    env.ok(&["history", "prune", "--before", "2999-01-01", "-q"]);
    assert_eq!(verified(&env)["changes"], 0);
    env.ok(&["advance", "billing", "orders:0", "-q"]);
    assert_eq!(verified(&env)["changes"], 1);
    some_history(&env);
    std::thread::sleep(std::time::Duration::from_millis(20));
    let cut = json(&env.ok(&["history", "--limit", "1", "-o", "json"]))[0]["at"]
        .as_str()
        .unwrap()
        .to_owned();
    env.ok(&["advance", "billing", "orders:0", "-q"]);
    env.ok(&["history", "prune", "--before", &cut, "-q"]);
    let record = verified(&env);
    assert!(record["changes"].as_u64().unwrap() >= 2, "{record}");
}

fn verify_names_a_changed_row(backend: Backend) {
    let env = Env::on(backend);
    some_history(&env);
    let before = env.dump();
    tamper(&env, "UPDATE history SET new_offset = 4 WHERE id = 3");
    assert_eq!(broken(&env)["broken_at"], 3);
    tamper(&env, "UPDATE history SET new_offset = 3 WHERE id = 3");
    verified(&env);
    tamper(
        &env,
        "UPDATE history SET \"user\" = 'someone else' WHERE id = 2",
    );
    assert_eq!(broken(&env)["broken_at"], 2);
    // verify reads and writes nothing.
    tamper(&env, "UPDATE history SET \"user\" = 'tester' WHERE id = 2");
    assert_eq!(env.dump(), before);
}

fn verify_names_an_inserted_row(backend: Backend) {
    let env = Env::on(backend);
    some_history(&env);
    // A change slipped in between two others, with a made-up hash.
    tamper(&env, "DELETE FROM history WHERE id = 4");
    tamper(
        &env,
        "INSERT INTO history (id, at, consumer, channel, partition, old_offset, new_offset, command, \"user\") \
         VALUES (4, 0, 'billing', 'orders', 0, 15, 1, 'set', 'root')",
    );
    assert_eq!(broken(&env)["broken_at"], 4);
    // A change added after the newest one.
    let env = Env::on(backend);
    some_history(&env);
    tamper(
        &env,
        "INSERT INTO history (id, at, consumer, channel, partition, old_offset, new_offset, command, \"user\") \
         VALUES (7, 0, 'billing', 'orders', 0, 15, 1, 'set', 'root')",
    );
    assert_eq!(broken(&env)["broken_at"], 7);
}

fn verify_names_a_removed_row(backend: Backend) {
    let env = Env::on(backend);
    some_history(&env);
    tamper(&env, "DELETE FROM history WHERE id = 2");
    assert_eq!(
        broken(&env)["broken_at"],
        3,
        "the change after the removed one"
    );
    let env = Env::on(backend);
    some_history(&env);
    tamper(&env, "DELETE FROM history WHERE id = 1");
    assert_eq!(broken(&env)["broken_at"], 2);
}

fn verify_sees_the_newest_row_removed(backend: Backend) {
    let env = Env::on(backend);
    some_history(&env);
    tamper(&env, "DELETE FROM history WHERE id = 6");
    let record = broken(&env);
    assert_eq!(record["broken_at"], Value::Null);
    assert!(
        record["problem"].as_str().unwrap().contains("head"),
        "{record}"
    );
    // Every row gone.
    tamper(&env, "DELETE FROM history");
    broken(&env);
}

fn history_filters_by_user_command_and_role(backend: Backend) {
    let env = Env::on(backend);
    some_history(&env);
    let as_alice = |args: &[&str]| {
        let out = env.cmd().env("USER", "alice").args(args).output().unwrap();
        assert!(out.status.success(), "{out:?}");
    };
    as_alice(&["advance", "billing", "orders:0", "-q"]);
    as_alice(&["advance", "billing", "orders:0", "-q"]);
    let rows = |args: &[&str]| -> Vec<Value> {
        let mut all = vec!["history", "-o", "json"];
        all.extend_from_slice(args);
        json(&env.ok(&all)).as_array().unwrap().clone()
    };
    let alice = rows(&["--user", "alice"]);
    assert_eq!(alice.len(), 2);
    assert!(alice.iter().all(|r| r["user"] == "alice"));
    assert_eq!(rows(&["--user", "tester"]).len(), 6);
    assert_eq!(rows(&["--user", "nobody"]).len(), 0);
    let advances = rows(&["--command", "advance"]);
    assert_eq!(advances.len(), 3);
    assert!(advances.iter().all(|r| r["command"] == "advance"));
    assert_eq!(rows(&["--command", "advance", "--user", "alice"]).len(), 2);
    // --limit keeps the newest matches.
    let newest = rows(&["--command", "advance", "--limit", "1"]);
    assert_eq!(newest.len(), 1);
    assert_eq!(newest[0]["id"], alice[1]["id"]);
    match backend {
        Backend::Sqlite => {
            let err = env.fails(2, &["history", "--role", "root"]);
            assert!(err.contains("PostgreSQL"), "{err}");
            assert!(rows(&[]).iter().all(|r| r.get("role").is_none()));
            let tsv = env.ok(&["history", "-o", "tsv"]);
            assert!(!tsv.lines().next().unwrap().contains("role"), "{tsv}");
        }
        Backend::Postgres => {
            let role: String = pg_admin()
                .query_one("SELECT session_user::text", &[])
                .unwrap()
                .get(0);
            assert_eq!(rows(&["--role", &role]).len(), 8);
            assert_eq!(rows(&["--role", "nobody"]).len(), 0);
            assert!(rows(&[]).iter().all(|r| r["role"] == role.as_str()));
            for format in ["tsv", "table"] {
                let out = env.ok(&["history", "-o", format]);
                assert!(
                    out.lines().next().unwrap().to_lowercase().contains("role"),
                    "{out}"
                );
            }
            let ndjson = env.ok(&["history", "-o", "ndjson"]);
            assert!(ndjson.lines().all(|l| json(l)["role"] == role.as_str()));
        }
    }
}

/// A version 3 store (the previous release) keeps its history and ids
/// through the upgrade, in one transaction; the chain starts over the rows
/// already there (hashed together), so that a change to one of them is
/// seen too.
fn init_upgrades_a_version_3_store_and_chains_its_history(backend: Backend) {
    let env = Env::on(backend);
    some_history(&env);
    match backend {
        Backend::Sqlite => env.execute(&format!(
            "{}PRAGMA user_version = 3;",
            crate::common::SQLITE_DOWN_FROM_V4
        )),
        Backend::Postgres => env.execute(&format!(
            "{} UPDATE meta SET value = '3' WHERE key = 'schema_version'",
            crate::common::pg_down_from_v4(env.pg_schema().unwrap())
        )),
    }
    let history = env.ok(&["history", "-o", "ndjson"]);
    let err = env.fails(7, &["history", "verify"]);
    assert!(err.contains("cursorctl init"), "{err}");
    let upgraded = json(&env.ok(&["init", "-o", "json"]));
    assert_eq!(upgraded["status"], "upgraded");
    assert_eq!(upgraded["schema_version"], 4);
    assert_eq!(env.ok(&["history", "-o", "ndjson"]), history);
    let record = verified(&env);
    assert_eq!(record["before_chain"], 6);
    // The next id follows the old ones; the chain goes on from them.
    let change = json(&env.ok(&["advance", "billing", "orders:0", "-o", "json"]));
    assert_eq!(change["id"], 7);
    let record = verified(&env);
    assert_eq!(
        (record["changes"].as_u64(), record["head_id"].as_i64()),
        (Some(7), Some(7))
    );
    tamper(&env, "UPDATE history SET reason = 'rewritten' WHERE id = 3");
    broken(&env);
    tamper(&env, "UPDATE history SET reason = 'replay' WHERE id = 3");
    verified(&env);
    // A prune of rows from before the chain keeps it verifiable.
    env.ok(&["history", "prune", "--before", "2999-01-01", "-q"]);
    verified(&env);
}

// ------------------------------------------------ PostgreSQL: roles

/// A store of its own with the roles of docs/postgres-roles.sql (prefix:
/// the schema's name) and one login role of each; dropped with it.
struct Roles {
    env: Env,
    prefix: String,
}

impl Roles {
    fn new() -> Option<Self> {
        if !Backend::Postgres.available() {
            return None;
        }
        if !crate::common::require_tool("psql") {
            return None;
        }
        let env = Env::on(Backend::Postgres);
        let schema = env.pg_schema().unwrap().to_owned();
        let prefix = format!("{schema}_");
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/postgres-roles.sql");
        let status = Command::new("psql")
            .args([
                &pg_url(),
                "-q",
                "-v",
                &format!("schema={schema}"),
                "-v",
                &format!("prefix={prefix}"),
                "-f",
                script,
            ])
            .status()
            .unwrap();
        assert!(status.success());
        let roles = Self { env, prefix };
        for role in ["viewer", "operator", "consumer"] {
            pg_admin()
                .batch_execute(&format!(
                    "CREATE ROLE {} LOGIN IN ROLE {}{role}",
                    roles.login(role),
                    roles.prefix
                ))
                .unwrap();
        }
        Some(roles)
    }

    fn login(&self, role: &str) -> String {
        format!("{}{role}_login", self.prefix)
    }

    fn url(&self, role: &str) -> String {
        let url = self.env.db_arg().into_string().unwrap();
        url.replacen("root@", &format!("{}@", self.login(role)), 1)
    }

    fn run(&self, role: &str, args: &[&str]) -> std::process::Output {
        Command::new(BIN)
            .env_clear()
            .env("USER", "tester")
            .env("NO_COLOR", "1")
            .env("CURSORCTL_DB", self.url(role))
            .current_dir(self.env.dir.path())
            .args(args)
            .output()
            .unwrap()
    }

    /// A connection as the login role of `role`, the store's schema first
    /// on the search path.
    fn client(&self, role: &str) -> ::postgres::Client {
        let url = pg_url().replacen("root@", &format!("{}@", self.login(role)), 1);
        let mut client = ::postgres::Client::connect(&url, ::postgres::NoTls).unwrap();
        client
            .batch_execute(&format!(
                "SET search_path = {}",
                self.env.pg_schema().unwrap()
            ))
            .unwrap();
        client
    }
}

impl Drop for Roles {
    fn drop(&mut self) {
        if let Ok(mut client) = ::postgres::Client::connect(&pg_url(), ::postgres::NoTls) {
            for role in ["viewer", "operator", "consumer"] {
                let _ = client.batch_execute(&format!(
                    "DROP ROLE IF EXISTS {}; DROP OWNED BY {1}{role}; DROP ROLE IF EXISTS {1}{role}",
                    self.login(role),
                    self.prefix
                ));
            }
        }
    }
}

/// The commands of the table in docs/postgres.md, in an order in which
/// each one that is allowed works; `true`: the role may run it.
const COMMANDS: &[(&[&str], [bool; 3])] = &[
    // (command, [viewer, consumer, operator])
    (&["init"], [true, true, true]),
    (&["get"], [true, true, true]),
    (&["status"], [true, true, true]),
    (&["head", "get"], [true, true, true]),
    (&["lease", "list"], [true, true, true]),
    (&["info"], [true, true, true]),
    (&["history"], [true, false, true]),
    (&["history", "verify"], [true, false, true]),
    (&["describe"], [true, true, true]),
    (&["head", "history"], [true, false, true]),
    (&["snapshot", "list"], [true, false, true]),
    (&["snapshot", "show", "snap"], [true, false, true]),
    (
        &["set", "billing", "orders:0", "11", "--dry-run"],
        [false, false, true],
    ),
    (&["set", "billing", "orders:0", "12"], [false, false, true]),
    (&["advance", "billing", "orders:0"], [false, false, true]),
    (
        &[
            "set",
            "billing",
            "orders:0",
            "5",
            "--allow-rewind",
            "--reason",
            "r",
        ],
        [false, false, true],
    ),
    // NEWEST: the id of the newest change.
    (&["undo", "NEWEST", "--reason", "r"], [false, false, true]),
    (
        &["copy", "billing", "audit", "--create", "--reason", "r"],
        [false, false, true],
    ),
    (
        &["delete", "audit", "orders:1", "--reason", "r"],
        [false, false, true],
    ),
    (&["snapshot", "save", "s2"], [false, false, true]),
    (
        &["snapshot", "restore", "snap", "--reason", "r"],
        [false, false, true],
    ),
    (&["snapshot", "drop", "s2"], [false, false, true]),
    (&["head", "set", "orders:0", "200"], [false, false, true]),
    (
        &["lease", "break", "billing:orders:0", "--reason", "r"],
        [false, false, true],
    ),
    (
        &["history", "prune", "--before", "1h", "--dry-run"],
        [false, false, true],
    ),
    (
        &["history", "prune", "--before", "2999-01-01"],
        [false, false, true],
    ),
];

/// Each role runs every command: what the table allows works, what it
/// refuses is exit 7 "permission denied" with the store unchanged. The
/// consumer's own path, a forward checkpoint through the library, works;
/// copy-store into the store is the owner's.
#[test]
fn each_role_runs_what_the_table_allows_and_nothing_more() {
    let Some(roles) = Roles::new() else { return };
    let env = &roles.env;
    env.ok(&["set", "billing", "orders:0", "10", "--create", "-q"]);
    env.ok(&["set", "billing", "orders:1", "10", "--create", "-q"]);
    env.ok(&["snapshot", "save", "snap", "-q"]);
    env.ok(&["head", "set", "orders:0", "100", "-q"]);
    // A live lease, for `lease break`.
    env.execute(
        "INSERT INTO leases (consumer, channel, partition, owner, epoch, acquired_at, expires_at) \
         VALUES ('billing', 'orders', 0, 'worker-1', 1, 0, 9000000000000)",
    );
    // Command by command, the operator last (its writes are the state the
    // next command starts from).
    for (args, allowed) in COMMANDS {
        let newest: i64 = pg_admin()
            .query_one(
                &format!("SELECT max(id) FROM {}.history", env.pg_schema().unwrap()),
                &[],
            )
            .unwrap()
            .get(0);
        let newest = newest.to_string();
        let args: Vec<&str> = args
            .iter()
            .map(|a| if *a == "NEWEST" { newest.as_str() } else { a })
            .collect();
        for (column, role) in ["viewer", "consumer", "operator"].iter().enumerate() {
            let before = env.dump();
            let out = roles.run(role, &args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            if allowed[column] {
                assert_eq!(out.status.code(), Some(0), "{role} {args:?}: {stderr}");
            } else {
                assert_eq!(out.status.code(), Some(7), "{role} {args:?}: {stderr}");
                assert!(
                    stderr.contains("permission denied"),
                    "{role} {args:?}: {stderr}"
                );
                assert_eq!(env.dump(), before, "{role} {args:?} changed the store");
            }
        }
    }
    // The consumer's checkpoints, forward, through the library.
    let location: cursorctl::StoreLocation = roles.url("consumer").parse().unwrap();
    let store = cursorctl::store::open(
        &location,
        cursorctl::Access::ReadWrite,
        std::time::Duration::from_secs(5),
    )
    .unwrap();
    let mut cursor = cursorctl::ConsumerCursor::resume("billing", "orders:1", &*store).unwrap();
    cursor.checkpoint(&*store, 20).unwrap();
    assert_eq!(env.offset("billing", "orders:1"), Some(20));
    // A rewind through the library, with no history row, is refused by the
    // server, for the consumer as for everyone.
    let before = env.dump();
    let err = cursor.rewind(&*store, 5).unwrap_err();
    assert!(format!("{err:?}").contains("permission denied"), "{err:?}");
    assert_eq!(env.dump(), before);
    // copy-store into a store keeps the copied ids and times: the owner's.
    let source = Env::new();
    source.ok(&["set", "billing", "orders:9", "1", "--create", "-q"]);
    let empty = Env::on(Backend::Postgres);
    let schema = empty.pg_schema().unwrap().to_owned();
    pg_admin()
        .batch_execute(&format!(
            "GRANT USAGE ON SCHEMA {schema} TO {p}operator; \
             GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {p}operator",
            p = roles.prefix
        ))
        .unwrap();
    let target = empty.db_arg().into_string().unwrap().replacen(
        "root@",
        &format!("{}@", roles.login("operator")),
        1,
    );
    let before = empty.dump();
    let out = source
        .cmd()
        .args(["copy-store", "--to", &target])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(7), "{stderr}");
    assert!(stderr.contains("permission denied"), "{stderr}");
    assert_eq!(empty.dump(), before);
    source.ok(&[
        "copy-store",
        "--to",
        &empty.db_arg().into_string().unwrap(),
        "-q",
    ]);
    assert_eq!(empty.offset("billing", "orders:9"), Some(1));
}

/// The forging statements, replayed as each role: refused, or neutralised
/// (the server's id, time and role kept), and the tool's next writes work.
#[test]
fn forging_statements_are_refused_or_neutralised_for_every_role() {
    let Some(roles) = Roles::new() else { return };
    let env = &roles.env;
    env.ok(&["set", "billing", "orders:0", "8", "--create", "-q"]);
    env.ok(&["head", "set", "orders:0", "100", "-q"]);
    let forged_change = "INSERT INTO history (at, consumer, channel, partition, old_offset, new_offset, \
         command, reason, \"user\", role) VALUES (0, 'billing', 'orders', 0, 100, 150, 'set', 'forged', 'root', 'postgres')";
    let statements = [
        ("chosen role and time", forged_change.to_owned()),
        (
            "chosen id",
            "INSERT INTO history (id, at, consumer, channel, partition, old_offset, new_offset, command, \"user\") \
             OVERRIDING SYSTEM VALUE VALUES (1000, 0, 'billing', 'orders', 0, 1, 2, 'set', 'root')"
                .to_owned(),
        ),
        (
            "planted next id",
            "INSERT INTO history (id, at, consumer, channel, partition, old_offset, new_offset, command, \"user\") \
             VALUES ((SELECT max(id) + 1 FROM history), 0, 'billing', 'orders', 0, 1, 2, 'set', 'root')"
                .to_owned(),
        ),
        (
            "forged batch",
            "INSERT INTO batches (at, command, reason, \"user\", role) VALUES (0, 'set', 'forged', 'root', 'postgres')"
                .to_owned(),
        ),
        (
            "planted next batch id",
            "INSERT INTO batches (id, at, command, \"user\") OVERRIDING SYSTEM VALUE \
             VALUES (coalesce((SELECT max(id) FROM batches), 0) + 1, 0, 'set', 'root')"
                .to_owned(),
        ),
        (
            "planted next head change id",
            "INSERT INTO head_history (id, at, channel, partition, old_head, new_head, command, \"user\") \
             VALUES ((SELECT max(id) + 1 FROM head_history), 0, 'orders', 0, 1, 2, 'head set', 'root')"
                .to_owned(),
        ),
        ("update history", "UPDATE history SET reason = 'forged'".to_owned()),
        ("delete history", "DELETE FROM history".to_owned()),
        ("truncate history", "TRUNCATE history".to_owned()),
        ("update batches", "UPDATE batches SET reason = 'forged'".to_owned()),
        ("delete batches", "DELETE FROM batches".to_owned()),
        ("truncate batches", "TRUNCATE batches".to_owned()),
        ("update head history", "UPDATE head_history SET reason = 'forged'".to_owned()),
        ("delete head history", "DELETE FROM head_history".to_owned()),
        ("truncate head history", "TRUNCATE head_history".to_owned()),
        ("delete the chain", "DELETE FROM history_chain".to_owned()),
        (
            "plain-SQL rewind (upsert)",
            "INSERT INTO cursors (consumer, channel, partition, \"offset\") VALUES ('billing', 'orders', 0, 1) \
             ON CONFLICT (consumer, channel, partition) DO UPDATE SET \"offset\" = 1"
                .to_owned(),
        ),
        (
            "plain-SQL rewind",
            "UPDATE cursors SET \"offset\" = 1 WHERE consumer = 'billing'".to_owned(),
        ),
        (
            "plain-SQL removal",
            "DELETE FROM cursors WHERE consumer = 'billing'".to_owned(),
        ),
    ];
    for role in ["viewer", "consumer", "operator"] {
        let mut client = roles.client(role);
        for (what, sql) in &statements {
            let before = env.dump();
            let highest: i64 = pg_admin()
                .query_one(
                    &format!(
                        "SELECT coalesce(max(id), 0) FROM {}.history",
                        env.pg_schema().unwrap()
                    ),
                    &[],
                )
                .unwrap()
                .get(0);
            match client.batch_execute(sql) {
                Err(e) => {
                    let code = e.code().map(|c| c.code().to_owned());
                    assert_eq!(code.as_deref(), Some("42501"), "{role} {what}: {e}");
                    assert_eq!(env.dump(), before, "{role} {what} changed the store");
                }
                Ok(()) => {
                    // Only an operator may add a change or a batch, and
                    // then it is the server's: its id next, its time now,
                    // its role proven.
                    assert_eq!(role, "operator", "{what}");
                    let table = match *what {
                        "chosen role and time" => "history",
                        "forged batch" => "batches",
                        _ => panic!("{role} {what}: accepted"),
                    };
                    let row = pg_admin()
                        .query_one(
                            &format!(
                                "SELECT id, at, role FROM {}.{table} ORDER BY id DESC LIMIT 1",
                                env.pg_schema().unwrap()
                            ),
                            &[],
                        )
                        .unwrap();
                    if table == "history" {
                        assert_eq!(row.get::<_, i64>(0), highest + 1);
                    }
                    assert!(row.get::<_, i64>(1) > 1_700_000_000_000);
                    assert_eq!(row.get::<_, String>(2), roles.login("operator"));
                }
            }
        }
        // The consumer's forward move in plain SQL needs no history row.
        if role == "consumer" {
            client
                .batch_execute("UPDATE cursors SET \"offset\" = 9 WHERE consumer = 'billing'")
                .unwrap();
            assert_eq!(env.offset("billing", "orders:0"), Some(9));
        }
    }
    // The tool's next writes work, as the owner and as an operator, and the
    // chain holds.
    env.ok(&["advance", "billing", "orders:0", "-q"]);
    env.ok(&["head", "set", "orders:0", "101", "-q"]);
    env.ok_stdin(
        &["set", "--from-file", "-", "--create", "-q"],
        "key,offset\nbilling:orders:1,1\n",
    );
    let out = roles.run("operator", &["advance", "billing", "orders:0", "-q"]);
    assert!(out.status.success(), "{out:?}");
    let out = roles.run(
        "operator",
        &[
            "set",
            "billing",
            "orders:0",
            "2",
            "--allow-rewind",
            "--reason",
            "replay",
            "-q",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(env.offset("billing", "orders:0"), Some(2));
    verified(env);
}
