//! Prints the cost of the domain work every webhook request does: parsing a WhatsApp delivery,
//! reading a phone number, detecting intents and scoring a lead. Run with `cargo bench -p domain`;
//! the release profile's opt-level was chosen by comparing these figures and the binary sizes
//! (see README, "Release profile"). Bounded: a fixed number of iterations per case. First, once
//! each: what a process's first phone number of a calling code costs, the metadata load a cold
//! start pays (README, "Cold start").

use chrono::{TimeZone, Utc};
use domain::scoring::{LeadFacts, LeadSignals, score};
use std::hint::black_box;
use std::time::Instant;

const ITERATIONS: u32 = 20_000;

fn measure(name: &str, mut work: impl FnMut()) {
    for _ in 0..ITERATIONS / 10 {
        work();
    }
    let start = Instant::now();
    for _ in 0..ITERATIONS {
        work();
    }
    let per_op = start.elapsed() / ITERATIONS;
    #[allow(clippy::print_stdout)]
    {
        println!("{name:<40} {:>10.2} µs/op", per_op.as_secs_f64() * 1e6);
    }
}

/// The first call in this process, timed once: it loads the metadata `work` needs.
fn first_call(name: &str, work: impl FnOnce()) {
    let start = Instant::now();
    work();
    #[allow(clippy::print_stdout)]
    {
        println!(
            "{name:<40} {:>10.2} ms once",
            start.elapsed().as_secs_f64() * 1e3
        );
    }
}

fn main() {
    first_call("first phone of +91 (IN, 1 region)", || {
        black_box(domain::phone::PhoneNumber::parse("+91 98765 43210", "IN").ok());
    });
    first_call("first wa_id of +1 (25 regions)", || {
        black_box(domain::phone::PhoneNumber::from_whatsapp_id("16505551234").ok());
    });
    first_call("first wa_id of +1 again (built)", || {
        black_box(domain::phone::PhoneNumber::from_whatsapp_id("16505551235").ok());
    });

    let fixture = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/whatsapp/meta_message_text_ctwa_referral.json"
    ))
    .expect("the fixture exists");
    measure("whatsapp::parse_webhook (ctwa referral)", || {
        black_box(domain::whatsapp::parse_webhook(black_box(&fixture)).ok());
    });
    measure("phone::PhoneNumber::parse (IN, spaced)", || {
        black_box(domain::phone::PhoneNumber::parse(black_box("+91 98765 43210"), "IN").ok());
    });
    let message = "Hola, me interesa el departamento. ¿Cuál es el precio y puedo agendar una visita el sábado?";
    measure("intent::detect (Spanish, 90 chars)", || {
        black_box(domain::intent::detect(black_box(message)));
    });
    let now = Utc
        .with_ymd_and_hms(2026, 11, 21, 12, 0, 0)
        .single()
        .expect("a valid instant");
    let facts = LeadFacts {
        customer_messages: 7,
        substantive_messages: 3,
        intent_codes: vec!["pricing".into(), "site_visit".into()],
        last_customer_message_at: Some(now),
        previous_customer_message_at: Some(now),
        touchpoints: 2,
        ..LeadFacts::default()
    };
    measure("scoring::score (from facts)", || {
        black_box(score(&LeadSignals::from_facts(black_box(&facts), now)));
    });
}
