//! The panel's pages, one module per section of the navigation.

pub mod account;
pub mod apps;
pub mod events;
pub mod hosted;
pub mod keys;
pub mod properties;
pub mod users;
pub mod webhooks;
