//! Stripe webhook events, parsed into the facts billing acts on (docs/architecture.md section 5.4).
//!
//! [`StripeEvent::parse`] reads a body whose signature has already been verified
//! ([`crate::signature::verify_stripe`]). It separates two kinds of failure on purpose:
//!
//! - **Not an event** ([`StripeEventError`]): not JSON, not an object, or no usable `id`, `type`,
//!   `created`, `livemode` or `data.object`. There is no event id to journal under, so the
//!   caller answers 400.
//! - **An event whose object cannot be read** ([`EventObject::Unreadable`]): the envelope is fine,
//!   so the delivery is journaled under its event id with the reason and acknowledged. Refusing
//!   it would only make Stripe retry the same bytes for three days.
//!
//! Both object shapes Stripe has used are read:
//! - before 2025 a subscription carries `current_period_start/end` itself and an invoice links
//!   its subscription through `subscription`;
//! - from API version 2025-03-31 ("basil") the period lives on each subscription item
//!   (`items.data[].current_period_*`) and an invoice links it through
//!   `parent.subscription_details.subscription`.
//!
//! Which workspace an object belongs to is read here only as far as the payload says it
//! (`client_reference_id`, `metadata.workspace_id`); linking through the Stripe customer needs the
//! database and is the store's job. Values Stripe controls (ids, statuses, currency codes) are
//! kept; personal data in the payload (names, emails, addresses) is never read into these types,
//! so nothing here can leak it into logs.

use crate::ids::WorkspaceId;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use std::fmt;

/// The longest event id accepted (the journal's `event_key` allows 300; Stripe's are ~30).
const MAX_EVENT_ID_CHARS: usize = 255;

/// How much of an unexpected Stripe-supplied token (a status, a mode) a problem repeats.
const MAX_TOKEN_IN_PROBLEM: usize = 40;

/// Why a verified body is not a Stripe event at all (answered 400). Names fields, never values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StripeEventError {
    #[error("the body is not JSON (line {line}, column {column})")]
    NotJson { line: usize, column: usize },
    #[error("the body is not a JSON object")]
    NotAnObject,
    /// `object` is present and is not `"event"` (for example a bare `data` fragment).
    #[error("`object` is not \"event\"")]
    NotAnEvent,
    /// A required envelope field is missing or has the wrong type.
    #[error("`{field}` {problem}")]
    Field {
        field: &'static str,
        problem: &'static str,
    },
}

/// A Stripe event id (`evt_…`): the journal's idempotency key. Parsing is the only way in.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct StripeEventId(String);

impl StripeEventId {
    /// `evt_` followed by at least one of `[A-Za-z0-9_]`, at most [`MAX_EVENT_ID_CHARS`] in all.
    pub fn parse(value: &str) -> Result<Self, StripeEventError> {
        let field = |problem| StripeEventError::Field {
            field: "id",
            problem,
        };
        let rest = value
            .strip_prefix("evt_")
            .ok_or(field("does not start with `evt_`"))?;
        if rest.is_empty() || value.len() > MAX_EVENT_ID_CHARS {
            return Err(field("is not 5 to 255 characters long"));
        }
        if !rest
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_')
        {
            return Err(field("has characters other than letters, digits and `_`"));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StripeEventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The event types this engine acts on, and every other type by name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum EventType {
    CheckoutSessionCompleted,
    SubscriptionCreated,
    SubscriptionUpdated,
    SubscriptionDeleted,
    SubscriptionPaused,
    SubscriptionResumed,
    SubscriptionTrialWillEnd,
    InvoicePaid,
    InvoicePaymentSucceeded,
    InvoicePaymentFailed,
    InvoiceFinalized,
    /// Journaled and acknowledged, nothing else (for example `invoice.created`).
    Other(String),
}

impl EventType {
    /// Every handled type, as Stripe names it: what the README tells operators to select.
    pub const HANDLED: [&'static str; 11] = [
        "checkout.session.completed",
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "customer.subscription.paused",
        "customer.subscription.resumed",
        "customer.subscription.trial_will_end",
        "invoice.paid",
        "invoice.payment_succeeded",
        "invoice.payment_failed",
        "invoice.finalized",
    ];

    pub fn parse(value: &str) -> Self {
        match value {
            "checkout.session.completed" => Self::CheckoutSessionCompleted,
            "customer.subscription.created" => Self::SubscriptionCreated,
            "customer.subscription.updated" => Self::SubscriptionUpdated,
            "customer.subscription.deleted" => Self::SubscriptionDeleted,
            "customer.subscription.paused" => Self::SubscriptionPaused,
            "customer.subscription.resumed" => Self::SubscriptionResumed,
            "customer.subscription.trial_will_end" => Self::SubscriptionTrialWillEnd,
            "invoice.paid" => Self::InvoicePaid,
            "invoice.payment_succeeded" => Self::InvoicePaymentSucceeded,
            "invoice.payment_failed" => Self::InvoicePaymentFailed,
            "invoice.finalized" => Self::InvoiceFinalized,
            other => Self::Other(other.to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::CheckoutSessionCompleted => "checkout.session.completed",
            Self::SubscriptionCreated => "customer.subscription.created",
            Self::SubscriptionUpdated => "customer.subscription.updated",
            Self::SubscriptionDeleted => "customer.subscription.deleted",
            Self::SubscriptionPaused => "customer.subscription.paused",
            Self::SubscriptionResumed => "customer.subscription.resumed",
            Self::SubscriptionTrialWillEnd => "customer.subscription.trial_will_end",
            Self::InvoicePaid => "invoice.paid",
            Self::InvoicePaymentSucceeded => "invoice.payment_succeeded",
            Self::InvoicePaymentFailed => "invoice.payment_failed",
            Self::InvoiceFinalized => "invoice.finalized",
            Self::Other(other) => other,
        }
    }

    /// What kind of object a handled type carries; `None` for types that are only journaled.
    fn object_kind(&self) -> Option<ObjectKind> {
        match self {
            Self::CheckoutSessionCompleted => Some(ObjectKind::CheckoutSession),
            Self::SubscriptionCreated
            | Self::SubscriptionUpdated
            | Self::SubscriptionDeleted
            | Self::SubscriptionPaused
            | Self::SubscriptionResumed
            | Self::SubscriptionTrialWillEnd => Some(ObjectKind::Subscription),
            Self::InvoicePaid
            | Self::InvoicePaymentSucceeded
            | Self::InvoicePaymentFailed
            | Self::InvoiceFinalized => Some(ObjectKind::Invoice),
            Self::Other(_) => None,
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ObjectKind {
    CheckoutSession,
    Subscription,
    Invoice,
}

impl ObjectKind {
    /// The `data.object.object` Stripe sends for this kind.
    fn stripe_name(self) -> &'static str {
        match self {
            Self::CheckoutSession => "checkout.session",
            Self::Subscription => "subscription",
            Self::Invoice => "invoice",
        }
    }
}

/// One verified Stripe event.
#[derive(Debug, Clone, PartialEq)]
pub struct StripeEvent {
    pub id: StripeEventId,
    pub event_type: EventType,
    /// `created`: when Stripe created the event. Orders subscription writes (events arrive out
    /// of order) and pending events.
    pub created: DateTime<Utc>,
    pub livemode: bool,
    /// Absent in some old or hand-written events; informational only, since both shapes are read
    /// by what the object contains, not by this label.
    pub api_version: Option<String>,
    pub object: EventObject,
}

/// What the event's `data.object` says, for the types that are acted on.
#[derive(Debug, Clone, PartialEq)]
pub enum EventObject {
    Checkout(CheckoutSession),
    Subscription(Subscription),
    Invoice(Invoice),
    /// A type this engine does not act on: journaled and acknowledged.
    Unhandled,
    /// A handled type whose object cannot be read: journaled with this reason, not applied.
    Unreadable(ObjectProblem),
}

/// Why a handled event's object cannot be applied. Names the field, not its value (apart from
/// short Stripe tokens such as an unknown status, which carry no personal data).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{field}` {problem}")]
pub struct ObjectProblem {
    pub field: String,
    pub problem: String,
}

impl ObjectProblem {
    fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            problem: problem.into(),
        }
    }
}

impl StripeEvent {
    /// Parses a verified body (see the module doc for what is an error and what is journaled).
    ///
    /// # Errors
    /// [`StripeEventError`] when the body is not a Stripe event; the caller answers 400.
    pub fn parse(raw: &[u8]) -> Result<Self, StripeEventError> {
        let body: Value = serde_json::from_slice(raw).map_err(|error| {
            // serde_json's message names a position, never the body's text.
            StripeEventError::NotJson {
                line: error.line(),
                column: error.column(),
            }
        })?;
        let envelope = body.as_object().ok_or(StripeEventError::NotAnObject)?;
        match envelope.get("object") {
            None | Some(Value::Null) => {}
            Some(Value::String(kind)) if kind == "event" => {}
            Some(_) => return Err(StripeEventError::NotAnEvent),
        }
        let id = match envelope.get("id") {
            Some(Value::String(id)) => StripeEventId::parse(id)?,
            _ => return Err(envelope_field("id", "is missing or not a string")),
        };
        let event_type = match envelope.get("type") {
            Some(Value::String(kind)) if !kind.is_empty() => EventType::parse(kind),
            _ => return Err(envelope_field("type", "is missing or not a string")),
        };
        let created = envelope
            .get("created")
            .and_then(Value::as_i64)
            .and_then(|secs| DateTime::from_timestamp(secs, 0))
            .ok_or(envelope_field("created", "is missing or not a Unix time"))?;
        let livemode = envelope
            .get("livemode")
            .and_then(Value::as_bool)
            .ok_or(envelope_field("livemode", "is missing or not a boolean"))?;
        let api_version = envelope
            .get("api_version")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let data_object = envelope
            .get("data")
            .and_then(|data| data.get("object"))
            .and_then(Value::as_object)
            .ok_or(envelope_field("data.object", "is missing or not an object"))?;

        let object = match event_type.object_kind() {
            None => EventObject::Unhandled,
            Some(kind) => match read_object(kind, data_object) {
                Ok(object) => object,
                Err(problem) => EventObject::Unreadable(problem),
            },
        };
        Ok(Self {
            id,
            event_type,
            created,
            livemode,
            api_version,
            object,
        })
    }
}

fn envelope_field(field: &'static str, problem: &'static str) -> StripeEventError {
    StripeEventError::Field { field, problem }
}

fn read_object(
    kind: ObjectKind,
    object: &Map<String, Value>,
) -> Result<EventObject, ObjectProblem> {
    let fields = Fields::new(object, "data.object");
    match fields.opt_str("object")? {
        Some(name) if name != kind.stripe_name() => {
            return Err(ObjectProblem::new(
                "data.object.object",
                format!("is `{}`, not `{}`", shorten(name), kind.stripe_name()),
            ));
        }
        _ => {}
    }
    Ok(match kind {
        ObjectKind::CheckoutSession => EventObject::Checkout(CheckoutSession::read(&fields)?),
        ObjectKind::Subscription => EventObject::Subscription(Subscription::read(&fields)?),
        ObjectKind::Invoice => EventObject::Invoice(Invoice::read(&fields)?),
    })
}

// ---- checkout.session ------------------------------------------------------------------------

/// `checkout.session.mode`. Only `subscription` links a workspace to a customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckoutMode {
    Payment,
    Setup,
    Subscription,
    Other(String),
}

/// A completed Checkout Session: the moment a workspace becomes a Stripe customer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckoutSession {
    pub id: String,
    pub mode: CheckoutMode,
    /// `cus_…`; absent for payment-mode sessions that created no customer.
    pub customer: Option<String>,
    pub subscription: Option<String>,
    /// `client_reference_id`, or else `metadata.workspace_id` (whichever is a UUID, in that order).
    pub workspace_id: Option<WorkspaceId>,
    /// Values that were present but unusable (a reference that is not a UUID).
    pub problems: Vec<String>,
}

impl CheckoutSession {
    fn read(fields: &Fields<'_>) -> Result<Self, ObjectProblem> {
        let mode = match fields.req_str("mode")? {
            "payment" => CheckoutMode::Payment,
            "setup" => CheckoutMode::Setup,
            "subscription" => CheckoutMode::Subscription,
            other => CheckoutMode::Other(shorten(other)),
        };
        let mut problems = Vec::new();
        let from_reference = fields.workspace_ref("client_reference_id", &mut problems)?;
        let from_metadata = fields
            .child("metadata")?
            .map(|metadata| metadata.workspace_ref("workspace_id", &mut problems))
            .transpose()?
            .flatten();
        Ok(Self {
            id: fields.req_str("id")?.to_owned(),
            mode,
            customer: fields.id_of("customer")?,
            subscription: fields.id_of("subscription")?,
            workspace_id: from_reference.or(from_metadata),
            problems,
        })
    }
}

// ---- subscription ----------------------------------------------------------------------------

crate::text_enum! {
    /// `subscription.status`: the same list as the `workspace_subscriptions.status` CHECK (V5).
    SubscriptionStatus, UnknownSubscriptionStatus {
        Trialing => "trialing",
        Active => "active",
        PastDue => "past_due",
        Canceled => "canceled",
        Unpaid => "unpaid",
        Incomplete => "incomplete",
        IncompleteExpired => "incomplete_expired",
        Paused => "paused",
    }
}

impl SubscriptionStatus {
    /// Whether the subscription's plan is the workspace's plan (the access rule of
    /// `effective_plan_id`): `past_due` still grants it because Stripe is still retrying.
    pub const fn grants_plan(self) -> bool {
        matches!(self, Self::Trialing | Self::Active | Self::PastDue)
    }

    /// The tie rule for two events with the same `created` second: the one whose status is
    /// further along Stripe's lifecycle wins (start → active → dunning → ended), because within
    /// one second Stripe moves a subscription forward, not back (`incomplete` → `active`,
    /// `active` → `canceled`). Equal ranks are settled by the larger event id. Either way the
    /// outcome depends on the two events, never on which arrived first. The SQL function
    /// `stripe_subscription_status_rank` mirrors this table (a store test checks they agree).
    pub const fn tie_rank(self) -> i16 {
        match self {
            Self::Incomplete => 0,
            Self::Trialing => 1,
            Self::Active => 2,
            Self::Paused | Self::PastDue => 3,
            Self::Unpaid => 4,
            Self::Canceled | Self::IncompleteExpired => 5,
        }
    }
}

/// A subscription as one event saw it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Subscription {
    pub id: String,
    pub customer: String,
    pub status: SubscriptionStatus,
    /// `metadata.workspace_id` when it is a UUID.
    pub workspace_id: Option<WorkspaceId>,
    /// Each item's `price.id` (or the legacy `plan.id` when an item has no price), in item
    /// order, without repeats. The first one that names a `pricing_plans` row is the plan.
    pub price_ids: Vec<String>,
    /// From the subscription (before 2025) or else from its first item that has one (basil).
    pub current_period_start: Option<DateTime<Utc>>,
    pub current_period_end: Option<DateTime<Utc>>,
    pub cancel_at_period_end: bool,
    pub trial_end: Option<DateTime<Utc>>,
    pub problems: Vec<String>,
}

impl Subscription {
    fn read(fields: &Fields<'_>) -> Result<Self, ObjectProblem> {
        let status_text = fields.req_str("status")?;
        let status = status_text.parse::<SubscriptionStatus>().map_err(|e| {
            ObjectProblem::new(
                fields.path("status"),
                format!(
                    "`{}` is not a known subscription status ({e})",
                    shorten(status_text)
                ),
            )
        })?;
        let customer = fields
            .id_of("customer")?
            .ok_or_else(|| ObjectProblem::new(fields.path("customer"), "is missing"))?;
        let mut problems = Vec::new();
        let workspace_id = fields
            .child("metadata")?
            .map(|metadata| metadata.workspace_ref("workspace_id", &mut problems))
            .transpose()?
            .flatten();

        let items = fields.items("items")?;
        let mut price_ids: Vec<String> = Vec::new();
        for item in &items {
            let price = match item.id_of("price")? {
                Some(price) => Some(price),
                None => item.id_of("plan")?,
            };
            if let Some(price) = price.filter(|price| !price_ids.contains(price)) {
                price_ids.push(price);
            }
        }

        let own_period = (
            fields.opt_time("current_period_start")?,
            fields.opt_time("current_period_end")?,
        );
        let (current_period_start, current_period_end) = match own_period {
            (Some(start), Some(end)) => (Some(start), Some(end)),
            _ => {
                let mut from_item = None;
                for item in &items {
                    if let (Some(start), Some(end)) = (
                        item.opt_time("current_period_start")?,
                        item.opt_time("current_period_end")?,
                    ) {
                        from_item = Some((start, end));
                        break;
                    }
                }
                from_item.map_or(own_period, |(start, end)| (Some(start), Some(end)))
            }
        };

        Ok(Self {
            id: fields.req_str("id")?.to_owned(),
            customer,
            status,
            workspace_id,
            price_ids,
            current_period_start,
            current_period_end,
            cancel_at_period_end: fields.opt_bool("cancel_at_period_end")?.unwrap_or(false),
            trial_end: fields.opt_time("trial_end")?,
            problems,
        })
    }

    /// The price that decides the plan when it is known: the first item's.
    pub fn price_id(&self) -> Option<&str> {
        self.price_ids.first().map(String::as_str)
    }
}

// ---- invoice ---------------------------------------------------------------------------------

crate::text_enum! {
    /// `invoice.status`: the same list as the `billing_invoices.status` CHECK (V5).
    InvoiceStatus, UnknownInvoiceStatus {
        Draft => "draft",
        Open => "open",
        Paid => "paid",
        Uncollectible => "uncollectible",
        Void => "void",
    }
}

impl InvoiceStatus {
    /// Progress along `draft < open < paid / void / uncollectible`. `uncollectible` sits below
    /// `paid` and `void` because Stripe lets an uncollectible invoice still be paid or voided;
    /// `paid` and `void` are final. The SQL function `stripe_invoice_status_rank` mirrors it.
    pub const fn rank(self) -> i16 {
        match self {
            Self::Draft => 0,
            Self::Open => 1,
            Self::Uncollectible => 2,
            Self::Paid | Self::Void => 3,
        }
    }

    /// Whether a stored invoice in `stored` may take an event's view of it in `self`: the same
    /// status (amounts may still change), or a later one. Never backwards, and never from one
    /// final status to the other (a late `paid` must not turn a `void` invoice paid).
    pub fn may_follow(self, stored: Self) -> bool {
        self == stored || self.rank() > stored.rank()
    }
}

/// An invoice as one event saw it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Invoice {
    pub id: String,
    pub status: InvoiceStatus,
    pub customer: Option<String>,
    /// `subscription` (before 2025) or `parent.subscription_details.subscription` (basil).
    pub subscription: Option<String>,
    /// `metadata.workspace_id`, or else the subscription's metadata as the invoice copies it
    /// (`parent.subscription_details.metadata` / `subscription_details.metadata`).
    pub workspace_id: Option<WorkspaceId>,
    /// In the currency's minor unit, as Stripe sends them.
    pub amount_due: i64,
    pub amount_paid: i64,
    /// Lower-case ISO 4217 code.
    pub currency: String,
    pub hosted_invoice_url: Option<String>,
    pub period_start: Option<DateTime<Utc>>,
    pub period_end: Option<DateTime<Utc>>,
    pub problems: Vec<String>,
}

impl Invoice {
    fn read(fields: &Fields<'_>) -> Result<Self, ObjectProblem> {
        let id = fields
            .opt_str("id")?
            .ok_or_else(|| {
                ObjectProblem::new(fields.path("id"), "is missing (an upcoming invoice?)")
            })?
            .to_owned();
        let status_text = fields.req_str("status")?;
        let status = status_text.parse::<InvoiceStatus>().map_err(|e| {
            ObjectProblem::new(
                fields.path("status"),
                format!(
                    "`{}` is not a known invoice status ({e})",
                    shorten(status_text)
                ),
            )
        })?;
        let currency = fields.req_str("currency")?.to_ascii_lowercase();
        if currency.len() != 3 || !currency.bytes().all(|byte| byte.is_ascii_lowercase()) {
            return Err(ObjectProblem::new(
                fields.path("currency"),
                "is not a three-letter currency code",
            ));
        }
        let parent_details = match fields.child("parent")? {
            Some(parent) => parent.child("subscription_details")?,
            None => None,
        };
        let subscription = match fields.id_of("subscription")? {
            Some(subscription) => Some(subscription),
            None => match &parent_details {
                Some(details) => details.id_of("subscription")?,
                None => None,
            },
        };

        // The invoice's own metadata first, then the subscription's as the invoice copies it
        // (basil: `parent.subscription_details`; 2022-2024: `subscription_details`).
        let mut metadata_sources = Vec::new();
        metadata_sources.extend(fields.child("metadata")?);
        for details in [
            parent_details.as_ref(),
            fields.child("subscription_details")?.as_ref(),
        ]
        .into_iter()
        .flatten()
        {
            metadata_sources.extend(details.child("metadata")?);
        }
        let mut problems = Vec::new();
        let mut workspace_id = None;
        for metadata in &metadata_sources {
            let found = metadata.workspace_ref("workspace_id", &mut problems)?;
            workspace_id = workspace_id.or(found);
        }

        Ok(Self {
            id,
            status,
            customer: fields.id_of("customer")?,
            subscription,
            workspace_id,
            amount_due: fields.amount("amount_due")?,
            amount_paid: fields.amount("amount_paid")?,
            currency,
            hosted_invoice_url: fields.opt_str("hosted_invoice_url")?.map(str::to_owned),
            period_start: fields.opt_time("period_start")?,
            period_end: fields.opt_time("period_end")?,
            problems,
        })
    }
}

// ---- reading JSON with field paths -----------------------------------------------------------

/// A JSON object with the path it sits at, so every problem names the full field.
struct Fields<'a> {
    object: &'a Map<String, Value>,
    prefix: String,
}

impl<'a> Fields<'a> {
    fn new(object: &'a Map<String, Value>, prefix: impl Into<String>) -> Self {
        Self {
            object,
            prefix: prefix.into(),
        }
    }

    fn path(&self, key: &str) -> String {
        format!("{}.{key}", self.prefix)
    }

    /// Present and not null.
    fn value(&self, key: &str) -> Option<&'a Value> {
        self.object.get(key).filter(|value| !value.is_null())
    }

    fn opt_str(&self, key: &str) -> Result<Option<&'a str>, ObjectProblem> {
        match self.value(key) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(_) => Err(ObjectProblem::new(self.path(key), "is not a string")),
        }
    }

    fn req_str(&self, key: &str) -> Result<&'a str, ObjectProblem> {
        self.opt_str(key)?
            .filter(|text| !text.is_empty())
            .ok_or_else(|| ObjectProblem::new(self.path(key), "is missing"))
    }

    fn opt_bool(&self, key: &str) -> Result<Option<bool>, ObjectProblem> {
        match self.value(key) {
            None => Ok(None),
            Some(Value::Bool(flag)) => Ok(Some(*flag)),
            Some(_) => Err(ObjectProblem::new(self.path(key), "is not a boolean")),
        }
    }

    /// A Unix time in seconds, or null.
    fn opt_time(&self, key: &str) -> Result<Option<DateTime<Utc>>, ObjectProblem> {
        match self.value(key) {
            None => Ok(None),
            Some(value) => value
                .as_i64()
                .and_then(|secs| DateTime::from_timestamp(secs, 0))
                .map(Some)
                .ok_or_else(|| ObjectProblem::new(self.path(key), "is not a Unix time")),
        }
    }

    /// A non-negative integer amount; absent is 0 (Stripe omits amounts it has not computed).
    fn amount(&self, key: &str) -> Result<i64, ObjectProblem> {
        match self.value(key) {
            None => Ok(0),
            Some(value) => value
                .as_i64()
                .filter(|amount| *amount >= 0)
                .ok_or_else(|| ObjectProblem::new(self.path(key), "is not a non-negative integer")),
        }
    }

    /// A reference Stripe sends as an id string or, when expanded, as an object with `id`.
    fn id_of(&self, key: &str) -> Result<Option<String>, ObjectProblem> {
        match self.value(key) {
            None => Ok(None),
            Some(Value::String(id)) if !id.is_empty() => Ok(Some(id.clone())),
            Some(Value::Object(expanded)) => match expanded.get("id") {
                Some(Value::String(id)) if !id.is_empty() => Ok(Some(id.clone())),
                _ => Err(ObjectProblem::new(self.path(key), "has no `id`")),
            },
            Some(_) => Err(ObjectProblem::new(self.path(key), "is not an id")),
        }
    }

    fn child(&self, key: &str) -> Result<Option<Fields<'a>>, ObjectProblem> {
        match self.value(key) {
            None => Ok(None),
            Some(Value::Object(object)) => Ok(Some(Fields::new(object, self.path(key)))),
            Some(_) => Err(ObjectProblem::new(self.path(key), "is not an object")),
        }
    }

    /// The objects of a Stripe list (`{"object": "list", "data": [...]}`); absent is empty.
    fn items(&self, key: &str) -> Result<Vec<Fields<'a>>, ObjectProblem> {
        let Some(list) = self.child(key)? else {
            return Ok(Vec::new());
        };
        let Some(data) = list.value("data") else {
            return Ok(Vec::new());
        };
        let entries = data
            .as_array()
            .ok_or_else(|| ObjectProblem::new(list.path("data"), "is not an array"))?;
        entries
            .iter()
            .enumerate()
            .map(|(index, entry)| {
                let path = format!("{}.data[{index}]", list.prefix);
                entry
                    .as_object()
                    .map(|object| Fields::new(object, path.clone()))
                    .ok_or_else(|| ObjectProblem::new(path, "is not an object"))
            })
            .collect()
    }

    /// A workspace reference: a UUID string. Anything else present is noted in `problems` and
    /// ignored, so the next source (or the customer link) can still decide.
    fn workspace_ref(
        &self,
        key: &str,
        problems: &mut Vec<String>,
    ) -> Result<Option<WorkspaceId>, ObjectProblem> {
        let Some(text) = self.opt_str(key)? else {
            return Ok(None);
        };
        match text.parse::<WorkspaceId>() {
            Ok(id) => Ok(Some(id)),
            Err(_) => {
                problems.push(format!(
                    "`{}` is not a workspace id; ignored",
                    self.path(key)
                ));
                Ok(None)
            }
        }
    }
}

/// A Stripe-supplied token cut to a length a log line can carry.
fn shorten(token: &str) -> String {
    token.chars().take(MAX_TOKEN_IN_PROBLEM).collect()
}

#[cfg(test)]
mod tests;
