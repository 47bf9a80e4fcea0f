//! Every copied Stripe fixture parsed, plus the shapes the fixtures lack (basil subscriptions,
//! paused/resumed), built from a fixture in memory and said so.

use super::*;
use serde_json::json;
use std::path::{Path, PathBuf};

/// The repository's copies (tests/fixtures/SOURCES.md).
fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/stripe")
}

fn fixture(name: &str) -> Vec<u8> {
    let path = fixture_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn fixture_json(name: &str) -> Value {
    serde_json::from_slice(&fixture(name)).expect("fixture is JSON")
}

/// A pay-rails `event.data` fragment wrapped in the envelope Stripe would send it in.
fn wrapped_fragment(name: &str, event_type: &str) -> Vec<u8> {
    let data = fixture_json(name);
    serde_json::to_vec(&json!({
        "id": "evt_fragment_1",
        "object": "event",
        "type": event_type,
        "created": 1_745_433_964,
        "livemode": false,
        "data": data,
    }))
    .expect("serialise")
}

fn parse(raw: &[u8]) -> StripeEvent {
    StripeEvent::parse(raw).expect("a Stripe event")
}

fn at(secs: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(secs, 0)
}

fn subscription_of(event: &StripeEvent) -> &Subscription {
    match &event.object {
        EventObject::Subscription(subscription) => subscription,
        other => panic!("expected a subscription, got {other:?}"),
    }
}

fn invoice_of(event: &StripeEvent) -> &Invoice {
    match &event.object {
        EventObject::Invoice(invoice) => invoice,
        other => panic!("expected an invoice, got {other:?}"),
    }
}

fn checkout_of(event: &StripeEvent) -> &CheckoutSession {
    match &event.object {
        EventObject::Checkout(checkout) => checkout,
        other => panic!("expected a checkout session, got {other:?}"),
    }
}

// ---- every fixture ---------------------------------------------------------------------------

/// What each envelope fixture is expected to be: (file, event id, type, created, handled).
const ENVELOPES: [(&str, &str, &str, i64, bool); 19] = [
    (
        "hs_customer.updated.json",
        "evt_1I1lRDCAi9F65qzmBGkbFoBI",
        "customer.updated",
        1_608_784_111,
        false,
    ),
    (
        "srm_checkout.session.completed.json",
        "evt_000000000000000000000000",
        "checkout.session.completed",
        1_648_319_959,
        true,
    ),
    (
        "srm_customer.subscription.created.json",
        "evt_000000000000000000000000",
        "customer.subscription.created",
        1_648_320_110,
        true,
    ),
    (
        "srm_customer.subscription.deleted.json",
        "evt_000000000000000000000000",
        "customer.subscription.deleted",
        1_648_320_097,
        true,
    ),
    (
        "srm_customer.subscription.trial_will_end.json",
        "evt_00000000000000",
        "customer.subscription.trial_will_end",
        1_326_853_478,
        true,
    ),
    (
        "srm_customer.subscription.updated.json",
        "evt_000000000000000000000000",
        "customer.subscription.updated",
        1_648_320_106,
        true,
    ),
    (
        "srm_invoice.created.json",
        "evt_000000000000000000000000",
        "invoice.created",
        1_648_320_110,
        false,
    ),
    (
        "srm_invoice.finalized.json",
        "evt_000000000000000000000000",
        "invoice.finalized",
        1_648_320_015,
        true,
    ),
    (
        "srm_invoice.paid.json",
        "evt_000000000000000000000000",
        "invoice.paid",
        1_648_320_015,
        true,
    ),
    (
        "srm_invoice.payment_action_required.json",
        "evt_000000000000000000000000",
        "invoice.payment_action_required",
        1_648_320_004,
        false,
    ),
    (
        "srm_invoice.payment_failed.json",
        "evt_000000000000000000000000",
        "invoice.payment_failed",
        1_648_320_009,
        true,
    ),
    (
        "srm_invoice.payment_succeeded.json",
        "evt_000000000000000000000000",
        "invoice.payment_succeeded",
        1_648_320_015,
        true,
    ),
    (
        "srm_invoice.upcoming.json",
        "evt_00000000000000",
        "invoice.upcoming",
        1_326_853_478,
        false,
    ),
    (
        "sse_invoice_finalized.json",
        "evt_1KJeHmJDPojXS6LNHTfmcolj",
        "invoice.finalized",
        1_642_599_194,
        true,
    ),
    (
        "sse_invoice_paid.json",
        "evt_1KJrGtJDPojXS6LN15fcthM3",
        "invoice.paid",
        1_642_649_111,
        true,
    ),
    (
        "sse_invoice_payment_paid.json",
        "evt_test_invoice_payment_paid",
        "invoice_payment.paid",
        1_642_649_111,
        false,
    ),
    (
        "sse_subscription_created.json",
        "evt_1J02NfJDPojXS6LNawmt1X8q",
        "customer.subscription.created",
        1_623_148_918,
        true,
    ),
    (
        "sse_subscription_deleted.json",
        "evt_1J02QdJDPojXS6LNnOJB09Xb",
        "customer.subscription.deleted",
        1_623_149_102,
        true,
    ),
    (
        "sse_subscription_updated.json",
        "evt_1IlavxJDPojXS6LNGNOrPWFQ",
        "customer.subscription.updated",
        1_619_706_820,
        true,
    ),
];

const FRAGMENTS: [&str; 3] = [
    "pay_checkout.session.completed.data-fragment.json",
    "pay_invoice.payment_failed.basil.data-fragment.json",
    "pay_invoice.upcoming.data-fragment.json",
];

#[test]
fn the_tables_here_name_every_copied_fixture() {
    let mut on_disk: Vec<String> = std::fs::read_dir(fixture_dir())
        .expect("stripe fixtures directory")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    on_disk.sort();
    let mut named: Vec<String> = ENVELOPES
        .iter()
        .map(|(file, ..)| (*file).to_owned())
        .chain(FRAGMENTS.iter().map(|file| (*file).to_owned()))
        .collect();
    named.sort();
    assert_eq!(on_disk, named);
}

#[test]
fn every_envelope_fixture_parses_with_its_id_type_created_and_livemode() {
    for (file, id, event_type, created, handled) in ENVELOPES {
        let event = parse(&fixture(file));
        assert_eq!(event.id.as_str(), id, "{file}");
        assert_eq!(event.event_type.as_str(), event_type, "{file}");
        assert_eq!(Some(event.created), at(created), "{file}");
        assert!(!event.livemode, "{file}: fixtures are test mode");
        assert_eq!(event.object == EventObject::Unhandled, !handled, "{file}");
        assert!(
            !matches!(event.object, EventObject::Unreadable(_)),
            "{file}: {:?}",
            event.object
        );
    }
}

#[test]
fn fixtures_without_api_version_still_parse() {
    for file in [
        "srm_customer.subscription.trial_will_end.json",
        "srm_invoice.upcoming.json",
    ] {
        assert_eq!(parse(&fixture(file)).api_version, None, "{file}");
    }
    assert_eq!(
        parse(&fixture("sse_subscription_created.json"))
            .api_version
            .as_deref(),
        Some("2020-03-02")
    );
}

#[test]
fn pre_2025_subscriptions_carry_status_customer_price_and_period() {
    /// (file, status, customer, price ids, period start, period end, trial_end)
    type Case = (
        &'static str,
        SubscriptionStatus,
        &'static str,
        &'static [&'static str],
        i64,
        i64,
        Option<i64>,
    );
    let cases: [Case; 7] = [
        (
            "srm_customer.subscription.created.json",
            SubscriptionStatus::Active,
            "cus_00000000000000",
            &["price_000000000000000000000000"],
            1_648_320_110,
            1_650_998_510,
            None,
        ),
        (
            "srm_customer.subscription.updated.json",
            SubscriptionStatus::Active,
            "cus_00000000000000",
            &["price_000000000000000000000000"],
            1_648_320_105,
            1_650_998_505,
            None,
        ),
        (
            "srm_customer.subscription.deleted.json",
            SubscriptionStatus::Canceled,
            "cus_00000000000000",
            &["price_000000000000000000000000"],
            1_648_320_096,
            1_650_998_496,
            None,
        ),
        // Items with only a legacy `plan` (no `price`): the plan id stands in for the price id.
        (
            "srm_customer.subscription.trial_will_end.json",
            SubscriptionStatus::Trialing,
            "cus_00000000000000",
            &["fkx0AFo_00000000000000", "fkx0AFo_00000000000001"],
            1_381_080_623,
            1_383_759_023,
            Some(1_381_280_730),
        ),
        // Two items with the same price: listed once.
        (
            "sse_subscription_created.json",
            SubscriptionStatus::Active,
            "cus_IhGfebO16cMIGN",
            &["price_1IDQm5JDPojXS6LNM31hxKzp"],
            1_623_148_918,
            1_625_740_918,
            None,
        ),
        (
            "sse_subscription_updated.json",
            SubscriptionStatus::Active,
            "cus_IhGfebO16cMIGN",
            &["price_1IDQm5JDPojXS6LNM31hxKzp"],
            1_618_980_344,
            1_621_572_344,
            None,
        ),
        (
            "sse_subscription_deleted.json",
            SubscriptionStatus::Canceled,
            "cus_IhGfebO16cMIGN",
            &["price_1IDQm5JDPojXS6LNM31hxKzp"],
            1_623_148_918,
            1_625_740_918,
            None,
        ),
    ];
    for (file, status, customer, prices, start, end, trial_end) in cases {
        let event = parse(&fixture(file));
        let subscription = subscription_of(&event);
        assert_eq!(subscription.status, status, "{file}");
        assert_eq!(subscription.customer, customer, "{file}");
        assert_eq!(subscription.price_ids, prices, "{file}");
        assert_eq!(subscription.price_id(), prices.first().copied(), "{file}");
        assert_eq!(subscription.current_period_start, at(start), "{file}");
        assert_eq!(subscription.current_period_end, at(end), "{file}");
        assert_eq!(subscription.trial_end, trial_end.and_then(at), "{file}");
        assert!(!subscription.cancel_at_period_end, "{file}");
        // No fixture names a workspace; sse metadata has other keys, which are not read.
        assert_eq!(subscription.workspace_id, None, "{file}");
        assert!(subscription.problems.is_empty(), "{file}");
    }
}

#[test]
fn invoices_carry_status_amounts_currency_period_and_subscription() {
    /// (file, status, amount due, amount paid, subscription, period start, has hosted url)
    type Case = (
        &'static str,
        InvoiceStatus,
        i64,
        i64,
        Option<&'static str>,
        i64,
        bool,
    );
    let cases: [Case; 6] = [
        // stripe-ruby-mock's finalized invoice is already paid (the CLI paid it at once).
        (
            "srm_invoice.finalized.json",
            InvoiceStatus::Paid,
            2000,
            2000,
            None,
            1_648_320_012,
            true,
        ),
        (
            "srm_invoice.paid.json",
            InvoiceStatus::Paid,
            2000,
            2000,
            None,
            1_648_320_012,
            true,
        ),
        (
            "srm_invoice.payment_failed.json",
            InvoiceStatus::Open,
            2000,
            0,
            None,
            1_648_320_007,
            true,
        ),
        (
            "srm_invoice.payment_succeeded.json",
            InvoiceStatus::Paid,
            2000,
            2000,
            None,
            1_648_320_012,
            true,
        ),
        (
            "sse_invoice_finalized.json",
            InvoiceStatus::Open,
            0,
            0,
            Some("sub_K4J0aB2bmSyb6b"),
            1_639_917_028,
            true,
        ),
        (
            "sse_invoice_paid.json",
            InvoiceStatus::Paid,
            0,
            0,
            Some("sub_JsuPyCPhXWfZar"),
            1_639_966_880,
            true,
        ),
    ];
    for (file, status, due, paid, subscription, period_start, hosted) in cases {
        let event = parse(&fixture(file));
        let invoice = invoice_of(&event);
        assert_eq!(invoice.status, status, "{file}");
        assert_eq!(invoice.amount_due, due, "{file}");
        assert_eq!(invoice.amount_paid, paid, "{file}");
        assert_eq!(invoice.currency, "usd", "{file}");
        assert_eq!(invoice.subscription.as_deref(), subscription, "{file}");
        assert_eq!(invoice.period_start, at(period_start), "{file}");
        assert_eq!(invoice.hosted_invoice_url.is_some(), hosted, "{file}");
        assert!(invoice.customer.is_some(), "{file}");
        assert!(invoice.id.starts_with("in_"), "{file}");
    }
}

#[test]
fn basil_invoice_links_its_subscription_through_parent_subscription_details() {
    let event = parse(&wrapped_fragment(
        "pay_invoice.payment_failed.basil.data-fragment.json",
        "invoice.payment_failed",
    ));
    let invoice = invoice_of(&event);
    assert_eq!(invoice.id, "in_1234");
    assert_eq!(invoice.status, InvoiceStatus::Open);
    assert_eq!(invoice.subscription.as_deref(), Some("sub_1234"));
    assert_eq!(invoice.customer.as_deref(), Some("cus_1234"));
    assert_eq!((invoice.amount_due, invoice.amount_paid), (24_900, 0));
    assert_eq!(invoice.period_start, at(1_713_897_906));
    assert_eq!(invoice.period_end, at(1_745_433_906));
    assert_eq!(
        invoice.hosted_invoice_url.as_deref(),
        Some("https://invoice.stripe.com/")
    );
    // Its subscription metadata holds `license_id` only.
    assert_eq!(invoice.workspace_id, None);
}

#[test]
fn subscription_mode_checkout_names_its_customer_and_subscription() {
    let event = parse(&wrapped_fragment(
        "pay_checkout.session.completed.data-fragment.json",
        "checkout.session.completed",
    ));
    let checkout = checkout_of(&event);
    assert_eq!(checkout.mode, CheckoutMode::Subscription);
    assert_eq!(checkout.customer.as_deref(), Some("cus_M5wW9RPFk9xNZ5"));
    assert_eq!(
        checkout.subscription.as_deref(),
        Some("sub_1LNkeSKXBGcbgpbZ7jMqOPSi")
    );
    assert_eq!(checkout.workspace_id, None, "client_reference_id is null");
}

#[test]
fn payment_mode_checkout_is_read_as_payment() {
    let event = parse(&fixture("srm_checkout.session.completed.json"));
    let checkout = checkout_of(&event);
    assert_eq!(checkout.mode, CheckoutMode::Payment);
    assert_eq!(checkout.customer.as_deref(), Some("cus_00000000000000"));
    assert_eq!(checkout.subscription, None);
}

#[test]
fn upcoming_invoice_fragment_has_no_id_so_a_handled_type_cannot_apply_it() {
    let as_upcoming = parse(&wrapped_fragment(
        "pay_invoice.upcoming.data-fragment.json",
        "invoice.upcoming",
    ));
    assert_eq!(as_upcoming.object, EventObject::Unhandled);
    let as_paid = parse(&wrapped_fragment(
        "pay_invoice.upcoming.data-fragment.json",
        "invoice.paid",
    ));
    match as_paid.object {
        EventObject::Unreadable(problem) => assert_eq!(problem.field, "data.object.id"),
        other => panic!("expected unreadable, got {other:?}"),
    }
}

#[test]
fn a_bare_data_fragment_is_not_an_event() {
    for file in FRAGMENTS {
        assert!(StripeEvent::parse(&fixture(file)).is_err(), "{file}");
    }
}

// ---- shapes the fixtures lack ----------------------------------------------------------------

/// srm's subscription.created moved to the basil shape: the period leaves the subscription and
/// sits on each item (Stripe API 2025-03-31).
fn basil_subscription() -> Value {
    let mut event = fixture_json("srm_customer.subscription.created.json");
    let object = &mut event["data"]["object"];
    let start = object["current_period_start"].take();
    let end = object["current_period_end"].take();
    let object = object.as_object_mut().expect("object");
    object.remove("current_period_start");
    object.remove("current_period_end");
    object.remove("plan");
    let item = &mut object["items"]["data"][0];
    item["current_period_start"] = start;
    item["current_period_end"] = end;
    item.as_object_mut().expect("item").remove("plan");
    event["api_version"] = json!("2025-03-31.basil");
    event
}

#[test]
fn basil_subscription_takes_its_period_from_the_item() {
    let raw = serde_json::to_vec(&basil_subscription()).expect("serialise");
    let event = parse(&raw);
    let subscription = subscription_of(&event);
    assert_eq!(subscription.current_period_start, at(1_648_320_110));
    assert_eq!(subscription.current_period_end, at(1_650_998_510));
    assert_eq!(
        subscription.price_id(),
        Some("price_000000000000000000000000")
    );
}

#[test]
fn paused_and_resumed_are_handled_subscription_events() {
    for (event_type, status) in [
        ("customer.subscription.paused", "paused"),
        ("customer.subscription.resumed", "active"),
    ] {
        let mut event = fixture_json("srm_customer.subscription.updated.json");
        event["type"] = json!(event_type);
        event["data"]["object"]["status"] = json!(status);
        let parsed = parse(&serde_json::to_vec(&event).expect("serialise"));
        assert_eq!(parsed.event_type.as_str(), event_type);
        assert_eq!(
            subscription_of(&parsed).status.as_str(),
            status,
            "{event_type}"
        );
    }
}

#[test]
fn workspace_comes_from_client_reference_id_then_metadata() {
    let a = "0b6c1b0e-7a53-4f0e-9a3e-3b8f2f1d2c01";
    let b = "1c7d2c1f-8b64-4a1f-8b4f-4c9a3a2e3d12";
    // (case, client_reference_id, metadata.workspace_id, expected, problems)
    let cases = [
        ("reference wins", json!(a), json!(b), Some(a), 0),
        (
            "metadata when no reference",
            Value::Null,
            json!(b),
            Some(b),
            0,
        ),
        (
            "metadata when the reference is not a UUID",
            json!("user-42"),
            json!(b),
            Some(b),
            1,
        ),
        ("neither", Value::Null, Value::Null, None, 0),
    ];
    for (case, reference, metadata, expected, problems) in cases {
        let mut fragment = fixture_json("pay_checkout.session.completed.data-fragment.json");
        fragment["object"]["client_reference_id"] = reference;
        fragment["object"]["metadata"] = json!({ "workspace_id": metadata });
        let raw = serde_json::to_vec(&json!({
            "id": "evt_ref", "type": "checkout.session.completed", "created": 1,
            "livemode": false, "data": fragment,
        }))
        .expect("serialise");
        let event = parse(&raw);
        let checkout = checkout_of(&event);
        assert_eq!(
            checkout.workspace_id.map(|id| id.to_string()).as_deref(),
            expected,
            "{case}"
        );
        assert_eq!(checkout.problems.len(), problems, "{case}");
        for problem in &checkout.problems {
            assert!(
                !problem.contains("user-42"),
                "{case}: values stay out: {problem}"
            );
        }
    }
}

#[test]
fn subscription_and_invoice_read_the_workspace_from_metadata() {
    let workspace = "0b6c1b0e-7a53-4f0e-9a3e-3b8f2f1d2c01";
    let mut subscription = fixture_json("sse_subscription_updated.json");
    subscription["data"]["object"]["metadata"]["workspace_id"] = json!(workspace);
    let event = parse(&serde_json::to_vec(&subscription).expect("serialise"));
    assert_eq!(
        subscription_of(&event)
            .workspace_id
            .map(|id| id.to_string())
            .as_deref(),
        Some(workspace)
    );

    let mut fragment = fixture_json("pay_invoice.payment_failed.basil.data-fragment.json");
    fragment["object"]["parent"]["subscription_details"]["metadata"]["workspace_id"] =
        json!(workspace);
    let raw = serde_json::to_vec(&json!({
        "id": "evt_inv", "type": "invoice.payment_failed", "created": 1,
        "livemode": false, "data": fragment,
    }))
    .expect("serialise");
    let event = parse(&raw);
    assert_eq!(
        invoice_of(&event)
            .workspace_id
            .map(|id| id.to_string())
            .as_deref(),
        Some(workspace)
    );
}

#[test]
fn expanded_customer_objects_are_read_by_their_id() {
    let mut event = fixture_json("srm_customer.subscription.updated.json");
    event["data"]["object"]["customer"] = json!({"id": "cus_expanded", "object": "customer"});
    let parsed = parse(&serde_json::to_vec(&event).expect("serialise"));
    assert_eq!(subscription_of(&parsed).customer, "cus_expanded");
}

// ---- what is refused -------------------------------------------------------------------------

#[test]
fn bodies_that_are_not_events_are_refused_with_the_field_named() {
    let cases: [(&str, &[u8], StripeEventError); 9] = [
        (
            "not JSON",
            b"not json",
            StripeEventError::NotJson { line: 1, column: 2 },
        ),
        ("an array", b"[]", StripeEventError::NotAnObject),
        (
            "another object",
            br#"{"object":"customer","id":"cus_1"}"#,
            StripeEventError::NotAnEvent,
        ),
        (
            "no id",
            br#"{"type":"x","created":1,"livemode":false,"data":{"object":{}}}"#,
            envelope_field("id", "is missing or not a string"),
        ),
        (
            "id without evt_",
            br#"{"id":"ch_1","type":"x","created":1,"livemode":false,"data":{"object":{}}}"#,
            envelope_field("id", "does not start with `evt_`"),
        ),
        (
            "no type",
            br#"{"id":"evt_1","created":1,"livemode":false,"data":{"object":{}}}"#,
            envelope_field("type", "is missing or not a string"),
        ),
        (
            "created as text",
            br#"{"id":"evt_1","type":"x","created":"1","livemode":false,"data":{"object":{}}}"#,
            envelope_field("created", "is missing or not a Unix time"),
        ),
        (
            "no livemode",
            br#"{"id":"evt_1","type":"x","created":1,"data":{"object":{}}}"#,
            envelope_field("livemode", "is missing or not a boolean"),
        ),
        (
            "no data.object",
            br#"{"id":"evt_1","type":"x","created":1,"livemode":false,"data":{}}"#,
            envelope_field("data.object", "is missing or not an object"),
        ),
    ];
    for (case, raw, expected) in cases {
        assert_eq!(StripeEvent::parse(raw), Err(expected), "{case}");
    }
}

#[test]
fn event_ids_are_checked_for_shape() {
    let long = format!("evt_{}", "a".repeat(300));
    for bad in ["", "evt_", "evt_a b", "evt_é", "EVT_1", long.as_str()] {
        assert!(StripeEventId::parse(bad).is_err(), "{bad:?}");
    }
    for good in [
        "evt_1",
        "evt_1I1lRDCAi9F65qzmBGkbFoBI",
        "evt_test_invoice_payment_paid",
    ] {
        assert_eq!(
            StripeEventId::parse(good).map(|id| id.to_string()),
            Ok(good.to_owned())
        );
    }
}

#[test]
fn handled_event_with_an_unreadable_object_is_kept_with_the_reason() {
    let cases = [
        (
            "unknown status",
            "status",
            json!("on_fire"),
            "data.object.status",
        ),
        (
            "status not a string",
            "status",
            json!(3),
            "data.object.status",
        ),
        (
            "no customer",
            "customer",
            Value::Null,
            "data.object.customer",
        ),
        (
            "period as text",
            "current_period_end",
            json!("soon"),
            "data.object.current_period_end",
        ),
        (
            "items not a list",
            "items",
            json!([1]),
            "data.object.items.data",
        ),
    ];
    for (case, key, value, field) in cases {
        let mut event = fixture_json("srm_customer.subscription.updated.json");
        if key == "items" {
            event["data"]["object"]["items"] = json!({"object": "list", "data": 5});
        } else {
            event["data"]["object"][key] = value;
        }
        let parsed = parse(&serde_json::to_vec(&event).expect("serialise"));
        match parsed.object {
            EventObject::Unreadable(problem) => assert_eq!(problem.field, field, "{case}"),
            other => panic!("{case}: expected unreadable, got {other:?}"),
        }
    }
}

#[test]
fn an_object_of_the_wrong_kind_is_unreadable() {
    let mut event = fixture_json("srm_invoice.paid.json");
    event["type"] = json!("customer.subscription.updated");
    let parsed = parse(&serde_json::to_vec(&event).expect("serialise"));
    assert!(matches!(
        parsed.object,
        EventObject::Unreadable(ObjectProblem { ref field, .. }) if field == "data.object.object"
    ));
}

#[test]
fn invoice_with_a_negative_amount_or_a_bad_currency_is_unreadable() {
    for (key, value) in [("amount_due", json!(-1)), ("currency", json!("dollars"))] {
        let mut event = fixture_json("srm_invoice.paid.json");
        event["data"]["object"][key] = value;
        let parsed = parse(&serde_json::to_vec(&event).expect("serialise"));
        assert!(
            matches!(parsed.object, EventObject::Unreadable(ref p) if p.field == format!("data.object.{key}")),
            "{key}: {:?}",
            parsed.object
        );
    }
}

// ---- rules -----------------------------------------------------------------------------------

/// The CHECK list of `column` in a migration, in its order.
fn check_list(sql: &str, table: &str, column: &str) -> Vec<String> {
    let table_at = sql
        .find(&format!("CREATE TABLE {table}"))
        .expect("table in migration");
    let rest = &sql[table_at..];
    let check_at = rest
        .find(&format!("CHECK ({column} IN ("))
        .expect("CHECK on column");
    let list = &rest[check_at..];
    let open = list.find("IN (").expect("IN") + 4;
    let close = list[open..].find(')').expect(")") + open;
    list[open..close]
        .split(',')
        .map(|item| item.trim().trim_matches('\'').to_owned())
        .collect()
}

#[test]
fn statuses_are_exactly_the_database_check_lists() {
    let sql = include_str!("../../../../migrations/V5__billing.sql");
    let subscription: Vec<String> = SubscriptionStatus::ALL
        .iter()
        .map(|s| s.as_str().to_owned())
        .collect();
    assert_eq!(
        subscription,
        check_list(sql, "workspace_subscriptions", "status")
    );
    let invoice: Vec<String> = InvoiceStatus::ALL
        .iter()
        .map(|s| s.as_str().to_owned())
        .collect();
    assert_eq!(invoice, check_list(sql, "billing_invoices", "status"));
    for status in SubscriptionStatus::ALL {
        assert_eq!(status.as_str().parse::<SubscriptionStatus>(), Ok(status));
    }
    for status in InvoiceStatus::ALL {
        assert_eq!(status.as_str().parse::<InvoiceStatus>(), Ok(status));
    }
}

#[test]
fn only_trialing_active_and_past_due_grant_the_subscription_plan() {
    let granting: Vec<&str> = SubscriptionStatus::ALL
        .into_iter()
        .filter(|status| status.grants_plan())
        .map(SubscriptionStatus::as_str)
        .collect();
    assert_eq!(granting, ["trialing", "active", "past_due"]);
}

#[test]
fn invoice_status_never_moves_backwards_or_between_final_states() {
    use InvoiceStatus::*;
    let cases = [
        (Draft, Open, true),
        (Open, Paid, true),
        (Open, Void, true),
        (Open, Uncollectible, true),
        (Uncollectible, Paid, true),
        (Uncollectible, Void, true),
        (Paid, Paid, true),
        (Open, Draft, false),
        (Paid, Open, false),
        (Paid, Void, false),
        (Void, Paid, false),
        (Paid, Uncollectible, false),
        (Void, Draft, false),
    ];
    for (stored, incoming, allowed) in cases {
        assert_eq!(
            incoming.may_follow(stored),
            allowed,
            "{stored} then {incoming}"
        );
    }
}

#[test]
fn tie_rank_puts_endings_after_starts() {
    use SubscriptionStatus::*;
    assert!(Incomplete.tie_rank() < Active.tie_rank());
    assert!(Trialing.tie_rank() < Active.tie_rank());
    assert!(Active.tie_rank() < PastDue.tie_rank());
    assert!(PastDue.tie_rank() < Unpaid.tie_rank());
    assert!(Unpaid.tie_rank() < Canceled.tie_rank());
    assert_eq!(Canceled.tie_rank(), IncompleteExpired.tie_rank());
}

#[test]
fn handled_type_list_round_trips() {
    for name in EventType::HANDLED {
        let parsed = EventType::parse(name);
        assert!(parsed.object_kind().is_some(), "{name}");
        assert_eq!(parsed.as_str(), name);
    }
    assert_eq!(
        EventType::parse("invoice.created"),
        EventType::Other("invoice.created".to_owned())
    );
}
