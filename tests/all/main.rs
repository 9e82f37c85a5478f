//! Tollgate's integration tests: one binary, one module per topic. Every
//! test goes through the real runtime with guests built from source by
//! `guest-artifacts/build.rs`.

mod audit_guests;
mod audit;
mod auth;
mod bridge;
mod bundles;
mod cli;
mod common;
mod dev_reload;
mod docs;
mod doctor;
mod harness;
mod header_fields;
mod hostile_output;
mod keychain;
mod keys;
mod leaky_signer;
mod lint;
mod loading;
mod profiles;
mod scaffold;
mod secrets;
mod signing;
mod startup;
mod traps;
mod versions;
mod webdriver;
mod window;
mod window_auth;
mod window_profiles;
mod worker;
