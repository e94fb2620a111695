//! What the domain's named enums share. Each derives its identifier (`as_str`), `Display`,
//! `FromStr` and list of variants from strum, spelled by `#[strum(...)]` next to serde's
//! `#[serde(...)]`; an unknown identifier is a [`ParseError`](crate::ParseError) naming what was
//! expected ("token kind"), made by the enum's own `unknown` function. The strum derive stands on
//! a line of its own after `#[serde(...)]`, so that rustfmt keeps it apart from the first derive
//! instead of merging both into one list a line per trait.

/// An enum's variants (strum's `VariantArray::VARIANTS`, in the order they are declared) as the
/// array its `ALL` is, so that callers can iterate it by value and `map` it. Evaluated when the
/// crate compiles: an `N` that is not the number of variants fails the build.
pub(crate) const fn all<T: Copy, const N: usize>(variants: &[T]) -> [T; N] {
    match variants.first_chunk::<N>() {
        Some(all) if variants.len() == N => *all,
        _ => panic!("ALL must hold every variant, once"),
    }
}

#[cfg(test)]
mod tests {
    use std::{collections::BTreeSet, fmt::Debug, str::FromStr};

    use serde::{Serialize, de::DeserializeOwned};
    use strum::VariantArray;

    use crate::*;

    /// How an enum's serde spelling relates to its identifier.
    #[derive(Clone, Copy)]
    enum Serde {
        /// Serialised as its identifier.
        SameAsIdentifier,
        /// Serialised otherwise (checked where it is declared).
        Own,
    }

    /// Every variant of `T` reads back from its identifier (`as_str`), displays as it, and, where
    /// serde spells it the same, serialises as it and reads back from that; identifiers are unique
    /// and not blank, and case matters; an unknown identifier is refused with a message that names
    /// `what` was expected.
    fn assert_round_trips<T>(as_str: fn(T) -> &'static str, what: &'static str, serde: Serde)
    where
        T: VariantArray + Copy + Debug + PartialEq + std::fmt::Display + FromStr<Err = ParseError>,
        T: Serialize + DeserializeOwned,
    {
        let mut seen = BTreeSet::new();
        for &variant in T::VARIANTS {
            let identifier = as_str(variant);
            assert!(!identifier.trim().is_empty(), "{variant:?} has a blank identifier");
            assert!(seen.insert(identifier), "{identifier:?} names two variants");
            assert_eq!(identifier.parse::<T>(), Ok(variant), "{identifier:?} reads back");
            assert_eq!(
                variant.to_string(),
                identifier,
                "{variant:?} displays as its identifier"
            );
            let shouted = identifier.to_uppercase();
            assert!(shouted.parse::<T>().is_err(), "{shouted:?} is not an identifier");
            if let Serde::SameAsIdentifier = serde {
                assert_eq!(
                    serde_json::to_value(variant).ok(),
                    Some(identifier.into()),
                    "{variant:?} serialises as its identifier"
                );
                assert_eq!(serde_json::from_value::<T>(identifier.into()).ok(), Some(variant));
            }
        }
        let error = "no such thing".parse::<T>().expect_err("not an identifier");
        assert_eq!(error.to_string(), format!("\"no such thing\" is not a known {what}"));
        assert_eq!(error, ParseError::new(what, "no such thing"));
    }

    #[test]
    fn every_named_enum_round_trips_through_its_identifier() {
        use Serde::*;
        assert_round_trips(TokenKind::as_str, "token kind", SameAsIdentifier);
        assert_round_trips(ContainerKind::as_str, "container kind", SameAsIdentifier);
        assert_round_trips(TokenStatus::label, "token status", SameAsIdentifier);
        assert_round_trips(ExpiryWindow::as_str, "expiry window", Own);
        assert_round_trips(Scope::as_str, "token scope", SameAsIdentifier);
        assert_round_trips(Role::as_str, "role", SameAsIdentifier);
        assert_round_trips(TokenSort::as_str, "column to sort by", SameAsIdentifier);
        assert_round_trips(AccountKind::as_str, "account kind", SameAsIdentifier);
        assert_round_trips(SyncTrigger::as_str, "sync trigger", SameAsIdentifier);
        assert_round_trips(SyncStatus::as_str, "sync status", SameAsIdentifier);
        assert_round_trips(TokenEventKind::as_str, "token event", SameAsIdentifier);
        assert_round_trips(Resource::as_str, "part of GitLab", SameAsIdentifier);
        assert_round_trips(Usage::as_str, "usage", SameAsIdentifier);
        assert_round_trips(Reach::as_str, "reach", SameAsIdentifier);
        assert_round_trips(YesNo::as_str, "yes or no", SameAsIdentifier);
        assert_round_trips(Question::as_str, "wizard question", SameAsIdentifier);
        assert_round_trips(Field::as_str, "wizard field", SameAsIdentifier);
        assert_round_trips(RecommendedKind::as_str, "recommended kind", SameAsIdentifier);
        assert_round_trips(RuleId::as_str, "guideline rule", SameAsIdentifier);
        assert_round_trips(review::Severity::as_str, "severity", SameAsIdentifier);
        assert_round_trips(review::FindingRule::as_str, "finding rule", SameAsIdentifier);
        assert_round_trips(review::DecisionKind::as_str, "decision", SameAsIdentifier);
        assert_round_trips(review::FindingState::as_str, "finding state", SameAsIdentifier);
        assert_round_trips(
            recertification::ItemKind::as_str,
            "kind of token or account",
            SameAsIdentifier,
        );
    }
}
