//! sea-orm entities, one module per table. They mirror the latest migration.

pub mod access_key;
pub mod application;
pub mod event;
pub mod federated_user;
pub mod instance_meta;
pub mod property;
pub mod signing_key;
pub mod subscriber;
pub mod user;
pub mod user_locator;
pub mod user_token;
pub mod webhook_delivery;
