//! The PostgreSQL cursor store: one store shared by consumers on many hosts.
//!
//! The tables live in their own PostgreSQL schema (default `cursorctl`;
//! another with `schema=NAME` in the location), marked and versioned by a
//! meta table. Every compare-and-swap is one guarded statement, history
//! rows are written in the transaction of their change, ids come from
//! `RETURNING`, and times from the server's clock. Nothing rests on
//! advisory locks or on a store-wide lock. The schema is in docs/store.md.
//!
//! - `conninfo.rs`: the location read as libpq reads it (a URL or a
//!   `key=value` string);
//! - `connect.rs`: the `PG*` variables, one attempt per host, errors;
//! - `pgpass.rs`: the password file (`~/.pgpass`, `PGPASSFILE`);
//! - `tls.rs`: `sslmode` and `sslrootcert`, through rustls;
//! - `schema.rs`: the schema and what a schema holds;
//! - `read.rs`: one cursor, streamed listings and history;
//! - `write.rs`: the write transaction.

mod about;
#[cfg(feature = "async")]
mod asynchronous;
mod connect;
mod conninfo;
mod failover;
mod heads;
mod leases;
mod pgpass;
mod read;
mod schema;
mod snapshots;
mod statements;
mod store_read;
mod target;
mod tls;
mod verify;
mod write;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::time::Duration;

use postgres::types::{ToSql, Type};
use postgres::{Row, Statement};

#[cfg(feature = "async")]
pub use asynchronous::AsyncPostgresStore;
pub use connect::{DEFAULT_CONNECT_TIMEOUT, DEFAULT_SCHEMA};
pub use schema::{APPLICATION, SCHEMA_VERSION};
pub use write::PostgresTxn;

use super::{
    Access, CursorFilter, CursorRow, DurableStore, HistoryFilter, HistoryRow, InitOutcome,
    ReadView, Store, StoreLocation, StoreRead, Visit, WriteTxn,
};
use crate::error::{DurabilityError, StoreError, StoreErrorKind, WriteOutcome};
use crate::key::CursorKey;
use connect::{pg_error, Conn, Target};
use schema::Found;

/// A cursor store in a PostgreSQL schema.
///
/// A lost connection (the server restarted or failed over, an
/// administrator's `pg_terminate_backend`, a network cut) fails the call
/// it happened in with [`StoreError::ConnectionLost`], which says whether
/// anything was written, and the next call outside a transaction
/// connects again, trying for up to the busy timeout (backing off between
/// attempts) before it gives up.
///
/// The store is `Send`, not `Sync`: one connection, one thread at a time
/// (share it behind a `Mutex`, or open one per thread). It may be used,
/// and dropped, inside a tokio runtime: its calls then run on a thread of
/// their own and block the calling thread (the `async` feature's store does
/// not).
pub struct PostgresStore {
    client: RefCell<Conn>,
    /// Where to connect again after the connection was lost.
    target: Target,
    /// Whether the connection was lost (the next call reconnects).
    lost: Cell<bool>,
    location: StoreLocation,
    describe: String,
    /// The statements run on the connection: prepared (from their second
    /// run on), or run once.
    statements: RefCell<HashMap<&'static str, Option<Statement>>>,
    /// Whether a transaction (a snapshot or a write) is open on the
    /// connection.
    in_transaction: Cell<bool>,
    /// Whether a statement failed with a serialization failure or a
    /// deadlock since the last transaction began.
    conflict: Cell<bool>,
    busy_timeout: Duration,
    /// Whether `init` created this store: its schema, and whether it
    /// created the schema too (rather than found it empty).
    created: Option<(String, bool)>,
    /// The schema version of the store, once known.
    version: Cell<i64>,
    /// The location as given (with its password, never shown): to connect
    /// again when a commit's connection is lost.
    origin: StoreLocation,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Connect. The store's location is then the one used, as the URL of
    /// its user, hosts, database and schema (whatever of them the `PG*`
    /// variables gave), never a password.
    fn connected(
        origin: &StoreLocation,
        target: &Target,
        busy_timeout: Duration,
    ) -> Result<Self, StoreError> {
        let client = connect::connect(target)?;
        Ok(Self {
            client: RefCell::new(Conn::new(client)),
            target: target.clone(),
            lost: Cell::new(false),
            location: target.shown.clone(),
            describe: target.describe.clone(),
            statements: RefCell::default(),
            in_transaction: Cell::new(false),
            conflict: Cell::new(false),
            busy_timeout,
            created: None,
            version: Cell::new(0),
            origin: origin.clone(),
        })
    }

    /// Open an existing cursor store. Never creates one.
    ///
    /// # Errors
    ///
    /// [`StoreError::Missing`] when the schema does not exist, and every
    /// reason it cannot be used as a cursor store; connection failures.
    pub fn open(
        location: &StoreLocation,
        access: Access,
        busy_timeout: Duration,
    ) -> Result<Self, StoreError> {
        let target = connect::target(location, access, busy_timeout)?;
        let store = Self::connected(location, &target, busy_timeout)?;
        let found = store
            .client
            .borrow_mut()
            .run(|c| schema::inspect(c, &target.schema))?;
        store.accept(found, &target.schema)?;
        Ok(store)
    }

    /// Create a cursor store in the location's schema, or confirm that one
    /// is there. A schema holding anything else is refused and left as it
    /// is. Creation is one transaction; a concurrent `init` that wins the
    /// race makes this one confirm its store.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotACursorStore`], [`StoreError::NewerSchema`],
    /// connection failures and failures to create the schema.
    pub fn init(
        location: &StoreLocation,
        busy_timeout: Duration,
    ) -> Result<(Self, InitOutcome), StoreError> {
        let target = connect::target(location, Access::ReadWrite, busy_timeout)?;
        let mut store = Self::connected(location, &target, busy_timeout)?;
        for _ in 0..5 {
            let found = store
                .client
                .borrow_mut()
                .run(|c| schema::inspect(c, &target.schema))?;
            let schema_missing = found == Found::Missing;
            match found {
                Found::Missing | Found::Empty => {}
                Found::Store(version) if version < SCHEMA_VERSION => {
                    let sql = format!(
                        "BEGIN; SET LOCAL search_path = {schema}; \
                         SELECT value FROM meta WHERE key = 'schema_version' FOR UPDATE; {}",
                        schema::upgrade_sql(version),
                        schema = target.schema
                    );
                    let mut client = store.client.borrow_mut();
                    let upgraded = client.batch_execute(&sql).and_then(|()| {
                        client.batch_execute(&format!(
                            "UPDATE meta SET value = '{SCHEMA_VERSION}' WHERE key = 'schema_version'; COMMIT;"
                        ))
                    });
                    match upgraded {
                        Ok(()) => {
                            drop(client);
                            store.version.set(SCHEMA_VERSION);
                            return Ok((store, InitOutcome::Upgraded { from: version }));
                        }
                        Err(e) if is_lost_init_race(&e) => {
                            let _ = client.batch_execute("ROLLBACK");
                        }
                        Err(e) => {
                            let _ = client.batch_execute("ROLLBACK");
                            return Err(pg_error("upgrading the store", e));
                        }
                    }
                    continue;
                }
                other => {
                    store.accept(other, &target.schema)?;
                    return Ok((store, InitOutcome::AlreadyInitialised));
                }
            }
            let sql = format!("BEGIN;{}COMMIT;", schema::schema_sql(&target.schema));
            let mut client = store.client.borrow_mut();
            match client.batch_execute(&sql) {
                Ok(()) => {
                    drop(client);
                    store.created = Some((target.schema.clone(), schema_missing));
                    store.version.set(SCHEMA_VERSION);
                    return Ok((store, InitOutcome::Created));
                }
                Err(e) if is_lost_init_race(&e) => {
                    let _ = client.batch_execute("ROLLBACK");
                }
                Err(e) => {
                    let _ = client.batch_execute("ROLLBACK");
                    return Err(pg_error("creating the store", e));
                }
            }
        }
        Err(StoreError::Busy)
    }

    /// Accept a cursor store of a version this build reads; refuse the
    /// rest.
    fn accept(&self, found: Found, schema: &str) -> Result<(), StoreError> {
        match found {
            Found::Store(version) if version > SCHEMA_VERSION => Err(StoreError::NewerSchema {
                location: self.location.clone(),
                found: version,
                supported: SCHEMA_VERSION,
            }),
            Found::Store(version) => {
                self.version.set(version);
                Ok(())
            }
            Found::Missing => Err(StoreError::Missing {
                location: self.location.clone(),
            }),
            Found::Empty => Err(StoreError::NotACursorStore {
                location: self.location.clone(),
                detail: format!("schema {schema} is empty; create a store with `cursorctl init`"),
            }),
            Found::Foreign(detail) => Err(StoreError::NotACursorStore {
                location: self.location.clone(),
                detail,
            }),
        }
    }

    /// Run `f` with the connection and the statement `sql`, whose
    /// parameters have the types `types`. The first time a connection runs
    /// a statement it goes unnamed, with its parameters, in one round trip;
    /// the second time it is prepared, and kept for the connection's life.
    /// A one-shot command runs most statements once, where preparing first
    /// would cost a round trip each; a consumer's checkpoints reuse the
    /// prepared statement.
    fn with_statement<T>(
        &self,
        sql: &'static str,
        types: &'static [Type],
        f: impl FnOnce(&mut Conn, Stmt<'_>) -> Result<T, postgres::Error>,
    ) -> Result<T, postgres::Error> {
        let mut client = self.client.borrow_mut();
        let cached = self.statements.borrow().get(sql).cloned();
        let statement = match cached {
            Some(Some(s)) => Stmt::Prepared(s),
            Some(None) => {
                let s = client.prepare_typed(sql, types)?;
                self.statements.borrow_mut().insert(sql, Some(s.clone()));
                Stmt::Prepared(s)
            }
            None => {
                self.statements.borrow_mut().insert(sql, None);
                Stmt::Once(sql, types)
            }
        };
        f(&mut client, statement)
    }

    /// Run `f` in a read-only transaction unless one is open already (a
    /// listing's cursor lives in a transaction).
    fn in_read_transaction<T>(
        &self,
        f: impl FnOnce() -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        if self.in_transaction.get() {
            return f();
        }
        self.reconnect_if_lost()?;
        self.simple("BEGIN READ ONLY", "starting a read transaction")?;
        self.in_transaction.set(true);
        let result = f();
        self.in_transaction.set(false);
        let end = self.simple("COMMIT", "ending a read transaction");
        let value = result?;
        end?;
        Ok(value)
    }

    fn simple(&self, sql: &str, context: &str) -> Result<(), StoreError> {
        self.client
            .borrow_mut()
            .batch_execute(sql)
            .map_err(|e| self.error(context, e))
    }

    /// A store error that names the server and database. A lost
    /// connection is [`StoreError::ConnectionLost`]: rolled back inside a
    /// transaction (the server rolls back the open transaction of a lost
    /// connection) and for a read; see [`PostgresStore::write_error`] for a
    /// write.
    fn error(&self, context: &str, e: postgres::Error) -> StoreError {
        self.classify(context, e, WriteOutcome::RolledBack)
    }

    /// The error of a statement that writes on its own (its own
    /// transaction, committed by the server as it ends): a connection lost
    /// then leaves its outcome unknown, as the server may have committed it
    /// before the answer was lost. Inside a transaction, rolled back.
    pub(super) fn write_error(&self, context: &str, e: postgres::Error) -> StoreError {
        let outcome = if self.in_transaction.get() {
            WriteOutcome::RolledBack
        } else {
            WriteOutcome::Unknown
        };
        self.classify(context, e, outcome)
    }

    fn classify(&self, context: &str, e: postgres::Error, outcome: WriteOutcome) -> StoreError {
        if connect::is_retryable(&e) {
            self.conflict.set(true);
        }
        // The connection may be borrowed by the caller still (an error
        // mapped inside the statement that borrowed it).
        let closed = e.is_closed() || self.client.try_borrow().is_ok_and(|c| c.is_closed());
        match pg_error(&format!("{context} ({})", self.describe), e) {
            StoreError::Database {
                context,
                kind: StoreErrorKind::Connection,
                source,
            } => {
                self.lost.set(true);
                StoreError::ConnectionLost {
                    context,
                    outcome,
                    source,
                }
            }
            other => {
                if closed {
                    self.lost.set(true);
                }
                other
            }
        }
    }

    /// Take a new connection in place of the lost one: the statements
    /// prepared on the old one are gone with it.
    pub(super) fn reconnected(&self, client: postgres::Client) {
        self.client.borrow_mut().replace(client);
        self.statements.borrow_mut().clear();
        self.lost.set(false);
        self.conflict.set(false);
    }

    /// Connect again if the connection was lost, outside a transaction
    /// (a transaction lost with its connection is over: its caller was
    /// told). Attempts back off from 20 ms to 1 s, for up to the busy
    /// timeout; then the last attempt's failure is returned, with nothing
    /// written, and the next call tries again.
    fn reconnect_if_lost(&self) -> Result<(), StoreError> {
        if self.in_transaction.get() {
            return Ok(());
        }
        // Borrowed: called from within a call on the connection (a
        // listing's visitor), which reports its own failure.
        let Ok(closed) = self.client.try_borrow_mut().map(|c| c.is_closed()) else {
            return Ok(());
        };
        if !(closed || self.lost.get()) {
            return Ok(());
        }
        let mut backoff = reconnect_backoff(self.busy_timeout);
        loop {
            match connect::connect(&self.target) {
                Ok(client) => {
                    self.reconnected(client);
                    return Ok(());
                }
                Err(e) if e.kind() == StoreErrorKind::Connection && backoff.wait() => {}
                Err(StoreError::Database {
                    context,
                    kind: StoreErrorKind::Connection,
                    source,
                }) => {
                    return Err(StoreError::ConnectionLost {
                        context: format!("{context}, again after the connection was lost"),
                        outcome: WriteOutcome::RolledBack,
                        source,
                    })
                }
                Err(other) => return Err(other),
            }
        }
    }
}

/// A statement as [`PostgresStore::with_statement`] hands it out.
enum Stmt<'a> {
    Prepared(Statement),
    /// Not prepared: the text and the parameter types, sent with the
    /// parameters.
    Once(&'a str, &'a [Type]),
}

type Params<'p> = [&'p (dyn ToSql + Sync)];

impl Stmt<'_> {
    fn typed<'p>(&self, params: &Params<'p>) -> Vec<(&'p (dyn ToSql + Sync), Type)> {
        let Stmt::Once(_, types) = self else {
            return Vec::new();
        };
        params.iter().copied().zip(types.iter().cloned()).collect()
    }

    fn execute(&self, client: &mut Conn, params: &Params<'_>) -> Result<u64, postgres::Error> {
        match self {
            Stmt::Prepared(s) => client.execute(s, params),
            Stmt::Once(sql, _) => client.execute_typed(sql, &self.typed(params)),
        }
    }

    fn query(&self, client: &mut Conn, params: &Params<'_>) -> Result<Vec<Row>, postgres::Error> {
        match self {
            Stmt::Prepared(s) => client.query(s, params),
            Stmt::Once(sql, _) => client.query_typed(sql, &self.typed(params)),
        }
    }

    fn query_one(&self, client: &mut Conn, params: &Params<'_>) -> Result<Row, postgres::Error> {
        match self {
            Stmt::Prepared(s) => client.query_one(s, params),
            Stmt::Once(sql, _) => client.query_typed_one(sql, &self.typed(params)),
        }
    }

    fn query_opt(
        &self,
        client: &mut Conn,
        params: &Params<'_>,
    ) -> Result<Option<Row>, postgres::Error> {
        match self {
            Stmt::Prepared(s) => client.query_opt(s, params),
            Stmt::Once(sql, _) => client.query_typed_opt(sql, &self.typed(params)),
        }
    }
}

/// Another `init` created the schema or a table first.
/// The pauses between reconnects: 20 ms doubling up to a second, within
/// the busy timeout.
pub(crate) fn reconnect_backoff(busy_timeout: Duration) -> crate::backoff::Backoff {
    crate::backoff::Backoff::new(busy_timeout)
        .pauses(Duration::from_millis(20), Duration::from_secs(1))
}

fn is_lost_init_race(e: &postgres::Error) -> bool {
    use postgres::error::SqlState;
    matches!(
        e.code(),
        Some(c) if *c == SqlState::UNIQUE_VIOLATION
            || *c == SqlState::DUPLICATE_SCHEMA
            || *c == SqlState::DUPLICATE_TABLE
            || *c == SqlState::DUPLICATE_FUNCTION
            || *c == SqlState::DUPLICATE_OBJECT
    )
}

/// A text key is parsed once, here, then the keyed operation runs.
impl DurableStore for PostgresStore {
    crate::store::text_keys_parsed_once!();

    fn read_value_keyed(&self, key: &CursorKey) -> Result<Option<u64>, DurabilityError> {
        self.reconnect_if_lost()?;
        read::offset(self, key)
    }

    /// One compare-and-swap, each guarded statement its own transaction:
    /// correct without any lock, as the statements are.
    fn cas_keyed(&self, key: &CursorKey, expected: u64, new: u64) -> Result<(), DurabilityError> {
        self.reconnect_if_lost()?;
        write::cas(self, key, expected, new, None)
    }

    /// One guarded statement that checks the lease too; when it writes
    /// nothing, one transaction with the lease locked says why (or creates
    /// an absent cursor).
    fn leased_cas_keyed(
        &self,
        key: &CursorKey,
        epoch: u64,
        expected: u64,
        new: u64,
    ) -> Result<(), DurabilityError> {
        self.reconnect_if_lost()?;
        if leases::leased_swap(self, key, epoch, expected, new)? {
            return Ok(());
        }
        crate::store::StoreExt::write(self, |txn| {
            crate::lease::leased_cas_in(txn, key, epoch, expected, new)
        })
    }

    fn renew_lease_keyed(
        &self,
        key: &CursorKey,
        owner: &str,
        epoch: u64,
        ttl_ms: i64,
    ) -> Result<i64, DurabilityError> {
        self.reconnect_if_lost()?;
        leases::renew(self, key, owner, epoch, ttl_ms)
    }
}

impl Store for PostgresStore {
    fn location(&self) -> &StoreLocation {
        &self.location
    }

    fn schema_version(&self) -> Result<i64, StoreError> {
        self.reconnect_if_lost()?;
        self.with_statement(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            &[],
            |c, s| s.query_one(c, &[]),
        )
        .map_err(|e| self.error("reading the schema version", e))
        .map(|row| row.get::<_, String>(0).parse().unwrap_or(0))
    }

    fn about(&self) -> Result<super::StoreAbout, StoreError> {
        self.about_store()
    }

    fn clock_ms(&self) -> Result<i64, StoreError> {
        self.reconnect_if_lost()?;
        self.with_statement(
            "SELECT (extract(epoch from clock_timestamp()) * 1000)::bigint",
            &[],
            |c, s| s.query_one(c, &[]),
        )
        .map_err(|e| self.error("reading the server's clock", e))
        .map(|row| row.get(0))
    }

    fn begin_read(&self) -> Result<ReadView<'_>, StoreError> {
        self.reconnect_if_lost()?;
        self.simple(
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
            "starting a read snapshot",
        )?;
        self.in_transaction.set(true);
        Ok(ReadView::begun(self))
    }

    fn end_read(&self) -> Result<(), StoreError> {
        self.in_transaction.set(false);
        self.simple("COMMIT", "ending a read snapshot")
    }

    fn begin_write(&self) -> Result<Box<dyn WriteTxn + '_>, StoreError> {
        self.reconnect_if_lost()?;
        self.conflict.set(false);
        Ok(Box::new(PostgresTxn::begin(self)?))
    }

    fn busy_timeout(&self) -> Duration {
        self.busy_timeout
    }

    fn prunable_history(&self, before: i64) -> Result<(u64, u64), StoreError> {
        read::prunable_history(self, before)
    }

    fn settle_write(&self, write_id: &str) -> Result<crate::store::SettledWrite, StoreError> {
        failover::settle(self, write_id)
    }

    fn remove_created(self: Box<Self>) -> Result<(), StoreError> {
        let Some((schema, schema_created)) = &self.created else {
            return Ok(());
        };
        self.simple(
            &schema::remove_sql(schema, *schema_created),
            "removing the new store",
        )
    }
}
