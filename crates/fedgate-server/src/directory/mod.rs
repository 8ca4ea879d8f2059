//! The application's directory — users, federated users, user tokens — as one set of
//! functions that the application API (signed with an access key) and the management
//! API (a subscriber session, for the panel) both call. Handlers only extract,
//! authorize and render.

pub mod federated;
pub mod tokens;
pub mod users;
