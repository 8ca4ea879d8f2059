//! Fedgate's HTTP server and composition root.
//!
//! Handlers extract and authorize (session or signed request), call the domain and
//! storage ports, and map results to wire types. No SQL and no business rules here.
// The panel's server-rendered view types are deeply nested.
#![recursion_limit = "256"]

pub mod body;
pub mod client_address;
pub mod config;
pub mod dev;
pub mod directory;
pub mod error;
pub mod events;
pub mod hot;
pub mod html;
pub mod maintenance;
pub mod master_key;
pub mod metrics;
pub mod panel;
pub mod request_context;
pub mod routes;
pub mod session;
pub mod sign_in;
pub mod signed;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod throttle;
pub mod tokens;
pub mod webhooks;

pub use config::Settings;
pub use startup::Application;
