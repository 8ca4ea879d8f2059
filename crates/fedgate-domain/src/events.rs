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

/// The reason of the summary event that stands for failures not stored one by one.
pub const NOT_STORED_REASON: &str = "events_not_stored";

#[derive(Debug)]
struct FailureWindow {
    minute: i64,
    stored: u64,
    not_stored: u64,
}

/// Keeps failed logins — which anyone can cause without credentials — from growing
/// the event log without bound: per application, at most `per_minute` failures of a
/// minute are stored one by one; the rest are counted and stored as one summary
/// event (reason [`NOT_STORED_REASON`]) once the minute is over.
#[derive(Debug)]
pub struct FailureBudget {
    per_minute: u64,
    windows: std::collections::HashMap<ApplicationId, FailureWindow>,
}

impl FailureBudget {
    /// A budget of `per_minute` stored failures per application and minute.
    #[must_use]
    pub fn new(per_minute: u64) -> Self {
        Self {
            per_minute,
            windows: std::collections::HashMap::new(),
        }
    }

    /// Whether to store `event` one by one; summaries of finished minutes of its
    /// application are added to `out` first.
    pub fn admit(&mut self, event: &Event, out: &mut Vec<Event>) -> bool {
        if event.kind != EventKind::LoginFailed {
            return true;
        }
        let minute = event.at.timestamp().div_euclid(60);
        let window = self
            .windows
            .entry(event.application_id)
            .or_insert(FailureWindow {
                minute,
                stored: 0,
                not_stored: 0,
            });
        if window.minute != minute {
            if let Some(summary) = summary(event.application_id, window, self.per_minute) {
                out.push(summary);
            }
            *window = FailureWindow {
                minute,
                stored: 0,
                not_stored: 0,
            };
        }
        if window.stored < self.per_minute {
            window.stored += 1;
            true
        } else {
            window.not_stored += 1;
            false
        }
    }

    /// Summaries of every minute that ended before `now`, forgetting those minutes.
    pub fn close_finished(&mut self, now: DateTime<Utc>) -> Vec<Event> {
        let current = now.timestamp().div_euclid(60);
        let mut out = Vec::new();
        let per_minute = self.per_minute;
        self.windows.retain(|app, w| {
            if w.minute >= current {
                return true;
            }
            out.extend(summary(*app, w, per_minute));
            false
        });
        out
    }
}

fn summary(app: ApplicationId, w: &FailureWindow, per_minute: u64) -> Option<Event> {
    if w.not_stored == 0 {
        return None;
    }
    let start = DateTime::from_timestamp(w.minute * 60, 0)?;
    let mut e = Event::new(
        app,
        EventKind::LoginFailed,
        start + chrono::Duration::seconds(59),
    );
    e.reason = Some(NOT_STORED_REASON.to_owned());
    e.detail = Some(format!(
        "{} more failed logins in the minute from {} were counted but not stored one by one \
         (at most {per_minute} a minute per application)",
        w.not_stored,
        start.format("%Y-%m-%d %H:%M UTC")
    ));
    Some(e)
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

#[cfg(test)]
mod budget_tests {
    use super::*;

    fn failure(app: ApplicationId, second: i64) -> Event {
        Event::new(
            app,
            EventKind::LoginFailed,
            DateTime::from_timestamp(1_767_225_600 + second, 0).unwrap(),
        )
    }

    #[test]
    fn past_the_budget_failures_are_counted_and_summarised_once_the_minute_ends() {
        let (a, b) = (ApplicationId::generate(), ApplicationId::generate());
        let mut budget = FailureBudget::new(3);
        let mut out = Vec::new();
        let stored: Vec<bool> = (0..5)
            .map(|i| budget.admit(&failure(a, i), &mut out))
            .collect();
        assert_eq!(stored, [true, true, true, false, false]);
        // Another application has its own budget; other kinds are never held back.
        assert!(budget.admit(&failure(b, 1), &mut out));
        let start = Event::new(a, EventKind::LoginStarted, failure(a, 2).at);
        assert!(budget.admit(&start, &mut out));
        assert!(out.is_empty(), "nothing to summarise within the minute");
        assert!(budget.close_finished(failure(a, 59).at).is_empty());

        // The next minute: a's summary comes with its first failure there.
        assert!(budget.admit(&failure(a, 61), &mut out));
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].reason.as_deref(), Some(NOT_STORED_REASON));
        assert!(
            out[0]
                .detail
                .as_deref()
                .unwrap()
                .starts_with("2 more failed logins")
        );
        assert_eq!(out[0].at, failure(a, 59).at);
        // b had nothing held back: no summary; closing forgets both minutes.
        let later = budget.close_finished(failure(a, 200).at);
        assert!(later.is_empty());
        assert!(budget.windows.is_empty());
    }
}
