//! The resolution state machine: what a completed provider login does to its
//! federated identity — returning, new (link, create or candidates), or unlinked /
//! detached by the app (never linked or created on its behalf). Pure functions; the
//! login service carries them out in one storage transaction.

use fedgate_domain::events::LoginOutcome;
use fedgate_domain::federation::LinkState;
use fedgate_domain::ids::UserId;
use fedgate_domain::linking::{self, AssertedLocator, LinkDecision, LocatorOwner};
use fedgate_domain::ports::ClaimedIdentity;

/// What the login does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// A linked identity signs in as its user.
    Returning(UserId),
    /// An identity the app unlinked or detached stays so; its candidates are
    /// refreshed, and a detached one keeps the user it was detached from.
    Kept {
        /// `Unlinked` or `Detached`.
        state: LinkState,
        /// The user a detached identity was detached from.
        detached_from: Option<UserId>,
        /// Users owning a locator the provider asserted.
        candidates: Vec<UserId>,
    },
    /// A new identity is linked to the user owning its verified locators.
    Link(UserId),
    /// A new identity gets a new user made from the provider's profile.
    Create,
    /// A new identity stays unlinked; the app decides among these candidates.
    Candidates(Vec<UserId>),
}

impl Plan {
    /// How the login will be reported.
    #[must_use]
    pub fn outcome(&self) -> LoginOutcome {
        match self {
            Self::Returning(_) => LoginOutcome::Returning,
            Self::Kept { .. } => LoginOutcome::Unlinked,
            Self::Link(_) => LoginOutcome::LinkedByEmail,
            Self::Create => LoginOutcome::NewUser,
            Self::Candidates(c) if c.is_empty() => LoginOutcome::Unlinked,
            Self::Candidates(_) => LoginOutcome::Candidates,
        }
    }

    /// The candidates the identity keeps and the app receives.
    #[must_use]
    pub fn candidates(&self) -> Vec<UserId> {
        match self {
            Self::Returning(_) | Self::Create => Vec::new(),
            Self::Kept { candidates, .. } | Self::Candidates(candidates) => candidates.clone(),
            Self::Link(user) => vec![user.clone()],
        }
    }
}

/// Whether the plan for `claimed` needs the owners of the asserted locators: only
/// identities that are not linked do.
#[must_use]
pub fn needs_owners(claimed: &ClaimedIdentity) -> bool {
    !matches!(
        (claimed.link_state, &claimed.user_id),
        (LinkState::Linked, Some(_))
    )
}

/// Decides what the login does. `owners` are the users owning any asserted locator
/// (ignored when [`needs_owners`] is false).
#[must_use]
pub fn plan(
    claimed: &ClaimedIdentity,
    asserted: &[AssertedLocator],
    owners: &[LocatorOwner],
    auto_create: bool,
) -> Plan {
    if !claimed.first_sight {
        return match (claimed.link_state, &claimed.user_id) {
            (LinkState::Linked, Some(user)) => Plan::Returning(user.clone()),
            (state, user) => {
                let mut candidates: Vec<UserId> =
                    owners.iter().map(|o| o.user_id.clone()).collect();
                candidates.sort();
                candidates.dedup();
                let detached = state == LinkState::Detached;
                Plan::Kept {
                    state: if detached {
                        LinkState::Detached
                    } else {
                        LinkState::Unlinked
                    },
                    detached_from: if detached { user.clone() } else { None },
                    candidates,
                }
            }
        };
    }
    match linking::decide(asserted, owners, auto_create) {
        LinkDecision::Link(user) => Plan::Link(user),
        LinkDecision::Create => Plan::Create,
        LinkDecision::Candidates(c) => Plan::Candidates(c),
    }
}

#[cfg(test)]
mod tests {
    use fedgate_domain::ids::FederatedUserId;
    use fedgate_domain::user::{Locator, LocatorKind};

    use super::*;

    fn uid(s: &str) -> UserId {
        UserId::parse(s).unwrap()
    }
    fn email(v: &str) -> Locator {
        Locator::parse(LocatorKind::Email, "e", v).unwrap()
    }
    fn claimed(first: bool, state: LinkState, user: Option<&str>) -> ClaimedIdentity {
        ClaimedIdentity {
            id: FederatedUserId::generate(),
            first_sight: first,
            link_state: state,
            user_id: user.map(uid),
            sealed_tokens: None,
            owners: None,
        }
    }
    fn owner(id: &str, verified: bool, linked_to_provider: bool) -> LocatorOwner {
        LocatorOwner {
            user_id: uid(id),
            locator: email("ann@acme.example"),
            verified,
            linked_to_provider,
        }
    }
    fn vouched(v: bool) -> Vec<AssertedLocator> {
        vec![AssertedLocator {
            locator: email("ann@acme.example"),
            vouched: v,
        }]
    }

    #[test]
    fn a_linked_identity_returns_without_looking_at_owners() {
        let c = claimed(false, LinkState::Linked, Some("ann"));
        assert!(!needs_owners(&c));
        let p = plan(&c, &vouched(true), &[owner("bob", true, false)], true);
        assert_eq!(p, Plan::Returning(uid("ann")));
        assert_eq!(p.outcome(), LoginOutcome::Returning);
    }

    #[test]
    fn unlinked_and_detached_identities_are_never_linked_for_the_app() {
        let owners = [
            owner("bob", true, false),
            owner("ann", true, false),
            owner("bob", true, false),
        ];
        let unlinked = claimed(false, LinkState::Unlinked, None);
        assert!(needs_owners(&unlinked));
        assert_eq!(
            plan(&unlinked, &vouched(true), &owners, true),
            Plan::Kept {
                state: LinkState::Unlinked,
                detached_from: None,
                candidates: vec![uid("ann"), uid("bob")]
            }
        );
        let detached = claimed(false, LinkState::Detached, Some("ann"));
        let p = plan(&detached, &vouched(true), &[], true);
        assert_eq!(
            p,
            Plan::Kept {
                state: LinkState::Detached,
                detached_from: Some(uid("ann")),
                candidates: vec![]
            }
        );
        assert_eq!(p.outcome(), LoginOutcome::Unlinked);
    }

    #[test]
    fn a_new_identity_links_creates_or_returns_candidates() {
        let new = claimed(true, LinkState::Unlinked, None);
        assert_eq!(plan(&new, &vouched(true), &[], true), Plan::Create);
        assert_eq!(
            plan(&new, &vouched(true), &[], false),
            Plan::Candidates(vec![])
        );
        assert_eq!(
            plan(&new, &vouched(true), &[owner("ann", true, false)], true),
            Plan::Link(uid("ann"))
        );
        // Email trust off (not vouched): candidate only.
        assert_eq!(
            plan(&new, &vouched(false), &[owner("ann", true, false)], true),
            Plan::Candidates(vec![uid("ann")])
        );
        // A recycled subject: the owner already has another identity of this provider.
        let p = plan(&new, &vouched(true), &[owner("ann", true, true)], true);
        assert_eq!(p, Plan::Candidates(vec![uid("ann")]));
        assert_eq!(p.outcome(), LoginOutcome::Candidates);
    }
}
