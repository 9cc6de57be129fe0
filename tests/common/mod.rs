//! The integration-test harness: a fresh temp directory and store, a clean
//! environment, the real binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use rusqlite::{Connection, OpenFlags};
use tempfile::TempDir;

pub const BIN: &str = env!("CARGO_BIN_EXE_cursorctl");

/// A temp directory holding (maybe) a store.
pub struct Env {
    pub dir: TempDir,
    pub db: PathBuf,
}

impl Env {
    /// A directory with no store yet.
    pub fn empty() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("cursors.db");
        Self { dir, db }
    }

    /// A directory with an initialised store.
    pub fn new() -> Self {
        let env = Self::empty();
        env.ok(&["init"]);
        env
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
            .env("CURSORCTL_DB", &self.db)
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

    /// A raw connection to the store (for checks and for playing another writer).
    pub fn conn(&self) -> Connection {
        Connection::open_with_flags(&self.db, OpenFlags::SQLITE_OPEN_READ_WRITE)
            .expect("open store")
    }

    /// The store's header fields, schema and rows, as text: compare before
    /// and after (see [`dump`]).
    pub fn dump(&self) -> String {
        dump(&self.db)
    }

    /// Where the store is, for the library.
    pub fn location(&self) -> cursorctl::StoreLocation {
        cursorctl::StoreLocation::Sqlite(self.db.clone())
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

/// Whether an external tool the test needs is installed. When it is not,
/// the test must not pass silently: under CI (`CI` set) this fails the test,
/// elsewhere it says on stderr that the test was skipped and returns false.
pub fn require_tool(tool: &str, test: &str) -> bool {
    let installed = std::process::Command::new(tool)
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if installed {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none_or(|v| v.is_empty()),
        "{test}: {tool} is not installed, and CI is set: install {tool}"
    );
    eprintln!("SKIPPED {test}: {tool} is not installed (under CI this fails)");
    false
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The PostgreSQL server the tests use: `CURSORCTL_TEST_PG`, or the local
/// server.
pub fn pg_url() -> String {
    std::env::var("CURSORCTL_TEST_PG")
        .unwrap_or_else(|_| "postgres://root@127.0.0.1:5432/test".to_owned())
}

/// A connection to the test server for checks and setup, outside the store.
pub fn pg_admin() -> ::postgres::Client {
    ::postgres::Client::connect(&pg_url(), ::postgres::NoTls).expect("connect to PostgreSQL")
}

/// Whether the PostgreSQL cases can run. Where no server is reachable they
/// are skipped with a message, except under CI, where that is a failure.
pub fn pg_available() -> bool {
    static REACHABLE: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    let reachable = REACHABLE.get_or_init(|| {
        ::postgres::Client::connect(&pg_url(), ::postgres::NoTls)
            .map(drop)
            .map_err(|e| e.to_string())
    });
    match reachable {
        Ok(()) => true,
        Err(e) if std::env::var_os("CI").is_some() => {
            panic!(
                "CI is set and PostgreSQL at {} is not reachable: {e}",
                pg_url()
            )
        }
        Err(e) => {
            eprintln!("skipped: PostgreSQL at {} is not reachable ({e})", pg_url());
            false
        }
    }
}
