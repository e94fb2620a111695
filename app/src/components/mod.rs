//! Small pieces shared by several pages.

mod raw_text;

pub use raw_text::{PageTitle, TextArea, TitleSuffix, escape_text};

use chrono::NaiveDate;
use leptos::prelude::*;

use crate::domain::{TokenKind, TokenStatus, relative_day};

/// A date in words relative to today ("in 12 days"), the date itself on hover, coloured by how
/// soon it comes when `urgent` is set (for expiry dates).
#[component]
pub fn RelativeDate(date: NaiveDate, today: NaiveDate, #[prop(optional)] urgent: bool) -> impl IntoView {
    let days = (date - today).num_days();
    let colour = match (urgent, days) {
        (false, _) => "text-slate-700",
        (true, d) if d <= 0 => "font-medium text-red-700",
        (true, d) if d <= 7 => "font-medium text-orange-700",
        (true, d) if d <= 30 => "text-amber-700",
        (true, _) => "text-slate-700",
    };
    let iso = date.format("%Y-%m-%d").to_string();
    view! {
        <time datetime=iso.clone() title=iso class=colour>
            {relative_day(date, today)}
        </time>
    }
}

#[component]
pub fn KindBadge(kind: TokenKind) -> impl IntoView {
    let colour = match kind {
        TokenKind::ProjectAccess => "bg-sky-100 text-sky-800",
        TokenKind::GroupAccess => "bg-violet-100 text-violet-800",
        TokenKind::Deploy => "bg-emerald-100 text-emerald-800",
        TokenKind::Personal => "bg-amber-100 text-amber-800",
    };
    view! {
        <span class=format!("inline-flex whitespace-nowrap rounded-full px-2 py-0.5 text-xs font-medium {colour}")>
            {kind.label()}
        </span>
    }
}

#[component]
pub fn StatusBadge(status: TokenStatus) -> impl IntoView {
    let colour = match status {
        TokenStatus::Active => "bg-green-100 text-green-800",
        TokenStatus::Expired => "bg-red-100 text-red-800",
        TokenStatus::Revoked => "bg-slate-200 text-slate-700",
        TokenStatus::Gone => "bg-slate-100 text-slate-500",
    };
    view! {
        <span class=format!("inline-flex rounded-full px-2 py-0.5 text-xs font-medium {colour}") data-status=status.label()>
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
