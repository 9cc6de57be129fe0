//! SIGINT and SIGTERM during a long write: the loop notices, the transaction
//! rolls back, and the run ends with a clear message and exit 128 + signal.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use signal_hook::consts::{SIGINT, SIGTERM};

use super::error::{CliResult, ExitKind, Failure};

/// Watches for SIGINT and SIGTERM once installed. Install it only around
/// loops that call [`Interrupt::check`]: while it is installed the signals no
/// longer end the process by themselves.
pub struct Interrupt {
    signal: Arc<AtomicUsize>,
    ids: Vec<signal_hook::SigId>,
}

impl Interrupt {
    pub fn install() -> CliResult<Self> {
        let signal = Arc::new(AtomicUsize::new(0));
        let mut ids = Vec::new();
        for sig in [SIGINT, SIGTERM] {
            let seen = Arc::clone(&signal);
            ids.push(signal_hook::flag::register_usize(
                sig,
                seen,
                usize::try_from(sig).unwrap_or(0),
            )?);
        }
        Ok(Self { signal, ids })
    }

    /// The signal received, if any.
    pub fn received(&self) -> Option<i32> {
        match self.signal.load(Ordering::Relaxed) {
            0 => None,
            s => i32::try_from(s).ok(),
        }
    }

    /// Fail with an interruption error once a signal has arrived; `what`
    /// says what was rolled back or kept.
    pub fn check(&self, what: &str) -> CliResult<()> {
        match self.received() {
            None => Ok(()),
            Some(sig) => Err(interrupted(sig, what).into()),
        }
    }
}

impl Drop for Interrupt {
    fn drop(&mut self) {
        for id in self.ids.drain(..) {
            signal_hook::low_level::unregister(id);
        }
    }
}

fn interrupted(sig: i32, what: &str) -> Failure {
    let name = if sig == SIGINT { "SIGINT" } else { "SIGTERM" };
    Failure::new(
        ExitKind::Interrupted(u8::try_from(sig).unwrap_or(15)),
        format!("interrupted by {name}: {what}"),
    )
    .with("signal", name)
}
