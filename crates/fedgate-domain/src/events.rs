//! The per-application event log: login starts, outcomes and failures with reasons.

use chrono::{DateTime, Utc};

use crate::ids::{ApplicationId, EventId, FederatedUserId, UserId};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// A login was started (valid start, about to redirect to the provider).
    LoginStarted,
    /// A login completed; `outcome` says how.
    LoginSucceeded,
    /// A login failed; `reason` says why.
    LoginFailed,
    /// The app linked a federated user to a user.
    FederatedUserLinked,
    /// The app unlinked a federated user (or its user was deleted).
    FederatedUserUnlinked,
    /// The app detached a federated user.
    FederatedUserDetached,
    /// The app created a user.
    UserCreated,
    /// The app deleted a user.
    UserDeleted,
    /// The app revoked user tokens.
    UserTokensRevoked,
}

impl EventKind {
    /// Every kind.
    pub const ALL: [Self; 9] = [
        Self::LoginStarted,
        Self::LoginSucceeded,
        Self::LoginFailed,
        Self::FederatedUserLinked,
        Self::FederatedUserUnlinked,
        Self::FederatedUserDetached,
        Self::UserCreated,
        Self::UserDeleted,
        Self::UserTokensRevoked,
    ];

    /// Stored spelling.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::LoginStarted => "login_started",
            Self::LoginSucceeded => "login_succeeded",
            Self::LoginFailed => "login_failed",
            Self::FederatedUserLinked => "federated_user_linked",
            Self::FederatedUserUnlinked => "federated_user_unlinked",
            Self::FederatedUserDetached => "federated_user_detached",
            Self::UserCreated => "user_created",
            Self::UserDeleted => "user_deleted",
            Self::UserTokensRevoked => "user_tokens_revoked",
        }
    }

    /// Parses the stored spelling.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// How a completed login resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginOutcome {
    /// A user was created for a new person.
    NewUser,
    /// A new person was linked to the existing user owning their verified email.
    LinkedByEmail,
    /// A linked federated user signed in again.
    Returning,
    /// Not linked; candidates were returned for the app to decide.
    Candidates,
    /// Not linked and no candidate (or unlinked / detached by the app).
    Unlinked,
}

impl LoginOutcome {
    /// Every outcome.
    pub const ALL: [Self; 5] = [
        Self::NewUser,
        Self::LinkedByEmail,
        Self::Returning,
        Self::Candidates,
        Self::Unlinked,
    ];

    /// Stored spelling.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::NewUser => "new_user",
            Self::LinkedByEmail => "linked_by_email",
            Self::Returning => "returning",
            Self::Candidates => "candidates",
            Self::Unlinked => "unlinked",
        }
    }

    /// Parses the stored spelling.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == text)
    }
}

/// One event.
#[derive(Debug, Clone)]
pub struct Event {
    /// Id (time-ordered).
    pub id: EventId,
    /// The application.
    pub application_id: ApplicationId,
    /// When.
    pub at: DateTime<Utc>,
    /// What.
    pub kind: EventKind,
    /// For successes: how the login resolved.
    pub outcome: Option<LoginOutcome>,
    /// For failures: a stable reason code, e.g. `id_token_invalid:nonce`.
    pub reason: Option<String>,
    /// Human-readable detail (never secrets).
    pub detail: Option<String>,
    /// Provider configuration key (`google`, `oidc:<property id>`).
    pub provider: Option<String>,
    /// The federated user involved.
    pub federated_user_id: Option<FederatedUserId>,
    /// The user involved.
    pub user_id: Option<UserId>,
}

impl Event {
    /// A new event of `kind` now.
    #[must_use]
    pub fn new(application_id: ApplicationId, kind: EventKind, at: DateTime<Utc>) -> Self {
        Self {
            id: EventId::generate(),
            application_id,
            at,
            kind,
            outcome: None,
            reason: None,
            detail: None,
            provider: None,
            federated_user_id: None,
            user_id: None,
        }
    }
}

/// Which events to list.
#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    /// Only this kind.
    pub kind: Option<EventKind>,
    /// Only events of this provider configuration key.
    pub provider: Option<String>,
    /// Only events older than this id (paging, newest first).
    pub before: Option<EventId>,
    /// At most this many (1..=200).
    pub limit: u64,
}
