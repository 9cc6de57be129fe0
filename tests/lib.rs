//! Every integration test, linked once: the command line through the
//! built binary, the store contract against each backend, the library,
//! crashes, faults and a live consumer. Each module is one area; `common`
//! is the harness they share.

mod common;

mod bulk_chain;
mod commands;
mod consumer_pg;
mod contract;
mod core;
mod crash;
mod defects;
mod dry_run;
mod failover;
mod flush_sim;
mod generated;
mod guide;
mod hardening;
mod harness;
mod heads;
mod ids;
mod leases;
mod leases_clock;
mod leases_writes;
mod library;
mod live;
mod pipeline;
mod postgres;
mod properties;
mod records;
mod reliability;
mod rough_edges;
mod rules;
mod secrets;
