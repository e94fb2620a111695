//! The token wizard: from a few answers about an automation, the token the organisation's
//! "Guidelines for automation and access tokens" call for (a project or group deploy token, a
//! project or group access token, or a service account owned by a team), with its scopes, role,
//! expiry, name, the guideline sentences it rests on, the next step to get it, and why the other
//! kinds lost.
//!
//! Pure: no I/O and no clock (`today` is passed in), so the server, the JSON API and the browser
//! decide alike. The answers travel as JSON and as a URL query (every field optional), so a
//! half-answered wizard can be shared, resumed, and later pre-fill the service account request.
//!
//! How it decides: every kind has the conditions under which it can serve the automation
//! ([`RecommendedKind::misfits`]); the kinds are ordered from the narrowest to the broadest
//! ([`RecommendedKind::ALL`]), and the wizard recommends the narrowest kind that fits, as the
//! guidelines' "least privileged access principle" asks. A service account always fits, so there
//! is always a recommendation. Reusing an existing token is never one.

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Deserializer, Serialize};
use std::{fmt, str::FromStr};
use strum::{Display, EnumString, IntoStaticStr, VariantArray};

use crate::{AccessLevel, ContainerKind, ParseError, Scope, TokenKind, enums::all, ownership::looks_like_a_secret};

mod answers;
mod guidelines;
mod kinds;
mod policy;
mod recommend;
#[cfg(test)]
mod tests;

pub use answers::*;
pub use guidelines::*;
pub use kinds::*;
pub use policy::*;
pub use recommend::*;
