//! Validation errors shared by every parse constructor.

use std::borrow::Cow;

/// A value that failed validation: which field, and a message fit to show a person.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ValidationError {
    /// The input field, in the wire (camelCase) spelling, e.g. `redirectUris[1]`.
    pub field: Cow<'static, str>,
    /// What is wrong, in a sentence.
    pub message: Cow<'static, str>,
}

impl ValidationError {
    /// Builds an error for `field` with `message`.
    pub fn new(field: impl Into<Cow<'static, str>>, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Checks a free-text label: trimmed, 1..=max characters, no control characters.
pub(crate) fn label(
    field: &'static str,
    value: &str,
    max: usize,
) -> Result<String, ValidationError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(ValidationError::new(field, "must not be empty"));
    }
    if trimmed.chars().count() > max {
        return Err(ValidationError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(ValidationError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(trimmed.to_owned())
}
