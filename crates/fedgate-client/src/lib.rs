//! Fedgate application API client.
