//! Small pieces shared by several pages.

mod raw_text;
mod timeline;

pub use raw_text::{FixedTitle, PageTitle, RenderedRows, TextArea, TitleSuffix, escape_text};
pub use timeline::{ExpiryTimeline, TIMELINE_PARAMS, TimelinePlace, timeline_params};

use chrono::NaiveDate;
use leptos::either::{Either, EitherOf3};
use leptos::prelude::*;

use crate::domain::{TokenKind, TokenStatus, relative_day};

/// How soon an expiry date comes, for the colour and the icon that says the same without colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Urgency {
    /// Today or already past.
    Expired,
    /// Within a week.
    Week,
    /// Within 30 days.
    Month,
    /// Later, or not an expiry date.
    Calm,
}

impl Urgency {
    pub fn of(date: NaiveDate, today: NaiveDate) -> Urgency {
        match (date - today).num_days() {
            d if d <= 0 => Urgency::Expired,
            d if d <= 7 => Urgency::Week,
            d if d <= 30 => Urgency::Month,
            _ => Urgency::Calm,
        }
    }

    /// A relative date's classes: its colour by urgency (whole strings, not put together on every
    /// row: the inventory writes fifty of these a page).
    fn date_class(self) -> &'static str {
        match self {
            Urgency::Expired => "inline-flex items-center gap-1 whitespace-nowrap font-medium text-red-700",
            Urgency::Week => "inline-flex items-center gap-1 whitespace-nowrap font-medium text-orange-700",
            Urgency::Month => "inline-flex items-center gap-1 whitespace-nowrap text-amber-700",
            Urgency::Calm => "inline-flex items-center gap-1 whitespace-nowrap text-slate-700",
        }
    }

    /// Its name in `data-urgency`.
    fn name(self) -> &'static str {
        match self {
            Urgency::Expired => "expired",
            Urgency::Week => "week",
            Urgency::Month => "month",
            Urgency::Calm => "calm",
        }
    }

    /// What the icon says to a screen reader (and what its shape says to everyone).
    fn words(self) -> &'static str {
        match self {
            Urgency::Expired => "Expired",
            Urgency::Week => "Due within a week",
            Urgency::Month => "Due within 30 days",
            Urgency::Calm => "",
        }
    }
}

/// A date in words relative to today ("in 12 days"), the date itself on hover. With `urgent`
/// (expiry dates) it is coloured by how soon it comes, and an icon says the same for people who
/// do not see the colour: a crossed circle (expired), a warning sign (within a week), a clock
/// (within 30 days).
#[component]
pub fn RelativeDate(date: NaiveDate, today: NaiveDate, #[prop(optional)] urgent: bool) -> impl IntoView {
    let urgency = if urgent {
        Urgency::of(date, today)
    } else {
        Urgency::Calm
    };
    // `NaiveDate`'s own `Display` is ISO 8601 (`%Y-%m-%d`), without parsing a format each time.
    let iso = date.to_string();
    view! {
        <span class=urgency.date_class() data-urgency=urgency.name()>
            {(urgency != Urgency::Calm).then(|| view! { <UrgencyIcon urgency /> })}
            <time datetime=iso.clone() title=iso>{relative_day(date, today)}</time>
        </span>
    }
}

/// The icon of an expiry's urgency, named for screen readers. SVG drawn with attributes: the
/// Content-Security-Policy allows no inline style.
#[component]
pub fn UrgencyIcon(urgency: Urgency) -> impl IntoView {
    let shape = match urgency {
        Urgency::Expired => EitherOf3::A(view! {
            <circle cx="10" cy="10" r="8" fill="currentColor"></circle>
            <path d="M7 7l6 6M13 7l-6 6" stroke="white" stroke-width="2" stroke-linecap="round"></path>
        }),
        Urgency::Week => EitherOf3::B(view! {
            <path d="M10 1.8 19 17.8H1Z" fill="currentColor" stroke="currentColor" stroke-linejoin="round"></path>
            <path d="M10 7.5v4.5" stroke="white" stroke-width="2" stroke-linecap="round"></path>
            <circle cx="10" cy="15" r="1.1" fill="white"></circle>
        }),
        _ => EitherOf3::C(view! {
            <circle cx="10" cy="10" r="7.5" fill="none" stroke="currentColor" stroke-width="2"></circle>
            <path d="M10 5.5V10l3 2" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round"></path>
        }),
    };
    view! {
        <svg class="h-4 w-4 shrink-0" viewBox="0 0 20 20" role="img" aria-label=urgency.words()>
            {shape}
        </svg>
    }
}

/// An expiry date, or "never" (a token that never expires is a finding: red, with the warning
/// icon). `active`: only an active token's expiry is urgent.
#[component]
pub fn ExpiryDate(expires_on: Option<NaiveDate>, today: NaiveDate, active: bool) -> impl IntoView {
    match expires_on {
        Some(date) => Either::Left(view! { <RelativeDate date today urgent=active /> }),
        None => Either::Right(view! {
            <span class="inline-flex items-center gap-1 whitespace-nowrap font-medium text-red-700" data-urgency="never">
                <svg class="h-4 w-4 shrink-0" viewBox="0 0 20 20" role="img" aria-label="No expiry date">
                    <path d="M10 1.8 19 17.8H1Z" fill="currentColor" stroke="currentColor" stroke-linejoin="round"></path>
                    <path d="M10 7.5v4.5" stroke="white" stroke-width="2" stroke-linecap="round"></path>
                    <circle cx="10" cy="15" r="1.1" fill="white"></circle>
                </svg>
                "never"
            </span>
        }),
    }
}

/// A value nobody gave: a dash, and why in a few words (GitLab does not say, nobody has said
/// yet, the kind of token has none), so a blank is never mistaken for a missing page.
#[component]
pub fn NoValue(reason: &'static str) -> impl IntoView {
    view! {
        <span class="text-slate-500" data-no-value=reason>
            <span aria-hidden="true">"— "</span>
            <span class="text-xs">{reason}</span>
        </span>
    }
}

/// A wide table in a box of its own that scrolls sideways, so the page itself never does. It can
/// be focused, so a keyboard scrolls it too. It is positioned, so what is positioned inside it
/// (`sr-only` text) stays inside it instead of widening the page.
#[component]
pub fn ScrollBox(label: &'static str, #[prop(optional, into)] class: String, children: Children) -> impl IntoView {
    view! {
        <div role="region" aria-label=label tabindex="0" class=format!("relative overflow-x-auto {class}")>
            {children()}
        </div>
    }
}

#[component]
pub fn KindBadge(kind: TokenKind) -> impl IntoView {
    let class = match kind {
        TokenKind::ProjectAccess => "badge bg-sky-100 text-sky-800",
        TokenKind::GroupAccess => "badge bg-violet-100 text-violet-800",
        TokenKind::Deploy => "badge bg-emerald-100 text-emerald-800",
        TokenKind::Personal => "badge bg-amber-100 text-amber-800",
    };
    view! {
        <span class=class>
            {kind.label()}
        </span>
    }
}

#[component]
pub fn StatusBadge(status: TokenStatus) -> impl IntoView {
    let class = match status {
        TokenStatus::Active => "badge bg-green-100 text-green-800",
        TokenStatus::Expired => "badge bg-red-100 text-red-800",
        TokenStatus::Revoked => "badge bg-slate-200 text-slate-700",
        TokenStatus::Gone => "badge bg-slate-100 text-slate-600",
    };
    view! {
        <span class=class data-status=status.label()>
            {status.label()}
        </span>
    }
}

/// An error where the page's content would be; on the server it also sets the page's status.
#[component]
pub fn ErrorPanel(error: crate::error::AppError) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(error.status_code());
    }
    view! {
        <div class="mt-6 rounded-xl border border-red-200 bg-red-50 p-4 text-sm text-red-800" role="alert">
            {error.to_string()}
        </div>
    }
}

/// The class strings the pages share, named once (the stylesheet is generated from the sources,
/// so each class is still spelled out in full here).
pub mod class {
    /// A form field: text input, select or text area.
    pub const FIELD: &str = "rounded-md border border-slate-300 bg-white px-3 py-2 text-sm shadow-sm focus:border-sky-500 focus:outline-none focus:ring-1 focus:ring-sky-500";
    /// A form field that takes the whole width of its form, below its label.
    pub const WIDE_FIELD: &str = "mt-1 w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm shadow-sm focus:border-sky-500 focus:outline-none focus:ring-1 focus:ring-sky-500";
    /// A small field inside a line of text or a table row.
    pub const SMALL_FIELD: &str = "rounded-md border border-slate-300 bg-white px-2 py-1 text-sm";
    /// A secondary action: a bordered link or button (pages, "Update", a team's link).
    pub const SECONDARY: &str = "rounded-md border border-slate-300 bg-white px-3 py-1.5 hover:bg-slate-50";
    /// The term of a fact (`dt`), and a small heading above a list.
    pub const TERM: &str = "text-xs font-semibold uppercase tracking-wide text-slate-600";
    /// A label above its field.
    pub const LABEL: &str = "block text-sm font-medium text-slate-700";
}

/// One fact of a description list: its term, and what it is (`class` for the `dd`).
#[component]
pub fn Fact(
    term: &'static str,
    #[prop(default = "text-sm")] class: &'static str,
    #[prop(optional)] id: Option<&'static str>,
    children: Children,
) -> impl IntoView {
    view! {
        <div>
            <dt class=class::TERM>{term}</dt>
            <dd class=class id=id>{children()}</dd>
        </div>
    }
}
