//! The linking policy: what to do with a federated identity seen for the first time.
//!
//! A pure function, so every case — including several candidates, which Google alone
//! cannot produce but providers asserting both an email and a phone number can — is
//! tested here without storage.

use crate::ids::UserId;
use crate::user::Locator;

/// A locator the provider asserted for the person signing in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssertedLocator {
    /// The locator.
    pub locator: Locator,
    /// Whether the provider vouches that the person controls it (for Google: the email
    /// is verified *and* is `@gmail.com` or the token carries `hd`).
    pub vouched: bool,
}

/// An existing user of the application owning one of the asserted locators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocatorOwner {
    /// The owning user.
    pub user_id: UserId,
    /// The asserted locator it owns.
    pub locator: Locator,
    /// Whether the user's own locator is verified.
    pub verified: bool,
    /// Whether the user is already linked to an identity of the provider configuration
    /// signing in (necessarily another subject: this one is new).
    pub linked_to_provider: bool,
}

/// What to do with a new federated identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkDecision {
    /// Link to this user (exactly one candidate, verified on both sides).
    Link(UserId),
    /// No user owns any asserted locator: create one from the provider's profile.
    Create,
    /// Link nothing; return these candidates for the app to decide (several owners,
    /// or one whose locator is unverified on either side). May be empty when
    /// auto-creation is off and nobody matched.
    Candidates(Vec<UserId>),
}

/// Decides how a federated identity seen for the first time joins the application's
/// users. `owners` are the users owning any of `asserted` (in any verification state).
#[must_use]
pub fn decide(
    asserted: &[AssertedLocator],
    owners: &[LocatorOwner],
    auto_create: bool,
) -> LinkDecision {
    let mut users: Vec<&UserId> = owners.iter().map(|o| &o.user_id).collect();
    users.sort();
    users.dedup();
    match users.as_slice() {
        [] if auto_create => LinkDecision::Create,
        [] => LinkDecision::Candidates(Vec::new()),
        [only] => {
            // Every locator linking this user must be vouched for by the provider and
            // verified on the user's side. A user already linked to another subject of
            // this provider is never linked automatically: the provider may have given a
            // deleted account's address to someone new (recycled-account takeover).
            let trusted = owners.iter().all(|o| {
                o.verified
                    && !o.linked_to_provider
                    && asserted.iter().any(|a| {
                        a.vouched
                            && a.locator.normalized() == o.locator.normalized()
                            && a.locator.kind() == o.locator.kind()
                    })
            });
            if trusted {
                LinkDecision::Link((*only).clone())
            } else {
                LinkDecision::Candidates(vec![(*only).clone()])
            }
        }
        many => LinkDecision::Candidates(many.iter().map(|u| (*u).clone()).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::user::LocatorKind;

    fn email(v: &str) -> Locator {
        Locator::parse(LocatorKind::Email, "e", v).unwrap()
    }
    fn phone(v: &str) -> Locator {
        Locator::parse(LocatorKind::Phone, "p", v).unwrap()
    }
    fn asserted(l: Locator, vouched: bool) -> AssertedLocator {
        AssertedLocator {
            locator: l,
            vouched,
        }
    }
    fn owner(id: &str, l: Locator, verified: bool) -> LocatorOwner {
        LocatorOwner {
            user_id: UserId::parse(id).unwrap(),
            locator: l,
            verified,
            linked_to_provider: false,
        }
    }
    fn uid(id: &str) -> UserId {
        UserId::parse(id).unwrap()
    }

    #[test]
    fn nobody_matches_creates_unless_auto_creation_is_off() {
        let a = [asserted(email("new@example.com"), true)];
        assert_eq!(decide(&a, &[], true), LinkDecision::Create);
        assert_eq!(decide(&a, &[], false), LinkDecision::Candidates(vec![]));
    }

    #[test]
    fn one_owner_verified_on_both_sides_links() {
        let a = [asserted(email("Ann@Example.com"), true)];
        let o = [owner("ann", email("ann@example.com"), true)];
        assert_eq!(decide(&a, &o, true), LinkDecision::Link(uid("ann")));
    }

    #[test]
    fn unverified_on_either_side_returns_the_candidate() {
        let vouched = [asserted(email("ann@example.com"), true)];
        let unvouched = [asserted(email("ann@example.com"), false)];
        let verified = [owner("ann", email("ann@example.com"), true)];
        let unverified = [owner("ann", email("ann@example.com"), false)];
        assert_eq!(
            decide(&vouched, &unverified, true),
            LinkDecision::Candidates(vec![uid("ann")])
        );
        assert_eq!(
            decide(&unvouched, &verified, true),
            LinkDecision::Candidates(vec![uid("ann")])
        );
        assert_eq!(
            decide(&unvouched, &unverified, false),
            LinkDecision::Candidates(vec![uid("ann")])
        );
    }

    #[test]
    fn a_user_linked_to_another_subject_of_the_provider_is_only_a_candidate() {
        let a = [asserted(email("ann@example.com"), true)];
        let mut o = owner("ann", email("ann@example.com"), true);
        o.linked_to_provider = true;
        assert_eq!(
            decide(&a, &[o], true),
            LinkDecision::Candidates(vec![uid("ann")])
        );
    }

    #[test]
    fn email_and_phone_owned_by_different_users_link_nobody() {
        let a = [
            asserted(email("ann@example.com"), true),
            asserted(phone("+14155550123"), true),
        ];
        let o = [
            owner("ann", email("ann@example.com"), true),
            owner("bob", phone("+14155550123"), true),
        ];
        assert_eq!(
            decide(&a, &o, true),
            LinkDecision::Candidates(vec![uid("ann"), uid("bob")])
        );
    }

    #[test]
    fn one_user_owning_two_asserted_locators_needs_both_trusted() {
        let a = [
            asserted(email("ann@example.com"), true),
            asserted(phone("+14155550123"), true),
        ];
        let both = [
            owner("ann", email("ann@example.com"), true),
            owner("ann", phone("+14155550123"), true),
        ];
        assert_eq!(decide(&a, &both, true), LinkDecision::Link(uid("ann")));
        let one_unverified = [
            owner("ann", email("ann@example.com"), true),
            owner("ann", phone("+14155550123"), false),
        ];
        assert_eq!(
            decide(&a, &one_unverified, true),
            LinkDecision::Candidates(vec![uid("ann")])
        );
    }
}
