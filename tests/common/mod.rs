//! The integration-test harness: a fresh store (a temp SQLite file, or a
//! PostgreSQL schema of its own), a clean environment, the real binary.
#![allow(dead_code)]

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::atomic::{AtomicU32, Ordering};

use assert_cmd::Command;
use rusqlite::{Connection, OpenFlags};
use tempfile::TempDir;

pub const BIN: &str = env!("CARGO_BIN_EXE_cursorctl");

/// A backend the tests run a store on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend's name, as the library's `Backend::name` and the
    /// modules of `backend_tests!` have it.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }

    /// Whether this backend can be tested here (see [`pg_available`]).
    pub fn available(self) -> bool {
        match self {
            Self::Sqlite => true,
            Self::Postgres => pg_available(),
        }
    }
}

/// Expand test cases (functions taking a [`Backend`]) into one test per
/// case and backend: `mod sqlite { ... }` and `mod postgres { ... }`. A
/// PostgreSQL case runs unless `CURSORCTL_TEST_PG=skip` (see
/// [`pg_available`]).
macro_rules! backend_tests {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $case() {
                    super::$case($crate::common::Backend::Sqlite);
                }
            )*
        }
        mod postgres {
            $(
                #[test]
                fn $case() {
                    let backend = $crate::common::Backend::Postgres;
                    if backend.available() {
                        super::$case(backend);
                    }
                }
            )*
        }
    };
}
pub(crate) use backend_tests;

/// A temp directory, and a store: a SQLite file in the directory, or a
/// PostgreSQL schema of its own (dropped with the `Env`). Commands run in
/// the directory with `CURSORCTL_DB` naming the store.
pub struct Env {
    pub dir: TempDir,
    /// The SQLite store file (for a PostgreSQL `Env`, a path where nothing
    /// is: use [`Env::db_arg`] for the store's location).
    pub db: PathBuf,
    pub backend: Backend,
    pg: Option<PgSchema>,
}

impl Env {
    /// A SQLite store's directory with no store yet.
    pub fn empty() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("cursors.db");
        Self {
            dir,
            db,
            backend: Backend::Sqlite,
            pg: None,
        }
    }

    /// An initialised SQLite store.
    pub fn new() -> Self {
        let env = Self::empty();
        env.ok(&["init"]);
        env
    }

    /// A location of `backend` with no store yet: for PostgreSQL, a schema
    /// name nothing exists under.
    pub fn empty_on(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => Self::empty(),
            Backend::Postgres => Self {
                pg: Some(PgSchema::new("t")),
                backend,
                ..Self::empty()
            },
        }
    }

    /// An initialised store of `backend`. A PostgreSQL store is made
    /// through the library, in this process (as `cursorctl init` would,
    /// without starting one).
    pub fn on(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => Self::new(),
            Backend::Postgres => {
                let env = Self::empty_on(backend);
                let (_, outcome) =
                    cursorctl::store::init(&env.location(), std::time::Duration::from_secs(10))
                        .expect("create the PostgreSQL store");
                assert_eq!(outcome, cursorctl::store::InitOutcome::Created);
                env
            }
        }
    }

    /// The store's location as `--db` and `CURSORCTL_DB` take it: the
    /// SQLite file's path or the PostgreSQL URL with its schema.
    pub fn db_arg(&self) -> OsString {
        match &self.pg {
            Some(pg) => pg.url.clone().into(),
            None => self.db.clone().into(),
        }
    }

    /// The PostgreSQL schema of this store, if it is one.
    pub fn pg_schema(&self) -> Option<&str> {
        self.pg.as_ref().map(|pg| pg.name.as_str())
    }

    /// The binary with a clean environment pointed at this store.
    pub fn cmd(&self) -> Command {
        Command::from_std(self.std_cmd())
    }

    /// The same, as a plain process builder (for spawning and piping).
    pub fn std_cmd(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(BIN);
        cmd.env_clear()
            .env("NO_COLOR", "1")
            .env("USER", "tester")
            .env("CURSORCTL_DB", self.db_arg())
            .current_dir(self.dir.path());
        cmd
    }
    /// Run and return the output, whatever the exit code.
    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().expect("run cursorctl")
    }

    /// Run with stdin.
    pub fn run_stdin(&self, args: &[&str], stdin: impl Into<Vec<u8>>) -> Output {
        self.cmd()
            .args(args)
            .write_stdin(stdin)
            .output()
            .expect("run cursorctl")
    }

    /// Run, require exit 0, return stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "cursorctl {args:?} failed\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }

    /// Run with stdin, require exit 0, return stdout.
    pub fn ok_stdin(&self, args: &[&str], stdin: impl Into<Vec<u8>>) -> String {
        let out = self.run_stdin(args, stdin);
        assert_eq!(
            out.status.code(),
            Some(0),
            "cursorctl {args:?} failed\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }

    /// Run, require `code`, return stderr.
    pub fn fails(&self, code: i32, args: &[&str]) -> String {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(code),
            "cursorctl {args:?}: expected exit {code}\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    /// A raw connection to a SQLite store (for checks and for playing
    /// another writer).
    pub fn conn(&self) -> Connection {
        assert_eq!(self.backend, Backend::Sqlite, "conn() is for SQLite stores");
        let conn = Connection::open_with_flags(&self.db, OpenFlags::SQLITE_OPEN_READ_WRITE)
            .expect("open store");
        define_chain_function(&conn);
        conn
    }

    /// Run SQL statements on the store below the store boundary, as
    /// another program would (on PostgreSQL with the store's schema first
    /// on the search path). Quote `"offset"`: it is a keyword in
    /// PostgreSQL.
    pub fn execute(&self, sql: &str) {
        match &self.pg {
            Some(pg) => pg
                .admin()
                .batch_execute(sql)
                .unwrap_or_else(|e| panic!("{sql}: {e}")),
            None => self
                .conn()
                .execute_batch(sql)
                .unwrap_or_else(|e| panic!("{sql}: {e}")),
        }
    }

    /// Take the store's write lock, as another writer in a transaction
    /// would, until the lock is released or dropped: SQLite's
    /// `BEGIN IMMEDIATE`; on PostgreSQL a lock on the cursors table that
    /// stops every writer and no reader.
    pub fn write_lock(&self) -> WriteLock {
        match &self.pg {
            Some(pg) => {
                let mut client = pg.admin();
                client
                    .batch_execute("BEGIN; LOCK TABLE cursors IN EXCLUSIVE MODE")
                    .expect("lock the cursors table");
                WriteLock::Postgres(client)
            }
            None => {
                let conn = self.conn();
                conn.execute_batch("BEGIN IMMEDIATE")
                    .expect("BEGIN IMMEDIATE");
                WriteLock::Sqlite(conn)
            }
        }
    }

    /// The store's header fields, schema and rows, as text: compare before
    /// and after (see [`dump`] and [`pg_dump`]).
    pub fn dump(&self) -> String {
        match &self.pg {
            Some(pg) => pg_dump(&pg.name),
            None => dump(&self.db),
        }
    }

    /// Where the store is, for the library.
    pub fn location(&self) -> cursorctl::StoreLocation {
        match &self.pg {
            Some(pg) => pg.location(),
            None => cursorctl::StoreLocation::from(self.db.clone()),
        }
    }

    /// The store, opened read-only through the library (as any backend
    /// would be).
    pub fn store(&self) -> Box<dyn cursorctl::Store> {
        cursorctl::store::open(
            &self.location(),
            cursorctl::Access::ReadOnly,
            std::time::Duration::from_secs(10),
        )
        .expect("open the store")
    }

    /// The stored offset of a cursor, read through the library.
    pub fn offset(&self, consumer: &str, partition_key: &str) -> Option<i64> {
        let key = cursorctl::CursorKey::parse(&format!("{consumer}:{partition_key}")).unwrap();
        self.store()
            .cursor(&key)
            .expect("read the cursor")
            .map(|row| i64::try_from(row.offset).unwrap())
    }

    /// Every history row, oldest first, read through the library.
    pub fn history(&self) -> Vec<cursorctl::HistoryRow> {
        let mut rows = Vec::new();
        self.store()
            .visit_changes(&cursorctl::HistoryFilter::default(), &mut |row| {
                rows.push(row.clone());
                std::ops::ControlFlow::Continue(())
            })
            .expect("read the history");
        rows
    }

    /// How many history rows there are, read through the library.
    pub fn history_len(&self) -> i64 {
        let mut n = 0;
        self.store()
            .visit_changes(&cursorctl::HistoryFilter::default(), &mut |_| {
                n += 1;
                std::ops::ControlFlow::Continue(())
            })
            .expect("read the history");
        n
    }

    /// Create cursors directly.
    pub fn seed(&self, cursors: &[(&str, &str, i64)]) {
        for (consumer, pk, offset) in cursors {
            self.ok(&["set", consumer, pk, &offset.to_string(), "--create", "-q"]);
        }
    }
}

/// Another writer's transaction holding the store's write lock (see
/// [`Env::write_lock`]); rolled back when dropped.
pub enum WriteLock {
    Sqlite(Connection),
    Postgres(::postgres::Client),
}

impl WriteLock {
    /// Run SQL statements in the transaction.
    pub fn execute(&mut self, sql: &str) {
        match self {
            Self::Sqlite(conn) => conn
                .execute_batch(sql)
                .unwrap_or_else(|e| panic!("{sql}: {e}")),
            Self::Postgres(client) => client
                .batch_execute(sql)
                .unwrap_or_else(|e| panic!("{sql}: {e}")),
        }
    }

    /// Commit the transaction, which releases the lock.
    pub fn commit(mut self) {
        self.execute("COMMIT");
    }

    /// Roll the transaction back, which releases the lock.
    pub fn release(self) {
        drop(self);
    }
}

impl Drop for WriteLock {
    fn drop(&mut self) {
        // After a commit there is no transaction: the rollback is a no-op.
        let _ = match self {
            Self::Sqlite(conn) => conn.execute_batch("ROLLBACK").is_ok(),
            Self::Postgres(client) => client.batch_execute("ROLLBACK").is_ok(),
        };
    }
}

/// Everything a command could change in a SQLite store, as text, read
/// below the store boundary so that nothing the library does can hide a
/// change: the header
/// fields (`user_version`, `application_id`, the journal mode), the schema
/// (every `sqlite_master` row, with its SQL) and every row of every table,
/// in a fixed order. Two equal dumps mean the store's content is unchanged.
pub fn dump(db: &Path) -> String {
    let conn =
        Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY).expect("open store");
    let mut out = String::new();
    for pragma in ["user_version", "application_id", "journal_mode"] {
        let v: rusqlite::types::Value =
            conn.pragma_query_value(None, pragma, |r| r.get(0)).unwrap();
        out.push_str(&format!("pragma {pragma}|{v:?}\n"));
    }
    let mut tables = Vec::new();
    let mut stmt = conn
        .prepare("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name")
        .unwrap();
    let mut rows = stmt.query([]).unwrap();
    while let Some(row) = rows.next().unwrap() {
        let (kind, name, table, sql): (String, String, String, Option<String>) = (
            row.get(0).unwrap(),
            row.get(1).unwrap(),
            row.get(2).unwrap(),
            row.get(3).unwrap(),
        );
        out.push_str(&format!("schema|{kind}|{name}|{table}|{sql:?}\n"));
        if kind == "table" {
            tables.push(name);
        }
    }
    for table in tables {
        let n = conn
            .prepare(&format!("SELECT * FROM \"{table}\""))
            .unwrap()
            .column_count();
        let order: Vec<String> = (1..=n).map(|i| i.to_string()).collect();
        let mut stmt = conn
            .prepare(&format!(
                "SELECT * FROM \"{table}\" ORDER BY {}",
                order.join(", ")
            ))
            .unwrap();
        let mut rows = stmt.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            out.push_str(&table);
            for i in 0..n {
                let v: rusqlite::types::Value = row.get(i).unwrap();
                out.push_str(&format!("|{v:?}"));
            }
            out.push('\n');
        }
    }
    out
}

/// The one way a test skips what it cannot check here: under CI (`CI`
/// set) it fails the test, saying why; elsewhere it says on the test run's
/// stderr that the test (or the part of it named in `why`) was skipped, and
/// returns `false` (nothing was checked), so that a caller can write
/// `return skip(...)` or `ok || skip(...)`. The note is written to the
/// process's stderr itself, past the test harness's capture, so that
/// `cargo test` shows it.
pub fn skip(why: &str) -> bool {
    skip_where(under_ci(), why)
}

/// [`skip`], told whether CI is set.
pub fn skip_where(ci: bool, why: &str) -> bool {
    use std::io::Write;
    let current = std::thread::current();
    let test = current.name().unwrap_or("a test");
    assert!(!ci, "{test}: CI is set and {why}");
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {test}: {why} (under CI this fails)"
    );
    false
}

/// Whether `CI` is set (to anything but the empty string).
fn under_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty())
}

/// Whether an external tool the test needs is installed; when it is not,
/// the test is skipped through [`skip`] (a failure under CI).
pub fn require_tool(tool: &str) -> bool {
    let installed = std::process::Command::new(tool)
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    installed || skip(&format!("{tool} is not installed: install {tool}"))
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// What `CURSORCTL_TEST_PG` is set to, to run the tests without the
/// PostgreSQL cases.
pub const PG_OPT_OUT: &str = "skip";

/// The PostgreSQL server the tests use: `CURSORCTL_TEST_PG` (a URL), or
/// the local server.
pub fn pg_url() -> String {
    std::env::var("CURSORCTL_TEST_PG")
        .ok()
        .filter(|v| v != PG_OPT_OUT)
        .unwrap_or_else(|| "postgres://root@127.0.0.1:5432/test".to_owned())
}

/// A connection to the test server for checks and setup, outside the store.
pub fn pg_admin() -> ::postgres::Client {
    ::postgres::Client::connect(&pg_url(), ::postgres::NoTls).expect("connect to PostgreSQL")
}

/// Whether the PostgreSQL cases run. They do unless `CURSORCTL_TEST_PG=skip`
/// opts out, in which case each is skipped through [`skip`] (so under CI it
/// fails). A server that cannot be reached is a failure, never a silent
/// pass: the message says how to start one or opt out.
pub fn pg_available() -> bool {
    static REACHABLE: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    if std::env::var("CURSORCTL_TEST_PG").is_ok_and(|v| v == PG_OPT_OUT) {
        return skip("CURSORCTL_TEST_PG=skip: the PostgreSQL cases are not run");
    }
    let reachable = REACHABLE.get_or_init(|| {
        ::postgres::Client::connect(&pg_url(), ::postgres::NoTls)
            .map(drop)
            .map_err(|e| {
                // The error and its causes: "error connecting to server"
                // alone does not say why.
                let mut text = e.to_string();
                let mut cause = std::error::Error::source(&e);
                while let Some(c) = cause {
                    text.push_str(&format!(": {c}"));
                    cause = c.source();
                }
                text
            })
    });
    if let Err(e) = reachable {
        panic!(
            "PostgreSQL at {} is not reachable ({e}). Start the test server with \
             `bash .ci/postgres.sh`, set CURSORCTL_TEST_PG to another server's URL, \
             or run without the PostgreSQL cases with CURSORCTL_TEST_PG=skip",
            pg_url()
        );
    }
    true
}

/// A schema of its own on the test server, `PREFIX_PID_N`, dropped with
/// everything in it when this is dropped. Nothing is created here: the
/// schema exists once a store (or a test) creates it.
pub struct PgSchema {
    pub name: String,
    /// The test server's URL naming this schema.
    pub url: String,
}

impl PgSchema {
    pub fn new(prefix: &str) -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "{prefix}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let url = format!("{}?schema={name}", pg_url());
        Self { name, url }
    }

    /// The schema as a store location, for the library.
    pub fn location(&self) -> cursorctl::StoreLocation {
        self.url.parse().expect("a PostgreSQL location")
    }

    /// A connection to the test server with this schema first on the
    /// search path.
    pub fn admin(&self) -> ::postgres::Client {
        let mut client = pg_admin();
        client
            .batch_execute(&format!("SET search_path = {}", self.name))
            .expect("set the search path");
        client
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        // Never panic here: a test that failed is unwinding through it.
        if let Ok(mut client) = ::postgres::Client::connect(&pg_url(), ::postgres::NoTls) {
            let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name));
        }
    }
}

/// Everything a command could change in a PostgreSQL store, as text, read
/// through a connection of its own below the store boundary: every
/// relation of the schema, the columns with their types, defaults and
/// collations, the constraints, indexes, triggers and functions, and every
/// row of every table (`updated_at` included) in key order. Two equal
/// dumps mean the store's content is unchanged. The positions of the
/// identity sequences are left out: PostgreSQL moves them on in
/// transactions that roll back, so an id skipped is no change to the store.
pub fn pg_dump(schema: &str) -> String {
    let mut client = pg_admin();
    let ns = format!("'{schema}'::regnamespace");
    let catalog = [
        (
            "relation",
            format!("SELECT relname::text || '|' || relkind::text FROM pg_class WHERE relnamespace = {ns} ORDER BY 1"),
        ),
        (
            "column",
            format!(
                "SELECT c.relname::text || '|' || a.attname::text || '|' || format_type(a.atttypid, a.atttypmod) \
                 || '|' || a.attnotnull::text || '|' || coalesce(pg_get_expr(d.adbin, d.adrelid), '') \
                 || '|' || coalesce(co.collname::text, '') \
                 FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
                 LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
                 LEFT JOIN pg_collation co ON co.oid = a.attcollation \
                 WHERE c.relnamespace = {ns} AND c.relkind = 'r' AND a.attnum > 0 \
                   AND NOT a.attisdropped \
                 ORDER BY c.relname, a.attnum"
            ),
        ),
        (
            "constraint",
            format!(
                "SELECT conrelid::regclass::text || '|' || conname::text || '|' || pg_get_constraintdef(oid) \
                 FROM pg_constraint WHERE connamespace = {ns} ORDER BY 1"
            ),
        ),
        (
            "index",
            format!("SELECT indexdef FROM pg_indexes WHERE schemaname = '{schema}' ORDER BY indexname"),
        ),
        (
            "trigger",
            format!(
                "SELECT pg_get_triggerdef(t.oid) || '|' || t.tgenabled::text FROM pg_trigger t \
                 JOIN pg_class c ON c.oid = t.tgrelid \
                 WHERE c.relnamespace = {ns} AND NOT t.tgisinternal ORDER BY 1"
            ),
        ),
        (
            "function",
            format!("SELECT pg_get_functiondef(oid) FROM pg_proc WHERE pronamespace = {ns} ORDER BY 1"),
        ),
    ];
    let mut out = String::new();
    for (what, sql) in catalog {
        for row in client.query(sql.as_str(), &[]).expect(what) {
            out.push_str(&format!("{what}|{}\n", row.get::<_, String>(0)));
        }
    }
    let tables = client
        .query(
            format!("SELECT relname::text FROM pg_class WHERE relnamespace = {ns} AND relkind = 'r' ORDER BY 1")
                .as_str(),
            &[],
        )
        .expect("tables");
    for table in tables {
        let table: String = table.get(0);
        // A row orders by its columns in turn: the key first.
        let rows = client
            .query(
                &format!("SELECT t::text FROM {schema}.\"{table}\" t ORDER BY t"),
                &[],
            )
            .expect("rows");
        for row in rows {
            out.push_str(&format!("{table}|{}\n", row.get::<_, String>(0)));
        }
    }
    out
}

/// Define the SQL function the history chain trigger of a SQLite store
/// (schema version 4) calls, as cursorctl does on its own connections, so
/// that a test may write history rows below the store boundary.
pub fn define_chain_function(conn: &Connection) {
    use rusqlite::types::ValueRef;
    conn.create_scalar_function(
        "cursorctl_chain",
        12,
        rusqlite::functions::FunctionFlags::SQLITE_UTF8,
        |ctx| {
            let prev = match ctx.get_raw(0) {
                ValueRef::Blob(b) => b.to_vec(),
                _ => Vec::new(),
            };
            let mut encoding = Vec::new();
            for i in 1..ctx.len() {
                let text = match ctx.get_raw(i) {
                    ValueRef::Null => None,
                    ValueRef::Integer(v) => Some(v.to_string()),
                    ValueRef::Real(v) => Some(v.to_string()),
                    ValueRef::Text(t) | ValueRef::Blob(t) => {
                        Some(String::from_utf8_lossy(t).into_owned())
                    }
                };
                cursorctl::store::chain::encode_field(&mut encoding, text.as_deref());
            }
            Ok(cursorctl::store::chain::link(&prev, &encoding))
        },
    )
    .expect("define the chain function");
}

/// What takes a SQLite store of schema version 4 back to version 3 (the
/// version 3 tables are then as the previous release made them).
pub const SQLITE_DOWN_FROM_V4: &str = "DROP TRIGGER history_chain; DROP TABLE history_chain; \
     DROP TABLE history_chain_gaps; ALTER TABLE history DROP COLUMN hash;";

/// What takes a PostgreSQL store of schema version 4 in `schema` back to
/// version 3 (the ids keep their sequences, as defaults of the columns).
pub fn pg_down_from_v4(schema: &str) -> String {
    format!(
        "DROP TABLE {schema}.history_chain, {schema}.history_chain_gaps, {schema}.history_prunes; \
         DROP FUNCTION {schema}.history_rules(), {schema}.history_chain_head(), {schema}.batches_rules(), \
             {schema}.head_history_rules(), {schema}.append_only(), {schema}.cursors_rewind_check(), \
             {schema}.prune_history(bigint) CASCADE; \
         ALTER TABLE {schema}.history DROP COLUMN hash; \
         ALTER TABLE {schema}.history ALTER id SET DEFAULT nextval('{schema}.history_id_seq'); \
         ALTER TABLE {schema}.batches ALTER id SET DEFAULT nextval('{schema}.batches_id_seq'); \
         ALTER TABLE {schema}.head_history ALTER id SET DEFAULT nextval('{schema}.head_history_id_seq');"
    )
}
