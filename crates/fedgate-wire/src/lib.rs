//! Fedgate's wire types: the JSON request and response bodies of the management API
//! and the application API. Plain serde structs with no server dependencies, so the
//! Leptos panel (wasm) and API clients share them with the server. Field names are
//! camelCase; requests reject unknown fields; timestamps are RFC 3339 in UTC.

pub mod account;
pub mod app_api;
pub mod applications;
pub mod error;
pub mod events;
pub mod hosted;
pub mod keys;
pub mod properties;
pub mod users;
