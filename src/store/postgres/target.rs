//! What a location asks to connect to: the location read as libpq reads
//! it (`conninfo.rs`), the standard `PG*` variables as fallbacks, the
//! password file, each host with its port, TLS and the sessions wanted.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::str::FromStr;
use std::time::Duration;

use postgres::config::LoadBalanceHosts;
use tokio_postgres::Config;

use crate::error::StoreError;
use crate::store::{Access, StoreLocation};

use super::connect::{first_line, shuffle};
use super::conninfo;
use super::pgpass;
use super::tls;

/// The PostgreSQL schema that holds a store unless the location names
/// another with `schema=NAME`.
pub const DEFAULT_SCHEMA: &str = "cursorctl";

/// How long a connection attempt may take unless the location or
/// `PGCONNECT_TIMEOUT` says otherwise.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long an open connection may go without an answer from the network
/// before it is given up, unless the location sets `tcp_user_timeout` or
/// `keepalives_*`: data sent and not acknowledged for this long
/// (`tcp_user_timeout`), or an idle connection (a statement running, a
/// lock wait) whose keepalive probes go unanswered, probed after
/// [`KEEPALIVES_IDLE`] and every [`KEEPALIVES_INTERVAL`]. Without them a
/// link cut under a connection leaves a command waiting for the operating
/// system's defaults: a quarter of an hour with data unacknowledged, two
/// hours and more when idle.
pub const DEFAULT_NETWORK_TIMEOUT: Duration = Duration::from_secs(20);

/// Idle time before the first keepalive probe.
pub const KEEPALIVES_IDLE: Duration = Duration::from_secs(10);

/// Time between keepalive probes.
pub const KEEPALIVES_INTERVAL: Duration = Duration::from_secs(5);

/// Which servers a session may use (`target_session_attrs`, as libpq
/// takes it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum SessionAttrs {
    /// Any server.
    Any,
    /// A server that accepts writes (a primary, not in a read-only mode).
    ReadWrite,
    /// A server that does not accept writes.
    ReadOnly,
    /// A server that is not in recovery.
    Primary,
    /// A server in recovery (a standby).
    Standby,
    /// A standby if one accepts, else any server.
    PreferStandby,
}

impl SessionAttrs {
    fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "any" => Self::Any,
            "read-write" => Self::ReadWrite,
            "read-only" => Self::ReadOnly,
            "primary" => Self::Primary,
            "standby" => Self::Standby,
            "prefer-standby" => Self::PreferStandby,
            _ => return None,
        })
    }

    /// The name libpq gives it.
    pub(super) const fn name(self) -> &'static str {
        match self {
            Self::Any => "any",
            Self::ReadWrite => "read-write",
            Self::ReadOnly => "read-only",
            Self::Primary => "primary",
            Self::Standby => "standby",
            Self::PreferStandby => "prefer-standby",
        }
    }
}

/// What a location says about where and how to connect.
#[derive(Clone)]
pub(super) struct Target {
    /// One configuration per host named, in the order they are tried.
    pub hosts: Vec<HostTarget>,
    /// Which servers the session may use.
    pub attrs: SessionAttrs,
    /// Whether the attributes must be checked on each server: they were
    /// asked for, or there is a choice of hosts. (One host named and the
    /// default asked for: a write to a read-only server fails with its own
    /// error, and no round trip is spent on the check.)
    pub check_attrs: bool,
    /// Whether the session is read-only by cursorctl's own setting
    /// (`default_transaction_read_only`): then only recovery tells a
    /// read-only server.
    pub read_only_session: bool,
    pub schema: String,
    /// `host:port/database` (`h1:5432,h2:5432/database` for several
    /// hosts), for messages (never a password).
    pub describe: String,
    /// The location as users see it: the URL of the user, hosts, database
    /// and schema used, whatever of them came from the `PG*` variables or
    /// the defaults (never a password).
    pub shown: StoreLocation,
    /// `sslmode` and `sslrootcert`.
    pub tls: tls::Settings,
}

/// One host to try.
#[derive(Clone)]
pub(super) struct HostTarget {
    pub config: Config,
    /// `host:port` (`[::1]:5432`), for messages.
    pub name: String,
    /// Why the password file was not read, if it was not: said when the
    /// server asks for a password and none was given.
    pub passfile_ignored: Option<String>,
}

fn bad_location(location: &StoreLocation, detail: impl Into<String>) -> StoreError {
    StoreError::InvalidLocation {
        location: location.clone(),
        detail: detail.into(),
    }
}

/// A schema name cursorctl accepts: a plain lower-case SQL identifier, so
/// that it never needs quoting.
fn valid_schema(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name.len() <= 63
}

/// `host:port`, an IPv6 address in brackets.
fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') && !host.starts_with('/') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// A URL part with the characters that would end it percent-encoded.
fn url_encoded(part: &str) -> String {
    let mut out = String::with_capacity(part.len());
    for c in part.chars() {
        if matches!(
            c,
            '@' | ':' | '/' | '?' | '#' | '%' | '&' | ',' | '=' | '[' | ']'
        ) || c.is_whitespace()
        {
            let mut buf = [0; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                let _ = write!(out, "%{b:02X}");
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Read a location into one connection configuration per host, with the
/// `PG*` variables filling what it leaves out. A malformed location, or a
/// bad value in it, is [`StoreError::InvalidLocation`], before anything is
/// connected.
pub(super) fn target(
    location: &StoreLocation,
    access: Access,
    busy_timeout: Duration,
) -> Result<Target, StoreError> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    target_with(location, access, busy_timeout, env)
}

#[allow(clippy::too_many_lines)]
fn target_with(
    location: &StoreLocation,
    access: Access,
    busy_timeout: Duration,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Target, StoreError> {
    if location.backend() != crate::store::Backend::POSTGRES {
        return Err(bad_location(location, "not a PostgreSQL location"));
    }
    let text = &*location.text();
    let bad = |detail: String| bad_location(location, detail);
    let mut pairs = conninfo::parse(text).map_err(bad)?;
    let mut take = |key: &str| {
        pairs
            .iter()
            .position(|(k, _)| k == key)
            .map(|i| pairs.remove(i).1)
    };
    // What cursorctl reads itself: `schema` is its own; the `postgres`
    // crate knows `sslmode` only as `disable`, `prefer` or `require`, and
    // neither `sslrootcert`, `passfile` nor a list of hosts tried one by
    // one here.
    let schema = take("schema");
    let sslmode = take("sslmode");
    let sslrootcert = take("sslrootcert");
    let passfile = take("passfile");
    let attrs_given = take("target_session_attrs");
    let hosts = take("host");
    let hostaddrs = take("hostaddr");
    let ports = take("port");
    if take("service").is_some() {
        return Err(bad(
            "service files (service=) are not supported: put host, port, dbname and user in the location, and the password in PGPASSWORD or a password file (~/.pgpass)".to_owned(),
        ));
    }
    // libpq's name for what the crate calls keepalives_retries.
    if let Some(count) = take("keepalives_count") {
        pairs.push(("keepalives_retries".to_owned(), count));
    }
    let given = |key: &str| pairs.iter().any(|(k, _)| k == key);
    let attrs_given = attrs_given.or_else(|| env("PGTARGETSESSIONATTRS"));
    let attrs = match &attrs_given {
        Some(value) => SessionAttrs::parse(value).ok_or_else(|| {
            let _ = value;
            bad("invalid target_session_attrs: use any, read-write, read-only, primary, standby or prefer-standby".to_owned())
        })?,
        // Commands that write need a server that accepts writes.
        None if access == Access::ReadWrite => SessionAttrs::ReadWrite,
        None => SessionAttrs::Any,
    };
    let schema = schema
        .or_else(|| env("CURSORCTL_PG_SCHEMA"))
        .unwrap_or_else(|| DEFAULT_SCHEMA.to_owned());
    if !valid_schema(&schema) {
        return Err(bad(format!(
            "invalid schema name {schema:?}: use lower-case letters, digits and _ (at most 63, not starting with a digit)"
        )));
    }
    let mut config = Config::from_str(&conninfo::keyword_string(&pairs)).map_err(|e| {
        // The crate's own words ("invalid connection string") say less than
        // their cause ("unknown option `sslcert`"); neither holds a value.
        let why = std::error::Error::source(&e).map_or_else(|| e.to_string(), ToString::to_string);
        bad(format!(
            "invalid PostgreSQL connection string: {}",
            first_line(&why)
        ))
    })?;
    let tls = tls::Settings::resolve(sslmode, sslrootcert, &env).map_err(bad)?;
    config.ssl_mode(tls.mode.crate_mode());
    if config.get_user().is_none() {
        let user = env("PGUSER")
            .or_else(|| env("USER"))
            .unwrap_or_else(|| "postgres".to_owned());
        config.user(&user);
    }
    let password_given = config.get_password().is_some() || {
        match env("PGPASSWORD") {
            Some(password) => {
                config.password(password);
                true
            }
            None => false,
        }
    };
    if config.get_dbname().is_none() {
        let dbname = env("PGDATABASE").or_else(|| config.get_user().map(str::to_owned));
        if let Some(dbname) = dbname {
            config.dbname(&dbname);
        }
    }
    if config.get_connect_timeout().is_none() {
        let timeout = env("PGCONNECT_TIMEOUT")
            .and_then(|t| t.parse::<u64>().ok())
            .map_or(DEFAULT_CONNECT_TIMEOUT, Duration::from_secs);
        config.connect_timeout(timeout);
    }
    // A lost network ends a connection in bounded time (see
    // DEFAULT_NETWORK_TIMEOUT); what the location says wins.
    if !given("tcp_user_timeout") {
        config.tcp_user_timeout(DEFAULT_NETWORK_TIMEOUT);
    }
    if !given("keepalives_idle") {
        config.keepalives_idle(KEEPALIVES_IDLE);
    }
    if !given("keepalives_interval") {
        config.keepalives_interval(KEEPALIVES_INTERVAL);
    }
    if !given("keepalives_retries") {
        // Never the limit: with tcp_user_timeout set, the kernel gives up
        // once probes have gone unanswered that long.
        config.keepalives_retries(2);
    }
    if config.get_application_name().is_none() {
        config.application_name("cursorctl");
    }
    // Per-session settings travel in the start-up packet: no round trip.
    let lock_ms = busy_timeout
        .min(crate::store::postgres_backend::MAX_BUSY_TIMEOUT)
        .as_millis()
        .max(1);
    let mut options = config.get_options().unwrap_or_default().to_owned();
    options.push_str(&format!(
        " -c search_path={schema} -c lock_timeout={lock_ms} -c standard_conforming_strings=on"
    ));
    if access == Access::ReadOnly {
        options.push_str(" -c default_transaction_read_only=on");
    }
    config.options(options.trim_start());

    // The hosts, each with its address and port, as libpq pairs them.
    let list = |value: &str| value.split(',').map(str::to_owned).collect::<Vec<_>>();
    let addrs = match &hostaddrs {
        Some(value) => list(value)
            .iter()
            .map(|a| {
                a.parse::<IpAddr>()
                    .map(Some)
                    .map_err(|_| bad(format!("invalid hostaddr {a:?}: not an IP address")))
            })
            .collect::<Result<Vec<_>, _>>()?,
        None => Vec::new(),
    };
    let names = match (&hosts, &hostaddrs) {
        (Some(value), _) => list(value),
        (None, Some(value)) => list(value),
        (None, None) => list(&env("PGHOST").unwrap_or_default()),
    };
    let names: Vec<String> = names
        .into_iter()
        .map(|h| {
            if h.is_empty() {
                "localhost".to_owned()
            } else {
                h
            }
        })
        .collect();
    if !addrs.is_empty() && addrs.len() != names.len() {
        return Err(bad(format!(
            "{} hosts and {} hostaddrs: name as many of each",
            names.len(),
            addrs.len()
        )));
    }
    let ports = match ports.or_else(|| env("PGPORT")) {
        Some(value) => list(&value)
            .iter()
            .map(|p| match p.as_str() {
                "" => Ok(5432),
                p => p.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| {
                    bad("invalid port number: ports are numbers from 1 to 65535".to_owned())
                }),
            })
            .collect::<Result<Vec<_>, _>>()?,
        None => vec![5432],
    };
    if ports.len() != 1 && ports.len() != names.len() {
        return Err(bad(format!(
            "{} hosts and {} ports: give one port, or one for each host",
            names.len(),
            ports.len()
        )));
    }
    let mut order: Vec<usize> = (0..names.len()).collect();
    if config.get_load_balance_hosts() == LoadBalanceHosts::Random {
        shuffle(&mut order);
    }
    let passfile = pgpass::path(passfile.as_deref(), &env);
    let dbname = config.get_dbname().unwrap_or_default().to_owned();
    let user = config.get_user().unwrap_or_default().to_owned();
    let mut targets = Vec::with_capacity(names.len());
    for i in order {
        let name = &names[i];
        let port = ports
            .get(i)
            .or_else(|| ports.first())
            .copied()
            .unwrap_or(5432);
        let mut config = config.clone();
        config.host(name);
        if let Some(Some(addr)) = addrs.get(i) {
            config.hostaddr(*addr);
        }
        config.port(port);
        let mut passfile_ignored = None;
        if !password_given {
            if let Some(path) = &passfile {
                let wanted = pgpass::Wanted {
                    host: name,
                    port,
                    dbname: &dbname,
                    user: &user,
                };
                if let Some(password) =
                    pgpass::lookup(path, &wanted, &mut |why| passfile_ignored = Some(why))
                {
                    config.password(password);
                }
            }
        }
        targets.push(HostTarget {
            config,
            name: host_port(name, port),
            passfile_ignored,
        });
    }
    // In the order named, for messages.
    let mut named: Vec<String> = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        let port = ports
            .get(i)
            .or_else(|| ports.first())
            .copied()
            .unwrap_or(5432);
        named.push(host_port(name, port));
    }
    let describe = format!("{}/{dbname}", named.join(","));
    let url_hosts: Vec<String> = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let port = ports
                .get(i)
                .or_else(|| ports.first())
                .copied()
                .unwrap_or(5432);
            if name.contains(':') && !name.starts_with('/') {
                format!("[{name}]:{port}")
            } else {
                format!("{}:{port}", url_encoded(name))
            }
        })
        .collect();
    let shown = StoreLocation::of(
        crate::store::Backend::POSTGRES,
        format!(
            "postgres://{}@{}/{}?schema={schema}",
            url_encoded(&user),
            url_hosts.join(","),
            url_encoded(&dbname)
        ),
    );
    let check_attrs = attrs != SessionAttrs::Any && (attrs_given.is_some() || targets.len() > 1);
    Ok(Target {
        hosts: targets,
        attrs,
        check_attrs,
        read_only_session: access == Access::ReadOnly,
        schema,
        describe,
        shown,
        tls,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::postgres::connect::connect_limit;
    use crate::store::postgres::tls::SslMode;

    fn target_of(location: &str, vars: &[(&str, &str)]) -> Result<Target, StoreError> {
        let location = StoreLocation::of(crate::store::Backend::POSTGRES, location);
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        target_with(
            &location,
            Access::ReadWrite,
            Duration::from_secs(5),
            |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()),
        )
    }

    fn config_of(url: &str) -> Config {
        target_of(url, &[]).unwrap().hosts.remove(0).config
    }

    #[test]
    fn own_parameters_are_read_here_and_the_rest_by_the_crate() {
        let target = target_of(
            "postgres://u@h/db?application_name=x&sslmode=verify-full&sslrootcert=/etc/my%20ca.pem&connect_timeout=3&schema=s1",
            &[],
        )
        .unwrap();
        assert_eq!(target.schema, "s1");
        assert_eq!(target.tls.mode, SslMode::VerifyFull);
        let config = &target.hosts[0].config;
        assert_eq!(config.get_application_name(), Some("x"));
        assert_eq!(config.get_connect_timeout(), Some(&Duration::from_secs(3)));
        let target = target_of("host=h schema=s2 dbname='my db' sslmode=require", &[]).unwrap();
        assert_eq!(target.schema, "s2");
        assert_eq!(target.describe, "h:5432/my db");
    }

    #[test]
    fn what_the_location_leaves_out_comes_from_the_environment() {
        let target = target_of(
            "postgres://",
            &[
                ("PGHOST", "::1"),
                ("PGPORT", "5433"),
                ("PGDATABASE", "platform"),
                ("PGUSER", "ops"),
            ],
        )
        .unwrap();
        assert_eq!(target.describe, "[::1]:5433/platform");
        assert_eq!(
            target.shown.to_string(),
            "postgres://ops@[::1]:5433/platform?schema=cursorctl"
        );
        let target = target_of("postgres://", &[("USER", "me")]).unwrap();
        assert_eq!(target.describe, "localhost:5432/me");
    }

    #[test]
    fn each_host_is_a_target_of_its_own() {
        let target = target_of("postgres://u@h1:5433,[::1],h3:7/db", &[]).unwrap();
        let names: Vec<&str> = target.hosts.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, ["h1:5433", "[::1]:5432", "h3:7"]);
        assert_eq!(target.describe, "h1:5433,[::1]:5432,h3:7/db");
        let target = target_of("host=a,b port=1 dbname=d", &[]).unwrap();
        let names: Vec<&str> = target.hosts.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, ["a:1", "b:1"]);
        for (bad, expected) in [
            ("host=a,b port=1,2,3", "2 hosts and 3 ports"),
            ("host=a port=x", "invalid port number"),
            ("host=a,b hostaddr=127.0.0.1", "2 hosts and 1 hostaddrs"),
            ("host=a hostaddr=nope", "not an IP address"),
            ("postgres://h/db?schema=Bad", "invalid schema name"),
            ("postgres://h/db?schema=a&schema=b", "given twice"),
            ("service=prod", "service files"),
            ("postgres://h/db?sslcert=c.pem", "unknown option `sslcert`"),
        ] {
            match target_of(bad, &[]) {
                Err(StoreError::InvalidLocation { detail, .. }) => {
                    assert!(detail.contains(expected), "{bad}: {detail}");
                }
                Err(other) => panic!("{bad}: {other}"),
                Ok(_) => panic!("{bad}: accepted"),
            }
        }
    }

    #[test]
    fn a_lost_network_is_noticed_unless_the_location_says_otherwise() {
        let config = config_of("postgres://u@h/db");
        assert!(config.get_keepalives());
        assert_eq!(
            config.get_tcp_user_timeout(),
            Some(&DEFAULT_NETWORK_TIMEOUT)
        );
        assert_eq!(config.get_keepalives_idle(), KEEPALIVES_IDLE);
        assert_eq!(config.get_keepalives_interval(), Some(KEEPALIVES_INTERVAL));
        let config = config_of(
            "postgres://u@h/db?tcp_user_timeout=60&keepalives_idle=30&keepalives_interval=7&keepalives_retries=9",
        );
        assert_eq!(
            config.get_tcp_user_timeout(),
            Some(&Duration::from_secs(60))
        );
        assert_eq!(config.get_keepalives_idle(), Duration::from_secs(30));
        assert_eq!(
            config.get_keepalives_interval(),
            Some(Duration::from_secs(7))
        );
        assert_eq!(config.get_keepalives_retries(), Some(9));
        assert_eq!(
            config_of("postgres://u@h/db?keepalives_count=4").get_keepalives_retries(),
            Some(4)
        );
        // 0 is the operating system's default, as in libpq.
        assert_eq!(
            config_of("postgres://u@h/db?tcp_user_timeout=0").get_tcp_user_timeout(),
            None
        );
        assert!(!config_of("postgres://u@h/db?keepalives=0").get_keepalives());
    }

    #[test]
    fn the_connect_timeout_bounds_each_host() {
        assert_eq!(
            connect_limit(&config_of("postgres://u@h/db?connect_timeout=3")),
            Duration::from_secs(3)
        );
        assert_eq!(
            connect_limit(&config_of("postgres://u@h/db")),
            DEFAULT_CONNECT_TIMEOUT
        );
    }

    #[test]
    fn schema_names_are_plain_identifiers() {
        assert!(valid_schema("cursorctl"));
        assert!(valid_schema("_team_2"));
        assert!(!valid_schema("Cursors"));
        assert!(!valid_schema("2x"));
        assert!(!valid_schema("a;drop"));
        assert!(!valid_schema(""));
    }
}
