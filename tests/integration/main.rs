//! The black-box integration suite: one server per test, talked to over HTTP.
//! Runs on SQLite + in-process store, or PostgreSQL + Redis (`FG_TEST_BACKEND`).

#![expect(
    clippy::unwrap_used,
    reason = "helpers outside #[test] fns fail loudly by design"
)]

mod access_keys;
mod account;
mod app_api;
mod applications;
mod bad_input;
mod dev;
mod diagnostics;
mod docs_examples;
mod entra;
mod event_log;
mod faults;
mod hosted_services;
mod isolation;
mod login;
mod master_key;
mod metrics;
mod oauth2;
mod oidc;
mod operations;
mod panel_pages;
mod panel_users;
mod properties;
mod scale_out;
mod shutdown;
mod signing;
mod signing_keys;
mod webhooks;
