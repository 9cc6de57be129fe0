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
    /// A PostgreSQL connection URL.
    Postgres(String),
}

impl StoreLocation {
    /// Read a location as given on the command line or in `CURSORCTL_DB`:
    /// a `postgres://` or `postgresql://` URL selects PostgreSQL, anything
    /// else is the path of a SQLite file.
    #[must_use]
    pub fn parse(input: &OsStr) -> Self {
        match input.to_str() {
            Some(s) if is_postgres_url(s) => Self::Postgres(s.to_owned()),
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
            Self::Postgres(url) => redact_url(url),
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
    }
}
