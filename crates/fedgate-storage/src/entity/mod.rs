//! sea-orm entities, one module per table. They mirror the latest migration.

pub mod access_key;
pub mod application;
pub mod property;
pub mod subscriber;
