//! Look-alike consumers: a write that would create the first cursor of a
//! consumer whose name looks like an existing consumer's (`svc` and `svс`
//! with a Cyrillic `с`) is refused, unless `--allow-confusable`.
//!
//! Two names look alike when their confusable skeletons (Unicode Technical
//! Standard #39) are equal. The store's consumers are read once, the first
//! time a new consumer is met, and each distinct new consumer costs one
//! skeleton: a bulk write of many lines pays for its distinct consumers,
//! not its lines.

use std::collections::{HashMap, HashSet};

use cursorctl::store::{ConsumerFilter, StoreRead, StoreReadExt};
use unicode_security::confusable_detection::skeleton;

use super::error::{CliResult, Failure};
use super::output::quote;

/// The consumers known so far, by skeleton, and the names already checked.
#[derive(Default)]
pub struct Lookalikes {
    allow: bool,
    /// Skeleton to the consumer names that have it (read from the store on
    /// first need, with the new consumers accepted since).
    known: Option<HashMap<String, Vec<String>>>,
    checked: HashSet<String>,
}

impl Lookalikes {
    pub fn new(allow: bool) -> Self {
        Self {
            allow,
            ..Self::default()
        }
    }

    /// Check `consumer` before a write that may create its first cursor:
    /// a consumer the store has, or one already checked, passes; a new one
    /// whose skeleton is an existing consumer's is exit 2, naming it (and
    /// the input line that names it, if any).
    pub fn check(
        &mut self,
        store: &dyn StoreRead,
        consumer: &str,
        line: Option<u64>,
    ) -> CliResult<()> {
        if self.allow || self.checked.contains(consumer) {
            return Ok(());
        }
        if self.known.is_none() {
            let mut known: HashMap<String, Vec<String>> = HashMap::new();
            store.for_each_consumer(&ConsumerFilter::default(), |s| -> CliResult<()> {
                known
                    .entry(skeleton(&s.consumer).collect())
                    .or_default()
                    .push(s.consumer.clone());
                Ok(())
            })?;
            self.known = Some(known);
        }
        let known = self.known.get_or_insert_with(HashMap::new);
        let names = known.entry(skeleton(consumer).collect()).or_default();
        if !names.iter().any(|n| n == consumer) {
            if let Some(existing) = names.first() {
                let at = line.map_or_else(String::new, |n| format!("line {n}: "));
                return Err(Failure::usage(format!(
                    "{at}consumer {} would be new, and looks like the existing consumer {}; nothing was written",
                    shown(consumer),
                    shown(existing),
                ))
                .with("consumer", consumer)
                .with("looks_like", existing.as_str())
                .with_hint(
                    "check the name (`cursorctl describe` lists the consumers); to create it all the same, add --allow-confusable",
                )
                .into());
            }
            names.push(consumer.to_owned());
        }
        self.checked.insert(consumer.to_owned());
        Ok(())
    }
}

/// Check one consumer a write with --create names, on the store --db
/// names (see [`Lookalikes::check`]).
pub fn check_one(ctx: &super::Context, create: bool, allow: bool, consumer: &str) -> CliResult<()> {
    if !create || allow {
        return Ok(());
    }
    // Closed before the write opens its own connection: a connection left
    // open would keep the write's from being the last one to close, which
    // on SQLite leaves its log to be folded into the file by the next
    // command.
    let store = std::mem::ManuallyDrop::into_inner(ctx.open_read()?);
    Lookalikes::new(false).check(&*store, consumer, None)
}

/// A name quoted, with its characters outside ASCII as code points
/// (`"svс" (U+0441)`): what tells two look-alike names apart.
fn shown(name: &str) -> String {
    let odd: Vec<String> = name
        .chars()
        .filter(|c| !c.is_ascii())
        .map(|c| format!("U+{:04X}", u32::from(c)))
        .collect();
    if odd.is_empty() {
        quote(name)
    } else {
        format!("{} ({})", quote(name), odd.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skeletons_match_look_alikes_only() {
        let s = |t: &str| skeleton(t).collect::<String>();
        assert_eq!(s("svc"), s("sv\u{0441}"));
        assert_eq!(s("billing"), s("bi11ing"));
        assert_ne!(s("svc"), s("svd"));
        assert_eq!(shown("sv\u{0441}"), "\"sv\u{0441}\" (U+0441)");
        assert_eq!(shown("svc"), "\"svc\"");
    }
}
