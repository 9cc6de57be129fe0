//! Where a store lives, and which backend serves it.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::{Path, PathBuf};

/// The kinds of store this library knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// One SQLite file.
    Sqlite,
    /// A PostgreSQL database shared by many hosts.
    Postgres,
}

impl Backend {
    /// The backend's name as users see it.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// Where a store lives: a file path, or a `postgres://` / `postgresql://`
/// URL. Shown with any password replaced by `***`.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL, or a libpq `key=value` connection string.
    Postgres(String),
}

impl StoreLocation {
    /// Read a location as given on the command line or in `CURSORCTL_DB`:
    /// a `postgres://` or `postgresql://` URL, or a libpq `key=value`
    /// connection string whose first keyword is one of libpq's (`host=db
    /// dbname=platform`), selects PostgreSQL; anything else is the path of a
    /// SQLite file (a file named like a connection string: `./host=x`).
    #[must_use]
    pub fn parse(input: &OsStr) -> Self {
        match input.to_str() {
            Some(s) if is_postgres_url(s) || is_keyword_string(s) => Self::Postgres(s.to_owned()),
            _ => Self::Sqlite(PathBuf::from(input)),
        }
    }

    /// The backend that serves this location.
    #[must_use]
    pub const fn backend(&self) -> Backend {
        match self {
            Self::Sqlite(_) => Backend::Sqlite,
            Self::Postgres(_) => Backend::Postgres,
        }
    }

    /// The file of a SQLite store.
    #[must_use]
    pub fn path(&self) -> Option<&Path> {
        match self {
            Self::Sqlite(p) => Some(p),
            Self::Postgres(_) => None,
        }
    }

    /// The location as users may see it: a path, or a URL whose password
    /// is replaced by `***`.
    #[must_use]
    pub fn redacted(&self) -> String {
        match self {
            Self::Sqlite(p) => p.display().to_string(),
            Self::Postgres(url) if is_postgres_url(url) => redact_url(url),
            Self::Postgres(string) => redact_keyword_string(string),
        }
    }
}

impl From<&Path> for StoreLocation {
    fn from(path: &Path) -> Self {
        Self::Sqlite(path.to_owned())
    }
}

impl From<PathBuf> for StoreLocation {
    fn from(path: PathBuf) -> Self {
        Self::Sqlite(path)
    }
}

impl From<OsString> for StoreLocation {
    fn from(input: OsString) -> Self {
        Self::parse(&input)
    }
}

impl std::str::FromStr for StoreLocation {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self::parse(OsStr::new(s)))
    }
}

impl fmt::Display for StoreLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for StoreLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(p) => f.debug_tuple("Sqlite").field(p).finish(),
            Self::Postgres(_) => f.debug_tuple("Postgres").field(&self.redacted()).finish(),
        }
    }
}

/// The keywords of libpq connection strings (and cursorctl's own `schema`):
/// a string of `key=value` pairs that starts with one of them is a
/// PostgreSQL location.
const KEYWORDS: &[&str] = &[
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "password",
    "passfile",
    "connect_timeout",
    "options",
    "application_name",
    "fallback_application_name",
    "client_encoding",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_count",
    "tcp_user_timeout",
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "sslcrl",
    "channel_binding",
    "target_session_attrs",
    "load_balance_hosts",
    "service",
    "schema",
];

/// Whether `s` is a libpq `key=value` connection string.
fn is_keyword_string(s: &str) -> bool {
    keyword_pairs(s).is_some_and(|pairs| {
        pairs
            .first()
            .is_some_and(|(key, _)| KEYWORDS.contains(&key.as_str()))
    })
}

/// The pairs of a libpq `key=value` connection string: keywords and values
/// separated by `=` (spaces around it allowed), pairs by spaces; a value in
/// single quotes may hold spaces, and `\` escapes the next character.
/// `None` when `s` is not such a string.
pub(crate) fn keyword_pairs(s: &str) -> Option<Vec<(String, String)>> {
    let mut pairs = Vec::new();
    let mut chars = s.chars().peekable();
    let skip_spaces = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>| {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
    };
    loop {
        skip_spaces(&mut chars);
        if chars.peek().is_none() {
            return Some(pairs);
        }
        let mut key = String::new();
        while let Some(c) = chars.next_if(|c| c.is_ascii_alphanumeric() || *c == '_') {
            key.push(c);
        }
        skip_spaces(&mut chars);
        if key.is_empty() || chars.next() != Some('=') {
            return None;
        }
        skip_spaces(&mut chars);
        let mut value = String::new();
        if chars.next_if_eq(&'\'').is_some() {
            loop {
                match chars.next()? {
                    '\\' => value.push(chars.next()?),
                    '\'' => break,
                    c => value.push(c),
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                if c == '\\' {
                    value.push(chars.next()?);
                } else {
                    value.push(c);
                }
            }
        }
        pairs.push((key, value));
    }
}

/// A `key=value` connection string of `pairs`, each value quoted.
pub(crate) fn keyword_string<'p>(pairs: impl IntoIterator<Item = &'p (String, String)>) -> String {
    pairs
        .into_iter()
        .map(|(key, value)| {
            let value = value.replace('\\', "\\\\").replace('\'', "\\'");
            format!("{key}='{value}'")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A `key=value` connection string with its password replaced by `***`.
fn redact_keyword_string(s: &str) -> String {
    let Some(pairs) = keyword_pairs(s) else {
        return s.to_owned();
    };
    pairs
        .iter()
        .map(|(key, value)| {
            if key == "password" {
                format!("{key}=***")
            } else if value.is_empty()
                || value.contains(|c: char| c.is_whitespace() || c == '\'' || c == '\\')
            {
                keyword_string([&(key.clone(), value.clone())])
            } else {
                format!("{key}={value}")
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn is_postgres_url(s: &str) -> bool {
    ["postgres://", "postgresql://"].iter().any(|scheme| {
        s.get(..scheme.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(scheme))
    })
}

/// `scheme://user:secret@host/db?password=secret` with both secrets
/// replaced by `***`.
fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let (scheme, rest) = url.split_at(scheme_end);
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rfind('@') {
        Some(at) => {
            let (userinfo, host) = authority.split_at(at);
            match userinfo.find(':') {
                Some(colon) => format!("{}:***{host}", &userinfo[..colon]),
                None => authority.to_owned(),
            }
        }
        None => authority.to_owned(),
    };
    let tail = match tail.find('?') {
        Some(q) => {
            let (path, query) = tail.split_at(q + 1);
            let query: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                    _ => pair.to_owned(),
                })
                .collect();
            format!("{path}{}", query.join("&"))
        }
        None => tail.to_owned(),
    };
    format!("{scheme}{authority}{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_select_postgres_and_anything_else_is_a_path() {
        let loc = |s: &str| StoreLocation::parse(OsStr::new(s));
        assert_eq!(loc("cursors.db").backend(), Backend::Sqlite);
        assert_eq!(loc("/var/lib/x/postgres.db").backend(), Backend::Sqlite);
        assert_eq!(loc("postgres://h/db").backend(), Backend::Postgres);
        assert_eq!(loc("PostgreSQL://h/db").backend(), Backend::Postgres);
        assert_eq!(loc("postgres:/h").backend(), Backend::Sqlite);
        assert_eq!(loc("host=db dbname=c").backend(), Backend::Postgres);
        assert_eq!(loc(" dbname = c ").backend(), Backend::Postgres);
        assert_eq!(loc("host=db password='a b'").backend(), Backend::Postgres);
        assert_eq!(loc("./host=db").backend(), Backend::Sqlite);
        assert_eq!(loc("mode=x.db").backend(), Backend::Sqlite);
        assert_eq!(loc("host=db dbname").backend(), Backend::Sqlite);
        assert_eq!(loc("host='db").backend(), Backend::Sqlite);
    }

    #[test]
    fn keyword_strings_are_read_as_libpq_reads_them() {
        let pairs = keyword_pairs(r"host = db  password='it\'s a \\ secret' port=5433").unwrap();
        let expected = [
            ("host", "db"),
            ("password", r"it's a \ secret"),
            ("port", "5433"),
        ];
        assert_eq!(
            pairs,
            expected.map(|(k, v)| (k.to_owned(), v.to_owned())).to_vec()
        );
        assert_eq!(keyword_pairs(&keyword_string(&pairs)).unwrap(), pairs);
    }

    #[test]
    fn passwords_never_show() {
        let shown = |s: &str| StoreLocation::parse(OsStr::new(s)).to_string();
        assert_eq!(
            shown("postgres://ops:s3cret@db.example:5432/cursors?sslmode=require"),
            "postgres://ops:***@db.example:5432/cursors?sslmode=require"
        );
        assert_eq!(
            shown("postgresql://ops@db/c?password=s3cret&sslmode=disable"),
            "postgresql://ops@db/c?password=***&sslmode=disable"
        );
        assert_eq!(shown("postgres://db/c"), "postgres://db/c");
        assert_eq!(shown("postgres://a:b:c@db"), "postgres://a:***@db");
        let debug = format!(
            "{:?}",
            StoreLocation::parse(OsStr::new("postgres://u:pw@h/d"))
        );
        assert!(!debug.contains("pw"), "{debug}");
        assert_eq!(
            shown("host=db user=ops password=s3cret dbname='my db'"),
            "host=db user=ops password=*** dbname='my db'"
        );
        assert_eq!(shown("host=db password='a b c'"), "host=db password=***");
    }
}
