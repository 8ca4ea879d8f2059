//! Claim mapping: who signed in at a plain OAuth2 provider, read from its profile
//! response (and, GitHub-style, its list of email addresses) through JSON pointers
//! (RFC 6901) the subscriber configures.

use serde::{Deserialize, Serialize};

use crate::ValidationError;

/// Longest JSON pointer accepted.
const MAX_POINTER: usize = 200;
/// Longest subject accepted.
const MAX_SUBJECT: usize = 255;
/// Longest mapped text kept (names, picture URL, username).
const MAX_TEXT: usize = 2048;

/// Where each claim is in a profile response: JSON pointers such as `/id` or
/// `/data/user/email`. Only the subject is required.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClaimMapping {
    /// The stable user id (a string or an integer).
    pub subject: String,
    /// Email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Whether the provider verified the email (`true` or `"true"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<String>,
    /// Full name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Given name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    /// Family name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    /// Picture URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub picture: Option<String>,
    /// Login name at the provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
}

/// Checks a JSON pointer: empty is refused (it names the whole document), otherwise
/// `/`-separated reference tokens where `~` is only ever `~0` or `~1`.
pub fn parse_pointer(field: String, text: &str) -> Result<String, ValidationError> {
    let t = text.trim();
    if !t.starts_with('/') {
        return Err(ValidationError::new(
            field,
            "must be a JSON pointer starting with /, such as /id or /data/user/id",
        ));
    }
    if t.len() > MAX_POINTER {
        return Err(ValidationError::new(
            field,
            format!("must be at most {MAX_POINTER} characters"),
        ));
    }
    if t.chars().any(char::is_control) {
        return Err(ValidationError::new(
            field,
            "must not contain control characters",
        ));
    }
    let mut chars = t.chars();
    while let Some(c) = chars.next() {
        if c == '~' && !matches!(chars.next(), Some('0' | '1')) {
            return Err(ValidationError::new(
                field,
                "~ must be written ~0, and / inside a name ~1 (RFC 6901)",
            ));
        }
    }
    Ok(t.to_owned())
}

fn optional_pointer(field: &str, value: Option<String>) -> Result<Option<String>, ValidationError> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(p) => parse_pointer(format!("claimMapping.{field}"), p).map(Some),
    }
}

impl ClaimMapping {
    /// Validates every pointer (empty optional ones are dropped).
    pub fn parse(raw: Self) -> Result<Self, ValidationError> {
        Ok(Self {
            subject: parse_pointer("claimMapping.subject".into(), &raw.subject)?,
            email: optional_pointer("email", raw.email)?,
            email_verified: optional_pointer("emailVerified", raw.email_verified)?,
            name: optional_pointer("name", raw.name)?,
            given_name: optional_pointer("givenName", raw.given_name)?,
            family_name: optional_pointer("familyName", raw.family_name)?,
            picture: optional_pointer("picture", raw.picture)?,
            username: optional_pointer("username", raw.username)?,
        })
    }

    /// What the mapping reads from `profile`.
    pub fn apply(&self, profile: &serde_json::Value) -> Result<MappedProfile, MappingError> {
        let subject = match profile.pointer(&self.subject) {
            None | Some(serde_json::Value::Null) => {
                return Err(MappingError::SubjectMissing(self.subject.clone()));
            }
            Some(value) => subject_text(value).ok_or_else(|| MappingError::SubjectInvalid {
                pointer: self.subject.clone(),
                found: kind_of(value),
            })?,
        };
        let text = |pointer: &Option<String>| {
            pointer
                .as_deref()
                .and_then(|p| profile.pointer(p))
                .and_then(scalar_text)
        };
        let email_verified = self
            .email_verified
            .as_deref()
            .and_then(|p| profile.pointer(p))
            .is_some_and(truthy);
        Ok(MappedProfile {
            subject,
            email: text(&self.email),
            email_verified,
            name: text(&self.name),
            given_name: text(&self.given_name),
            family_name: text(&self.family_name),
            picture: text(&self.picture),
            username: text(&self.username),
        })
    }
}

/// A subject in its string form: a non-empty string, or an integer (`123` and `"123"`
/// are the same person).
fn subject_text(value: &serde_json::Value) -> Option<String> {
    let text = match value {
        serde_json::Value::String(s) => s.trim().to_owned(),
        serde_json::Value::Number(n) if n.is_i64() || n.is_u64() => n.to_string(),
        _ => return None,
    };
    (!text.is_empty() && text.len() <= MAX_SUBJECT && !text.chars().any(char::is_control))
        .then_some(text)
}

/// A mapped optional claim: strings as given, integers in their string form,
/// anything else (objects, lists, booleans, empty text) treated as absent.
fn scalar_text(value: &serde_json::Value) -> Option<String> {
    let text = match value {
        serde_json::Value::String(s) => s.trim().to_owned(),
        serde_json::Value::Number(n) if n.is_i64() || n.is_u64() => n.to_string(),
        _ => return None,
    };
    let text: String = text
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_TEXT)
        .collect();
    (!text.is_empty()).then_some(text)
}

fn truthy(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::Bool(b) => *b,
        serde_json::Value::String(s) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

const fn kind_of(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number that is not an integer",
        serde_json::Value::String(_) => "an empty or overlong string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "an object",
    }
}

/// Why a profile yields no identity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    /// Nothing (or `null`) at the subject pointer.
    #[error("the profile has no subject at {0}")]
    SubjectMissing(String),
    /// The subject is not a string or an integer.
    #[error("the subject at {pointer} is {found}, not a string or an integer")]
    SubjectInvalid {
        /// The subject pointer.
        pointer: String,
        /// What was there.
        found: &'static str,
    },
}

impl MappingError {
    /// A stable reason code for events.
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match self {
            Self::SubjectMissing(_) => "profile_subject_missing",
            Self::SubjectInvalid { .. } => "profile_subject_invalid",
        }
    }
}

/// What a claim mapping read from a profile.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MappedProfile {
    /// The subject in its string form.
    pub subject: String,
    /// Email.
    pub email: Option<String>,
    /// The provider says the email is verified.
    pub email_verified: bool,
    /// Full name.
    pub name: Option<String>,
    /// Given name.
    pub given_name: Option<String>,
    /// Family name.
    pub family_name: Option<String>,
    /// Picture URL.
    pub picture: Option<String>,
    /// Login name.
    pub username: Option<String>,
}

impl MappedProfile {
    /// Takes the email from a GitHub-style list of addresses
    /// (`[{"email", "primary", "verified"}]`): the primary one, with its verification.
    /// A list without a primary address leaves the profile's email, verified only when
    /// the list says so for that very address. Anything that is not such a list
    /// changes nothing.
    pub fn with_email_list(&mut self, list: &serde_json::Value) {
        let Some(items) = list.as_array() else {
            return;
        };
        let entries: Vec<(String, bool, bool)> = items
            .iter()
            .filter_map(|item| {
                let email = item.get("email")?.as_str()?.trim().to_owned();
                let flag = |k: &str| item.get(k).is_some_and(truthy);
                (!email.is_empty()).then(|| (email, flag("primary"), flag("verified")))
            })
            .collect();
        if let Some((email, _, verified)) = entries.iter().find(|(_, primary, _)| *primary) {
            self.email = Some(email.clone());
            self.email_verified = *verified;
            return;
        }
        self.email_verified = self.email.as_deref().is_some_and(|mine| {
            entries
                .iter()
                .any(|(e, _, verified)| *verified && e.eq_ignore_ascii_case(mine))
        });
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn mapping(subject: &str) -> ClaimMapping {
        ClaimMapping {
            subject: subject.into(),
            email: Some("/email".into()),
            email_verified: Some("/email_verified".into()),
            name: Some("/name".into()),
            given_name: None,
            family_name: None,
            picture: Some("/avatar_url".into()),
            username: Some("/login".into()),
        }
    }

    #[test]
    fn numeric_and_string_subjects_are_the_same_person() {
        let m = mapping("/id");
        let a = m.apply(&json!({"id": 123, "login": "ann"})).unwrap();
        let b = m.apply(&json!({"id": "123"})).unwrap();
        assert_eq!(a.subject, "123");
        assert_eq!(a.subject, b.subject);
        assert_eq!(a.username.as_deref(), Some("ann"));
    }

    #[test]
    fn nested_pointers_and_escapes_resolve() {
        let m = ClaimMapping::parse(ClaimMapping {
            subject: "/data/user/id".into(),
            email: Some("/data/user/e~1mail".into()),
            ..mapping("/x")
        })
        .unwrap();
        let got = m
            .apply(&json!({"data": {"user": {"id": "u-7", "e/mail": "a@b.example"}}}))
            .unwrap();
        assert_eq!(
            (got.subject.as_str(), got.email.as_deref()),
            ("u-7", Some("a@b.example"))
        );
    }

    #[test]
    fn a_missing_or_non_scalar_subject_is_refused_by_name() {
        let m = mapping("/id");
        assert_eq!(
            m.apply(&json!({"login": "x"})).unwrap_err(),
            MappingError::SubjectMissing("/id".into())
        );
        assert_eq!(
            m.apply(&json!({"id": null})).unwrap_err().code(),
            "profile_subject_missing"
        );
        for bad in [
            json!({"id": {"n": 1}}),
            json!({"id": [1]}),
            json!({"id": true}),
            json!({"id": 1.5}),
            json!({"id": ""}),
        ] {
            assert_eq!(
                m.apply(&bad).unwrap_err().code(),
                "profile_subject_invalid",
                "{bad}"
            );
        }
        assert!(m.apply(&json!("not an object")).is_err());
    }

    #[test]
    fn verification_is_read_only_from_the_mapped_claim() {
        let m = mapping("/id");
        let yes = m
            .apply(&json!({"id": 1, "email": "a@b.example", "email_verified": "true"}))
            .unwrap();
        assert!(yes.email_verified);
        let unmapped = ClaimMapping {
            email_verified: None,
            ..m
        };
        let no = unmapped
            .apply(&json!({"id": 1, "email": "a@b.example", "email_verified": true}))
            .unwrap();
        assert!(!no.email_verified);
    }

    #[test]
    fn the_primary_address_of_an_email_list_wins() {
        let m = mapping("/id");
        let mut p = m.apply(&json!({"id": 5, "email": null})).unwrap();
        p.with_email_list(&json!([
            {"email": "old@b.example", "primary": false, "verified": true},
            {"email": "ann@b.example", "primary": true, "verified": true},
        ]));
        assert_eq!(
            (p.email.as_deref(), p.email_verified),
            (Some("ann@b.example"), true)
        );
        let mut unverified = m.apply(&json!({"id": 5})).unwrap();
        unverified.with_email_list(&json!([{"email": "x@b.example", "primary": true}]));
        assert_eq!(
            (unverified.email.as_deref(), unverified.email_verified),
            (Some("x@b.example"), false)
        );
        let mut garbage = m
            .apply(&json!({"id": 5, "email": "me@b.example", "email_verified": true}))
            .unwrap();
        garbage.with_email_list(&json!({"message": "Bad credentials"}));
        assert_eq!(
            (garbage.email.as_deref(), garbage.email_verified),
            (Some("me@b.example"), true)
        );
    }

    #[test]
    fn pointers_are_checked() {
        for bad in ["id", "", "/a~2", "/a~"] {
            assert!(parse_pointer("p".into(), bad).is_err(), "{bad}");
        }
        assert_eq!(parse_pointer("p".into(), " /a~0b/0 ").unwrap(), "/a~0b/0");
    }
}
