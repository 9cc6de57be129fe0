//! TLS: libpq's `sslmode` and `sslrootcert`, through rustls with the ring
//! provider.
//!
//! The `postgres` crate knows `disable`, `prefer` and `require` only; it
//! asks the server for TLS and hands the handshake to the connector made
//! here, whose certificate verifier does what the mode says: nothing for
//! `prefer` (and `require` without a root certificate), the chain for
//! `verify-ca` (and `require` with one), the chain and the host name for
//! `verify-full`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use postgres::config::SslMode as CrateSslMode;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{verify_server_cert_signed_by_trust_anchor, verify_server_name};
use rustls::crypto::ring::kx_group;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio_postgres_rustls::MakeRustlsConnect;

/// libpq's `sslmode`: whether to encrypt, and what to verify.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum SslMode {
    /// Never TLS.
    Disable,
    /// TLS when the server offers it, plain otherwise; the certificate is
    /// not verified.
    Prefer,
    /// TLS or no connection; the certificate is verified only against a
    /// root certificate given with `sslrootcert` (or libpq's default file).
    Require,
    /// TLS, and the certificate chain ends at a trusted authority.
    VerifyCa,
    /// As `VerifyCa`, and the certificate names the host connected to.
    VerifyFull,
}

impl SslMode {
    /// The mode of a location that names none (nor `PGSSLMODE`).
    pub(super) const DEFAULT: Self = Self::Prefer;

    const ALL: [Self; 5] = [
        Self::Disable,
        Self::Prefer,
        Self::Require,
        Self::VerifyCa,
        Self::VerifyFull,
    ];

    pub(super) const fn name(self) -> &'static str {
        match self {
            Self::Disable => "disable",
            Self::Prefer => "prefer",
            Self::Require => "require",
            Self::VerifyCa => "verify-ca",
            Self::VerifyFull => "verify-full",
        }
    }

    fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|mode| mode.name() == value)
    }

    /// What the `postgres` crate is told: whether to ask for TLS, and
    /// whether a server without it is refused.
    pub(super) const fn crate_mode(self) -> CrateSslMode {
        match self {
            Self::Disable => CrateSslMode::Disable,
            Self::Prefer => CrateSslMode::Prefer,
            Self::Require | Self::VerifyCa | Self::VerifyFull => CrateSslMode::Require,
        }
    }
}

/// Where the trusted certificate authorities come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum RootCert {
    /// A PEM file of one or more certificates (`sslrootcert=PATH`).
    File(PathBuf),
    /// The system's certificate authorities (`sslrootcert=system`).
    System,
}

/// A location's TLS settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Settings {
    pub mode: SslMode,
    /// `sslrootcert` or `PGSSLROOTCERT`, when given.
    pub root_cert: Option<RootCert>,
}

impl Settings {
    /// The settings from the location's `sslmode` and `sslrootcert`, with
    /// `PGSSLMODE` and `PGSSLROOTCERT` filling what it leaves out. Errors
    /// are the words of a bad location.
    pub(super) fn resolve(
        sslmode: Option<String>,
        sslrootcert: Option<String>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, String> {
        let (mode, from) = match sslmode {
            Some(mode) => (Some(mode), "sslmode"),
            None => (env("PGSSLMODE"), "PGSSLMODE"),
        };
        let mode = mode
            .map(|value| {
                SslMode::parse(&value).ok_or_else(|| {
                    format!(
                        "invalid {from} {value:?}: use disable, prefer, require, verify-ca or verify-full"
                    )
                })
            })
            .transpose()?;
        let root_cert = sslrootcert
            .or_else(|| env("PGSSLROOTCERT"))
            .filter(|value| !value.is_empty())
            .map(|value| match value.as_str() {
                "system" => RootCert::System,
                _ => RootCert::File(PathBuf::from(value)),
            });
        // As libpq: the system's authorities are worth something only when
        // the host name is checked too.
        let mode = match (mode, &root_cert) {
            (None, Some(RootCert::System)) => SslMode::VerifyFull,
            (Some(mode), Some(RootCert::System)) if mode != SslMode::VerifyFull => {
                return Err(format!(
                    "sslrootcert=system needs sslmode=verify-full, not {}",
                    mode.name()
                ))
            }
            (mode, _) => mode.unwrap_or(SslMode::DEFAULT),
        };
        Ok(Self { mode, root_cert })
    }

    /// The trusted authorities and whether the host name is checked, or
    /// `None` when the certificate is not verified at all.
    fn verification(&self) -> Result<Option<(RootCertStore, bool)>, String> {
        if matches!(self.mode, SslMode::Disable | SslMode::Prefer) {
            return Ok(None);
        }
        let given = self.root_cert.clone().or_else(default_root_cert);
        let (roots, check_name) = match (self.mode, given) {
            (SslMode::Disable | SslMode::Prefer, _) | (SslMode::Require, None) => return Ok(None),
            (SslMode::Require | SslMode::VerifyCa, Some(roots)) => (roots, false),
            (SslMode::VerifyCa, None) => (RootCert::System, false),
            (SslMode::VerifyFull, roots) => (roots.unwrap_or(RootCert::System), true),
        };
        let store = match roots {
            RootCert::File(path) => file_roots(&path)?,
            RootCert::System => system_roots()?,
        };
        Ok(Some((store, check_name)))
    }

    /// The connector that makes the TLS handshake for the `postgres`
    /// crate, with the verifier this mode needs. Errors say why the
    /// trusted certificates could not be read.
    pub(super) fn connector(&self) -> Result<MakeRustlsConnect, String> {
        let mut provider = rustls::crypto::ring::default_provider();
        // The key share sent first is P-256, the one group a PostgreSQL
        // server accepts by default (`ssl_ecdh_curve = prime256v1`): an
        // X25519 share would cost a round trip to be asked for P-256.
        provider.kx_groups = vec![kx_group::SECP256R1, kx_group::X25519, kx_group::SECP384R1];
        let provider = Arc::new(provider);
        let verifier = Verifier {
            verification: self.verification()?,
            algorithms: provider.signature_verification_algorithms,
        };
        let mut config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("setting up TLS: {e}"))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        // PostgreSQL 17 servers refuse any other protocol name (and its
        // absence with `sslnegotiation=direct`); older servers ignore it.
        config.alpn_protocols = vec![b"postgresql".to_vec()];
        Ok(MakeRustlsConnect::new(config))
    }

    /// What the trusted authorities are, for a message.
    fn trusted(&self) -> String {
        match self.root_cert.clone().or_else(default_root_cert) {
            Some(RootCert::File(path)) => format!("the certificates in {}", path.display()),
            Some(RootCert::System) | None => "the system's certificate authorities".to_owned(),
        }
    }

    /// Why a TLS handshake failed on the server's certificate, in words,
    /// or `None` when it failed for another reason.
    pub(super) fn certificate_problem(&self, e: &postgres::Error) -> Option<String> {
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
        while let Some(c) = cause {
            let tls = c
                .downcast_ref::<std::io::Error>()
                .and_then(std::io::Error::get_ref)
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
                .or_else(|| c.downcast_ref::<rustls::Error>());
            if let Some(rustls::Error::InvalidCertificate(problem)) = tls {
                return Some(format!(
                    "the server's certificate could not be verified (sslmode={}): {}",
                    self.mode.name(),
                    self.in_words(problem)
                ));
            }
            cause = c.source();
        }
        None
    }

    fn in_words(&self, problem: &CertificateError) -> String {
        match problem {
            CertificateError::UnknownIssuer => format!(
                "it is not signed by an authority trusted here ({}); give the authority's certificate with sslrootcert=PATH",
                self.trusted()
            ),
            CertificateError::NotValidForName => {
                "it does not name the host connected to".to_owned()
            }
            CertificateError::NotValidForNameContext { expected, presented } => format!(
                "it does not name the host connected to ({}); it names {}",
                expected.to_str(),
                if presented.is_empty() {
                    "no host".to_owned()
                } else {
                    presented.iter().map(|name| plain_name(name)).collect::<Vec<_>>().join(", ")
                }
            ),
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                "it has expired".to_owned()
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                "it is not valid yet".to_owned()
            }
            CertificateError::BadSignature => "its signature is not valid".to_owned(),
            CertificateError::BadEncoding => "it could not be read".to_owned(),
            other => other.to_string(),
        }
    }
}

/// A name a certificate presents, as webpki writes it (`DnsName("db")`,
/// `IpAddress(10.0.0.1)`), without the wrapping.
fn plain_name(name: &str) -> &str {
    name.strip_prefix("DnsName(\"")
        .and_then(|n| n.strip_suffix("\")"))
        .or_else(|| {
            name.strip_prefix("IpAddress(")
                .and_then(|n| n.strip_suffix(')'))
        })
        .unwrap_or(name)
}

/// libpq's default root certificate file, `~/.postgresql/root.crt`, when
/// it exists.
fn default_root_cert() -> Option<RootCert> {
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty())?;
    let path = Path::new(&home).join(".postgresql").join("root.crt");
    path.is_file().then_some(RootCert::File(path))
}

fn file_roots(path: &Path) -> Result<RootCertStore, String> {
    let unreadable = |e: &dyn std::fmt::Display| {
        format!("reading the root certificate file {}: {e}", path.display())
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| unreadable(&pem_error(e)))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| unreadable(&pem_error(e)))?;
    let mut store = RootCertStore::empty();
    let (added, _) = store.add_parsable_certificates(certs);
    if added == 0 {
        return Err(unreadable(&"it holds no certificate in PEM form"));
    }
    Ok(store)
}

fn pem_error(e: rustls::pki_types::pem::Error) -> String {
    match e {
        rustls::pki_types::pem::Error::Io(e) => e.to_string(),
        other => format!("{other:?}"),
    }
}

fn system_roots() -> Result<RootCertStore, String> {
    let found = rustls_native_certs::load_native_certs();
    let mut store = RootCertStore::empty();
    let (added, _) = store.add_parsable_certificates(found.certs);
    if added == 0 {
        let why = found
            .errors
            .first()
            .map_or_else(String::new, |e| format!(" ({e})"));
        return Err(format!(
            "no certificate authority found on this system{why}: give one with sslrootcert=PATH"
        ));
    }
    Ok(store)
}

/// The server's certificate, checked as the mode says. The handshake's
/// signature is always checked against the certificate's key.
#[derive(Debug)]
struct Verifier {
    /// The trusted authorities and whether the host name is checked;
    /// `None`: the certificate is not verified.
    verification: Option<(RootCertStore, bool)>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Some((roots, check_name)) = &self.verification {
            let cert = ParsedCertificate::try_from(end_entity)?;
            verify_server_cert_signed_by_trust_anchor(
                &cert,
                roots,
                intermediates,
                now,
                self.algorithms.all,
            )?;
            if *check_name {
                verify_server_name(&cert, server_name)?;
            }
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(
        sslmode: Option<&str>,
        sslrootcert: Option<&str>,
        env: &[(&str, &str)],
    ) -> Result<Settings, String> {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::resolve(
            sslmode.map(str::to_owned),
            sslrootcert.map(str::to_owned),
            |name| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()),
        )
    }

    #[test]
    fn modes_come_from_the_location_then_the_environment() {
        assert_eq!(resolve(None, None, &[]).unwrap().mode, SslMode::DEFAULT);
        assert_eq!(
            resolve(None, None, &[("PGSSLMODE", "verify-ca")])
                .unwrap()
                .mode,
            SslMode::VerifyCa
        );
        assert_eq!(
            resolve(Some("disable"), None, &[("PGSSLMODE", "require")])
                .unwrap()
                .mode,
            SslMode::Disable
        );
        for mode in SslMode::ALL {
            assert_eq!(resolve(Some(mode.name()), None, &[]).unwrap().mode, mode);
        }
    }

    #[test]
    fn unknown_modes_are_refused_with_the_known_ones() {
        let err = resolve(Some("allow-ish"), None, &[]).unwrap_err();
        assert!(err.contains("invalid sslmode \"allow-ish\""), "{err}");
        assert!(err.contains("verify-full"), "{err}");
        let err = resolve(None, None, &[("PGSSLMODE", "VERIFY")]).unwrap_err();
        assert!(err.contains("invalid PGSSLMODE \"VERIFY\""), "{err}");
    }

    #[test]
    fn root_certificates_come_from_the_location_then_the_environment() {
        let settings = resolve(
            Some("verify-ca"),
            Some("/a.pem"),
            &[("PGSSLROOTCERT", "/b.pem")],
        );
        assert_eq!(
            settings.unwrap().root_cert,
            Some(RootCert::File("/a.pem".into()))
        );
        let settings = resolve(Some("verify-ca"), None, &[("PGSSLROOTCERT", "/b.pem")]);
        assert_eq!(
            settings.unwrap().root_cert,
            Some(RootCert::File("/b.pem".into()))
        );
    }

    #[test]
    fn system_roots_mean_verify_full() {
        let settings = resolve(None, Some("system"), &[]).unwrap();
        assert_eq!(settings.mode, SslMode::VerifyFull);
        assert_eq!(settings.root_cert, Some(RootCert::System));
        let err = resolve(Some("require"), Some("system"), &[]).unwrap_err();
        assert!(err.contains("needs sslmode=verify-full"), "{err}");
    }

    #[test]
    fn presented_names_are_shown_plain() {
        assert_eq!(plain_name("DnsName(\"db.internal\")"), "db.internal");
        assert_eq!(plain_name("IpAddress(10.0.0.1)"), "10.0.0.1");
        assert_eq!(plain_name("DirectoryName"), "DirectoryName");
    }

    #[test]
    fn an_unreadable_root_certificate_file_is_named() {
        let settings = resolve(Some("verify-ca"), Some("/nonexistent/root.pem"), &[]).unwrap();
        let err = settings.connector().err().unwrap();
        assert!(err.contains("/nonexistent/root.pem"), "{err}");
    }
}
