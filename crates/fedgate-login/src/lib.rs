//! Fedgate's hosted login as a service, for every provider. It owns:
//! - providers as values ([`ProviderConfig`]: the Google preset, OpenID Connect
//!   providers found by discovery, plain OAuth2 providers, the built-in development
//!   provider — an OpenID Connect provider like any other);
//! - the [`Registry`], deriving an application's providers *and* its Hosted Services
//!   tiles from its properties;
//! - the [`LoginFlow`] (`start` / `complete`) with typed refusals and failures, each
//!   mapped once to its event reason, OAuth `error` and error page ([`outcome`]);
//! - the resolution state machine ([`resolution`]), carried out through the storage
//!   port `LoginTransaction` in one transaction, events included.
//!
//! It knows nothing of actix-web, sea-orm or Redis.

pub mod development;
pub mod diagnostics;
mod flow;
pub mod outcome;
pub mod provider;
pub mod registry;
pub mod resolution;
pub mod services;

pub use flow::{
    CallbackRequest, Completed, EventPublisher, FlowParts, LoginFlow, StartRequest, Started,
    result_key,
};
pub use provider::{ProviderConfig, ProviderKind, ProviderRef};
pub use registry::{Lookup, Registry};
pub use services::{HostedService, InactiveReason, ServiceStatus};
