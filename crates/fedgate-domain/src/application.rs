//! Applications: the tenant boundary.

use chrono::{DateTime, Utc};

use crate::ValidationError;
use crate::ids::{ApplicationId, SubscriberId};

/// An application name: 1..=100 characters, trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationName(String);

impl ApplicationName {
    /// Parses a name.
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        crate::error::label("name", text, 100).map(Self)
    }

    /// The name.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An application of a subscriber.
#[derive(Debug, Clone)]
pub struct Application {
    /// Its id.
    pub id: ApplicationId,
    /// The owning subscriber.
    pub subscriber_id: SubscriberId,
    /// Its display name.
    pub name: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}
