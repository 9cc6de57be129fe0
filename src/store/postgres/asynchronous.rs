//! The async PostgreSQL store (the `async` feature): the same locations,
//! TLS, session settings, guarded statements and reconnection as the sync
//! store, natively async on `tokio-postgres`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio_postgres::{Client, Statement};

use super::connect::{self, pg_error, Target};
use super::read::{columns, KEY_TYPES, SELECT_OFFSET};
use super::schema::{APPLICATION, SCHEMA_VERSION};
use super::tls::SslMode;
use super::write::{INSERT, SWAP, SWAP_TYPES};
use crate::asynchronous::{AsyncDurableStore, StoreFuture};
use crate::error::{DurabilityError, StoreError, StoreErrorKind, WriteOutcome};
use crate::key::CursorKey;
use crate::store::{Access, StoreLocation};

/// A cursor store in a PostgreSQL schema, used from async code (tokio):
/// the async counterpart of [`PostgresStore`](super::PostgresStore).
///
/// Its calls may run concurrently from many tasks on one connection
/// (`tokio-postgres` pipelines them). A lost connection fails the calls in
/// flight with [`StoreError::ConnectionLost`] (a write's outcome
/// [`WriteOutcome::Unknown`]), and the next call connects again, trying
/// for up to the busy timeout. It must be opened, used and dropped inside
/// a tokio runtime.
pub struct AsyncPostgresStore {
    target: Target,
    location: StoreLocation,
    describe: String,
    busy_timeout: Duration,
    session: Mutex<Option<Arc<Session>>>,
    /// Held while connecting, so that tasks finding the connection lost
    /// connect once.
    connecting: tokio::sync::Mutex<()>,
}

/// One connection and its prepared statements.
struct Session {
    client: Client,
    select: Statement,
    swap: Statement,
    insert: Statement,
}

impl std::fmt::Debug for AsyncPostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncPostgresStore")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

impl AsyncPostgresStore {
    /// Open an existing cursor store (never creates one).
    ///
    /// # Errors
    ///
    /// As [`PostgresStore::open`](super::PostgresStore::open).
    pub async fn open(
        location: &StoreLocation,
        access: Access,
        busy_timeout: Duration,
    ) -> Result<Self, StoreError> {
        location.check()?;
        let target = connect::target(location, access, busy_timeout)?;
        let store = Self {
            location: target.shown.clone(),
            describe: target.describe.clone(),
            target,
            busy_timeout,
            session: Mutex::new(None),
            connecting: tokio::sync::Mutex::new(()),
        };
        let client = store.connect_once().await?;
        store.inspect(&client).await?;
        let session = store.prepare(client).await?;
        *store.lock() = Some(Arc::new(session));
        Ok(store)
    }

    /// The location connected to (the URL of its user, hosts, database and
    /// schema, never a password).
    #[must_use]
    pub const fn location(&self) -> &StoreLocation {
        &self.location
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Arc<Session>>> {
        self.session
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The session, connecting again first when it was lost.
    async fn session(&self) -> Result<Arc<Session>, StoreError> {
        if let Some(session) = self.lock().as_ref().filter(|s| !s.client.is_closed()) {
            return Ok(Arc::clone(session));
        }
        let _connecting = self.connecting.lock().await;
        if let Some(session) = self.lock().as_ref().filter(|s| !s.client.is_closed()) {
            return Ok(Arc::clone(session));
        }
        let mut backoff = super::reconnect_backoff(self.busy_timeout);
        let client = loop {
            match self.connect_once().await {
                Ok(client) => break client,
                Err(e)
                    if e.kind() == StoreErrorKind::Connection
                        && !backoff.is_spent(Instant::now()) =>
                {
                    if let Some(pause) = backoff.next_pause(Instant::now()) {
                        tokio::time::sleep(pause).await;
                    }
                }
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
        };
        let session = Arc::new(self.prepare(client).await?);
        *self.lock() = Some(Arc::clone(&session));
        Ok(session)
    }

    /// One connection attempt per host, in turn.
    async fn connect_once(&self) -> Result<Client, StoreError> {
        let failed = |kind, source: String| StoreError::Database {
            context: format!("connecting to PostgreSQL at {}", self.describe),
            kind,
            source: source.into(),
        };
        let connector = if self.target.tls.mode == SslMode::Disable {
            None
        } else {
            Some(
                self.target
                    .tls
                    .connector()
                    .map_err(|e| failed(StoreErrorKind::Connection, e))?,
            )
        };
        let mut last = failed(
            StoreErrorKind::Connection,
            "no host to connect to".to_owned(),
        );
        for host in &self.target.hosts {
            let limit = host
                .config
                .get_connect_timeout()
                .copied()
                .unwrap_or(connect::DEFAULT_CONNECT_TIMEOUT);
            let attempt = async {
                match &connector {
                    None => host.config.connect(tokio_postgres::NoTls).await.map(
                        |(client, connection)| {
                            tokio::spawn(connection);
                            client
                        },
                    ),
                    Some(tls) => {
                        host.config
                            .connect(tls.clone())
                            .await
                            .map(|(client, connection)| {
                                tokio::spawn(connection);
                                client
                            })
                    }
                }
            };
            match tokio::time::timeout(limit, attempt).await {
                Ok(Ok(client)) => return Ok(client),
                Ok(Err(e)) => {
                    let (kind, why) = match pg_error("", e) {
                        StoreError::Database { kind, source, .. } => (kind, source.to_string()),
                        other => (other.kind(), other.to_string()),
                    };
                    last = failed(kind, format!("{}: {why}", host.name));
                }
                Err(_) => {
                    last = failed(
                        StoreErrorKind::Connection,
                        format!(
                            "{}: no answer from the server within the connect timeout ({})",
                            host.name,
                            humantime::format_duration(limit)
                        ),
                    );
                }
            }
        }
        Err(last)
    }

    /// Refuse what is not a cursor store of a version this build reads.
    async fn inspect(&self, client: &Client) -> Result<(), StoreError> {
        let messages = match client.simple_query("SELECT key, value FROM meta").await {
            Ok(messages) => messages,
            Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::UNDEFINED_TABLE) => {
                return Err(StoreError::Missing {
                    location: self.location.clone(),
                })
            }
            Err(e) => {
                return Err(self.error("reading the store header", e, WriteOutcome::RolledBack))
            }
        };
        let get = |k: &str| {
            messages.iter().find_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(r) if r.get(0) == Some(k) => {
                    r.get(1).map(str::to_owned)
                }
                _ => None,
            })
        };
        if get("application").as_deref() != Some(APPLICATION) {
            return Err(StoreError::NotACursorStore {
                location: self.location.clone(),
                detail: "its meta table belongs to another application".to_owned(),
            });
        }
        match get("schema_version").and_then(|v| v.parse::<i64>().ok()) {
            Some(version) if version > SCHEMA_VERSION => Err(StoreError::NewerSchema {
                location: self.location.clone(),
                found: version,
                supported: SCHEMA_VERSION,
            }),
            Some(_) => Ok(()),
            None => Err(StoreError::NotACursorStore {
                location: self.location.clone(),
                detail: "its meta table has no schema version".to_owned(),
            }),
        }
    }

    async fn prepare(&self, client: Client) -> Result<Session, StoreError> {
        let prepared = async {
            let select = client.prepare_typed(SELECT_OFFSET, KEY_TYPES);
            let swap = client.prepare_typed(SWAP, SWAP_TYPES);
            let insert = client.prepare_typed(INSERT, &SWAP_TYPES[..4]);
            let (select, swap, insert) = tokio::join!(select, swap, insert);
            Ok::<_, tokio_postgres::Error>((select?, swap?, insert?))
        }
        .await;
        match prepared {
            Ok((select, swap, insert)) => Ok(Session {
                client,
                select,
                swap,
                insert,
            }),
            Err(e) => Err(self.error("preparing the statements", e, WriteOutcome::RolledBack)),
        }
    }

    /// A store error naming the server and database; a lost connection is
    /// [`StoreError::ConnectionLost`] with `outcome`.
    fn error(&self, context: &str, e: tokio_postgres::Error, outcome: WriteOutcome) -> StoreError {
        match pg_error(&format!("{context} ({})", self.describe), e) {
            StoreError::Database {
                context,
                kind: StoreErrorKind::Connection,
                source,
            } => StoreError::ConnectionLost {
                context,
                outcome,
                source,
            },
            other => other,
        }
    }

    async fn read(
        &self,
        session: &Session,
        key: &CursorKey,
    ) -> Result<Option<u64>, DurabilityError> {
        let (consumer, channel, partition) = columns(key);
        let row = session
            .client
            .query_opt(&session.select, &[&consumer, &channel, &partition])
            .await
            .map_err(|e| self.error("reading a cursor", e, WriteOutcome::RolledBack))?;
        let Some(row) = row else { return Ok(None) };
        let value: i64 = row.get(0);
        Ok(Some(u64::try_from(value).map_err(|_| {
            StoreError::InvalidValue {
                key: key.to_string(),
                value: format!("the negative integer {value}"),
            }
        })?))
    }

    /// One guarded compare-and-swap, as the sync store's: the guarded
    /// `UPDATE`, the `INSERT` of an absent cursor, and a read to say what
    /// was found, each its own transaction.
    async fn guarded_cas(&self, key: &str, expected: u64, new: u64) -> Result<(), DurabilityError> {
        if new > crate::parse::MAX_OFFSET {
            return Err(DurabilityError::OffsetTooLarge { offset: new });
        }
        let parsed = CursorKey::parse(key)?;
        let session = self.session().await?;
        let (consumer, channel, partition) = columns(&parsed);
        let sql = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        let (new_sql, expected_sql) = (sql(new), sql(expected));
        let stale = |actual| DurabilityError::StaleCheckpoint {
            key: key.to_owned(),
            expected,
            actual,
        };
        for _ in 0..3 {
            if new != expected {
                let changed = session
                    .client
                    .execute(
                        &session.swap,
                        &[&consumer, &channel, &partition, &new_sql, &expected_sql],
                    )
                    .await
                    .map_err(|e| self.error("writing a cursor", e, WriteOutcome::Unknown))?;
                if changed == 1 {
                    return Ok(());
                }
            }
            if expected == 0 {
                let inserted = session
                    .client
                    .execute(
                        &session.insert,
                        &[&consumer, &channel, &partition, &new_sql],
                    )
                    .await
                    .map_err(|e| self.error("creating a cursor", e, WriteOutcome::Unknown))?;
                if inserted == 1 {
                    return Ok(());
                }
            }
            let current = self.read(&session, &parsed).await?;
            if current.unwrap_or(0) != expected {
                return Err(stale(current));
            }
            if new == expected && current.is_some() {
                return Ok(());
            }
        }
        Err(stale(self.read(&session, &parsed).await?))
    }
}

impl AsyncDurableStore for AsyncPostgresStore {
    fn read_value<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<u64>> {
        Box::pin(async move {
            let key = CursorKey::parse(key)?;
            let session = self.session().await?;
            self.read(&session, &key).await
        })
    }

    fn cas<'a>(&'a self, key: &'a str, expected: u64, new: u64) -> StoreFuture<'a, ()> {
        Box::pin(self.guarded_cas(key, expected, new))
    }
}
