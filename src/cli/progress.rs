//! The one look of progress bars on stderr (bulk writes, long simulations).

use indicatif::{ProgressBar, ProgressStyle};

/// A bar over `total` units (a spinner when the total is unknown), led by
/// `prefix`; the caller says what is counted with `set_message`.
pub fn bar(total: Option<u64>, prefix: &str) -> ProgressBar {
    let (bar, template) = match total {
        Some(total) => (
            ProgressBar::new(total),
            "{prefix} [{bar:30}] {percent:>3}% {msg}, {elapsed} elapsed, {eta} left",
        ),
        None => (
            ProgressBar::new_spinner(),
            "{prefix} {spinner} {msg}, {elapsed} elapsed",
        ),
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.with_prefix(prefix.to_owned())
}
