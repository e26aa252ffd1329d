//! The `depot` client as a library: the binary is a thin shell over it, and
//! the end-to-end tests drive the same code paths.

pub mod batch;
pub mod billing;
pub mod client;
pub mod download;
pub mod format;
pub mod identity;
pub mod names;
pub mod network;
pub mod progress;
pub mod resume;
pub mod upload;
pub mod verify;
