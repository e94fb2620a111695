//! The `#[server]` functions, one module per area of the product, named `verb_noun`.
//! Pages read and write the database through these only.

pub mod account;
// Team alerts' pages are rendered on the server only.
#[cfg(feature = "ssr")]
pub mod alerts;
pub mod inventory;
// Recertification's pages too.
#[cfg(feature = "ssr")]
pub mod recertification;
// The review's page is rendered on the server only, and no island calls it.
#[cfg(feature = "ssr")]
pub mod review;
// The requests' pages too.
#[cfg(feature = "ssr")]
pub mod requests;
pub mod sync;
pub mod teams;
// The expiry timeline is rendered on the server only.
#[cfg(feature = "ssr")]
pub mod timeline;
pub mod wizard;
