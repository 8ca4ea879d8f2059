//! Fedgate's domain: the types and rules every other crate speaks in.
//!
//! It owns identifiers and parse-don't-validate newtypes, the property kinds a
//! subscriber configures, the linking policy, sealing of secrets at rest,
//! access-key request signing, password hashing, and the ports (traits) through which
//! it reaches storage and the short-lived state store. It knows nothing of HTTP,
//! SQL or Redis.

pub mod access_key;
pub mod application;
pub mod claims;
pub mod clock;
pub mod email;
pub mod error;
pub mod events;
pub mod federation;
pub mod ids;
pub mod linking;
pub mod login;
pub mod password;
pub mod ports;
pub mod property;
pub mod random;
pub mod redirect_uri;
pub mod request_auth;
pub mod seal;
pub use fedgate_signing as signing;
pub mod subscriber;
pub mod user;
pub mod webhook;

pub use error::ValidationError;
