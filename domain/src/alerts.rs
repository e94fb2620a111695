//! Team alerts: the daily digest per owner team (and the organisation's, for security) of what
//! enters each notice window, what expired, the review's new findings and the decisions that no
//! longer hold, each notice once (the ledger of notices already sent is passed in).
//!
//! Pure functions over plain data: `today` is passed in, the ledger is passed in, nothing is sent
//! from here. The digest renders to plain text (mail bodies and a chat webhook's `text`): it holds
//! names, paths, dates and links to the inventory, never a secret.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::recertification::Reminder;

use crate::{
    TeamRef, TokenKind,
    review::{FindingRule, Severity},
};

/// How far back an expiry still counts as news: a token that expired longer ago than this is left
/// to the review's queue (the first digest after a long pause does not list every old expiry).
pub const EXPIRED_LOOKBACK_DAYS: i64 = 7;

/// An audience's channels as pages show them: whether a webhook is configured (never its URL,
/// which is a secret) and the mail addresses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelSummary {
    /// The team (`None`: security's channel for the organisation's digest).
    pub team_id: Option<i64>,
    pub name: String,
    pub webhook: bool,
    pub emails: Vec<String>,
}

impl ChannelSummary {
    pub fn is_empty(&self) -> bool {
        !self.webhook && self.emails.is_empty()
    }
}

/// A token that may enter a notice window or has expired: live (not revoked, not gone) and with an
/// expiry date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertToken {
    pub id: i64,
    pub name: String,
    pub kind: TokenKind,
    pub path: String,
    pub team: Option<TeamRef>,
    pub expires_on: NaiveDate,
}

/// A finding as a digest lists it: a new one, or one whose decision stopped holding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertFinding {
    pub id: i64,
    pub rule: FindingRule,
    pub severity: Severity,
    pub subject_name: String,
    pub subject_path: String,
    /// The token it is about (its page is linked), `None` for a service account.
    pub token_id: Option<i64>,
    pub team: Option<TeamRef>,
    /// For a reopened decision: the decision's id (its notice is once per decision).
    pub decision_id: Option<i64>,
}

/// One notice, as the ledger keys it: sent once, ever.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum NoticeKey {
    /// The token entered the notice window of this many days.
    Window { token: i64, days: u32 },
    /// The token expired.
    Expired { token: i64 },
    /// The decision stopped holding.
    Reopened { decision: i64 },
}

impl NoticeKey {
    /// The ledger's key: `token:12:window:30`, `token:12:expired`, `decision:5:reopened`.
    pub fn key(&self) -> String {
        match self {
            NoticeKey::Window { token, days } => format!("token:{token}:window:{days}"),
            NoticeKey::Expired { token } => format!("token:{token}:expired"),
            NoticeKey::Reopened { decision } => format!("decision:{decision}:reopened"),
        }
    }

    /// The token it is about, and the window (0: expired), as the ledger's columns hold them.
    pub fn token_window(&self) -> (Option<i64>, Option<u32>) {
        match self {
            NoticeKey::Window { token, days } => (Some(*token), Some(*days)),
            NoticeKey::Expired { token } => (Some(*token), Some(0)),
            NoticeKey::Reopened { .. } => (None, None),
        }
    }
}

/// Who a digest goes to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Audience {
    Team(TeamRef),
    /// Security: everything, counted per team.
    Organisation,
}

impl Audience {
    /// The ledger's name for it: `team:<id>` or `organisation`.
    pub fn key(&self) -> String {
        match self {
            Audience::Team(team) => format!("team:{}", team.id),
            Audience::Organisation => "organisation".to_owned(),
        }
    }
}

/// A token entering a notice window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entering {
    pub token: AlertToken,
    /// The smallest window it is now in.
    pub window: u32,
    pub days_left: i64,
}

/// One audience's digest for a day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Digest {
    pub audience: Audience,
    pub day: NaiveDate,
    pub entering: Vec<Entering>,
    pub expired: Vec<AlertToken>,
    pub new_findings: Vec<AlertFinding>,
    pub reopened: Vec<AlertFinding>,
    /// The notices this digest gives: what the ledger records once it is sent.
    pub notices: Vec<NoticeKey>,
    /// Recertification campaigns the team has items left in, on a reminder day (in the
    /// organisation's digest: every team's).
    #[serde(default)]
    pub reminders: Vec<Reminder>,
}

/// What a digest is made from.
#[derive(Debug, Clone, Copy)]
pub struct DigestInput<'a> {
    pub today: NaiveDate,
    /// The notice windows in days (`REVIEW_NOTICE_DAYS`).
    pub windows: &'a [u32],
    /// Live tokens with an expiry date (those far from any window are simply not listed).
    pub tokens: &'a [AlertToken],
    /// Findings first found since the last digest run, still open.
    pub new_findings: &'a [AlertFinding],
    /// Findings whose latest decision no longer holds.
    pub reopened: &'a [AlertFinding],
    /// The notices already given (any outcome: a failed one is retried by its delivery, not
    /// given again by a later digest).
    pub sent: &'a BTreeSet<NoticeKey>,
    /// Today's recertification reminders ([`crate::recertification::reminders_due`]): given by
    /// the day's scheduled digest only, which is made once a day.
    pub reminders: &'a [Reminder],
}

impl Digest {
    fn empty(audience: Audience, day: NaiveDate) -> Self {
        Digest {
            audience,
            day,
            entering: Vec::new(),
            expired: Vec::new(),
            new_findings: Vec::new(),
            reopened: Vec::new(),
            notices: Vec::new(),
            reminders: Vec::new(),
        }
    }

    /// Nothing to say: such a digest is not sent.
    pub fn is_empty(&self) -> bool {
        self.entering.is_empty()
            && self.expired.is_empty()
            && self.new_findings.is_empty()
            && self.reopened.is_empty()
            && self.reminders.is_empty()
    }

    /// Keeps only what `claimed` holds (the notices this run won in the ledger; another replica
    /// gives the rest). New findings have no notice of their own and stay.
    pub fn retain_claimed(&mut self, claimed: &BTreeSet<NoticeKey>) {
        self.entering.retain(|e| {
            claimed.contains(&NoticeKey::Window {
                token: e.token.id,
                days: e.window,
            })
        });
        self.expired
            .retain(|t| claimed.contains(&NoticeKey::Expired { token: t.id }));
        self.reopened.retain(|f| {
            f.decision_id
                .is_some_and(|decision| claimed.contains(&NoticeKey::Reopened { decision }))
        });
        self.notices.retain(|key| claimed.contains(key));
    }
}

/// The notices a token is due today: the windows it is in and was not yet told of (the smallest
/// is the one named), or its expiry. `None`: nothing new about it.
fn token_notices(token: &AlertToken, input: &DigestInput<'_>) -> Option<(Option<Entering>, Vec<NoticeKey>)> {
    let days_left = (token.expires_on - input.today).num_days();
    if days_left <= 0 {
        let key = NoticeKey::Expired { token: token.id };
        let recent = -days_left < EXPIRED_LOOKBACK_DAYS;
        return (recent && !input.sent.contains(&key)).then(|| (None, vec![key]));
    }
    let due: Vec<NoticeKey> = input
        .windows
        .iter()
        .filter(|window| days_left <= i64::from(**window))
        .map(|days| NoticeKey::Window {
            token: token.id,
            days: *days,
        })
        .filter(|key| !input.sent.contains(key))
        .collect();
    let window = input
        .windows
        .iter()
        .copied()
        .filter(|window| days_left <= i64::from(*window))
        .min()?;
    let named = NoticeKey::Window {
        token: token.id,
        days: window,
    };
    // Told of the smallest window already: nothing new (a wider one left unrecorded stays so).
    if !due.contains(&named) {
        return None;
    }
    let entering = Entering {
        token: token.clone(),
        window,
        days_left,
    };
    Some((Some(entering), due))
}

/// Every owner team's digest for `today` (teams with nothing to say left out), and the digest of
/// what has no owner team (`Audience::Organisation`, for the organisation's digest only).
pub fn team_digests(input: &DigestInput<'_>) -> Vec<Digest> {
    let mut by_audience: BTreeMap<Audience, Digest> = BTreeMap::new();
    let today = input.today;
    for token in input.tokens {
        let Some((entering, keys)) = token_notices(token, input) else {
            continue;
        };
        let digest = digest_for(&mut by_audience, &token.team, today);
        match entering {
            Some(entering) => digest.entering.push(entering),
            None => digest.expired.push(token.clone()),
        }
        digest.notices.extend(keys);
    }
    for finding in input.new_findings {
        digest_for(&mut by_audience, &finding.team, today)
            .new_findings
            .push(finding.clone());
    }
    for finding in input.reopened {
        let Some(decision) = finding.decision_id else { continue };
        let key = NoticeKey::Reopened { decision };
        if input.sent.contains(&key) {
            continue;
        }
        let digest = digest_for(&mut by_audience, &finding.team, today);
        digest.reopened.push(finding.clone());
        digest.notices.push(key);
    }
    for reminder in input.reminders {
        digest_for(&mut by_audience, &Some(reminder.team.clone()), today)
            .reminders
            .push(reminder.clone());
    }
    let mut digests: Vec<Digest> = by_audience.into_values().filter(|d| !d.is_empty()).collect();
    for digest in &mut digests {
        digest.sort();
    }
    digests
}

/// The digest of `team`'s audience in `by_audience`, made when missing.
fn digest_for<'a>(
    by_audience: &'a mut BTreeMap<Audience, Digest>,
    team: &Option<TeamRef>,
    today: NaiveDate,
) -> &'a mut Digest {
    let audience = team.clone().map_or(Audience::Organisation, Audience::Team);
    by_audience
        .entry(audience.clone())
        .or_insert_with(|| Digest::empty(audience, today))
}

impl Digest {
    fn sort(&mut self) {
        self.entering
            .sort_by(|a, b| (a.days_left, &a.token.name, a.token.id).cmp(&(b.days_left, &b.token.name, b.token.id)));
        self.expired
            .sort_by(|a, b| (a.expires_on, &a.name, a.id).cmp(&(b.expires_on, &b.name, b.id)));
        let by_severity =
            |a: &AlertFinding, b: &AlertFinding| (a.severity, a.rule, a.id).cmp(&(b.severity, b.rule, b.id));
        self.new_findings.sort_by(by_severity);
        self.reopened.sort_by(by_severity);
        self.notices.sort();
        self.notices.dedup();
        self.reminders
            .sort_by(|a, b| (a.campaign_id, &a.team.name).cmp(&(b.campaign_id, &b.team.name)));
    }
}

/// The organisation's digest for security: everything the team digests hold (and what has no
/// owner team), in one; `None` when all are empty.
pub fn organisation_digest(digests: &[Digest], today: NaiveDate) -> Option<Digest> {
    let mut all = Digest::empty(Audience::Organisation, today);
    for digest in digests {
        all.entering.extend(digest.entering.iter().cloned());
        all.expired.extend(digest.expired.iter().cloned());
        all.new_findings.extend(digest.new_findings.iter().cloned());
        all.reopened.extend(digest.reopened.iter().cloned());
        all.notices.extend(digest.notices.iter().copied());
        all.reminders.extend(digest.reminders.iter().cloned());
    }
    all.sort();
    (!all.is_empty()).then_some(all)
}

/// Items a section of a rendered digest lists at most (a chat message has a size limit); the
/// rest are counted, with a link to where they all are.
pub const LISTED_PER_SECTION: usize = 50;

/// "…and N more" under a section cut at [`LISTED_PER_SECTION`].
fn more(text: &mut String, total: usize, link: &str) {
    if total > LISTED_PER_SECTION {
        text.push_str(&format!("- …and {} more: {link}\n", total - LISTED_PER_SECTION));
    }
}

/// A digest as words: the subject line and the plain-text body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenderedDigest {
    pub subject: String,
    pub text: String,
}

/// What the counts line of the organisation's digest says about one team.
#[derive(Default)]
struct TeamCount {
    entering: usize,
    expired: usize,
    findings: usize,
    reopened: usize,
}

impl Digest {
    /// The digest as plain text, with links under `public_url` (no trailing slash).
    pub fn render(&self, public_url: &str) -> RenderedDigest {
        let who = match &self.audience {
            Audience::Team(team) => team.name.clone(),
            Audience::Organisation => "the organisation".to_owned(),
        };
        let subject = format!("Token digest for {who}, {}", self.day);
        let mut text = format!("{subject}\n");
        if self.audience == Audience::Organisation {
            text.push_str(&self.counts_per_team());
        }
        if !self.entering.is_empty() {
            text.push_str("\nEntering a notice window:\n");
            for e in self.entering.iter().take(LISTED_PER_SECTION) {
                let when = if e.days_left == 1 {
                    "tomorrow".to_owned()
                } else {
                    format!("in {} days", e.days_left)
                };
                text.push_str(&format!(
                    "- {} ({}, {}) expires {when}, on {} ({}-day notice){}\n  {public_url}/tokens/{}\n",
                    e.token.name,
                    e.token.kind.label(),
                    e.token.path,
                    e.token.expires_on,
                    e.window,
                    self.team_note(&e.token.team),
                    e.token.id
                ));
            }
            more(
                &mut text,
                self.entering.len(),
                &format!("{public_url}/?{}status=active&sort=expires", self.team_query()),
            );
        }
        if !self.expired.is_empty() {
            text.push_str("\nExpired:\n");
            for t in self.expired.iter().take(LISTED_PER_SECTION) {
                text.push_str(&format!(
                    "- {} ({}, {}) expired on {}{}\n  {public_url}/tokens/{}\n",
                    t.name,
                    t.kind.label(),
                    t.path,
                    t.expires_on,
                    self.team_note(&t.team),
                    t.id
                ));
            }
            more(
                &mut text,
                self.expired.len(),
                &format!("{public_url}/?{}status=expired", self.team_query()),
            );
        }
        self.render_findings(&mut text, "New findings", &self.new_findings, public_url);
        self.render_findings(&mut text, "Decisions that no longer hold", &self.reopened, public_url);
        if !self.reminders.is_empty() {
            text.push_str("\nRecertification:\n");
            for reminder in &self.reminders {
                text.push_str(&format!("- {}\n  {public_url}{}\n", reminder.text, reminder.path));
            }
        }
        text.push_str(&format!("\nThe review: {public_url}/review\n"));
        RenderedDigest { subject, text }
    }

    fn render_findings(&self, text: &mut String, title: &str, findings: &[AlertFinding], public_url: &str) {
        if findings.is_empty() {
            return;
        }
        text.push_str(&format!("\n{title}:\n"));
        for f in findings.iter().take(LISTED_PER_SECTION) {
            let link = match f.token_id {
                Some(token) => format!("{public_url}/tokens/{token}"),
                None => format!("{public_url}/service-accounts"),
            };
            text.push_str(&format!(
                "- [{}] {}: {} ({}){}\n  {link}\n",
                f.severity.as_str(),
                f.rule.label(),
                f.subject_name,
                f.subject_path,
                self.team_note(&f.team)
            ));
        }
        more(text, findings.len(), &format!("{public_url}/review"));
    }

    /// A team's digest links to its own tokens: `team=<id>&`.
    fn team_query(&self) -> String {
        match &self.audience {
            Audience::Team(team) => format!("team={}&", team.id),
            Audience::Organisation => String::new(),
        }
    }

    /// In the organisation's digest, whose each item is.
    fn team_note(&self, team: &Option<TeamRef>) -> String {
        if self.audience != Audience::Organisation {
            return String::new();
        }
        match team {
            Some(team) => format!(", team {}", team.name),
            None => ", no owner team".to_owned(),
        }
    }

    fn counts_per_team(&self) -> String {
        let mut counts: BTreeMap<String, TeamCount> = BTreeMap::new();
        let name = |team: &Option<TeamRef>| team.as_ref().map_or_else(|| "No team".to_owned(), |t| t.name.clone());
        for e in &self.entering {
            counts.entry(name(&e.token.team)).or_default().entering += 1;
        }
        for t in &self.expired {
            counts.entry(name(&t.team)).or_default().expired += 1;
        }
        for f in &self.new_findings {
            counts.entry(name(&f.team)).or_default().findings += 1;
        }
        for f in &self.reopened {
            counts.entry(name(&f.team)).or_default().reopened += 1;
        }
        let mut text = String::from("\nPer team:\n");
        for (team, c) in counts {
            text.push_str(&format!(
                "- {team}: {} entering a window, {} expired, {} new findings, {} reopened\n",
                c.entering, c.expired, c.findings, c.reopened
            ));
        }
        text
    }
}

#[cfg(test)]
mod tests;
