//! Keyword intent detection in customer messages.
//!
//! Every customer message is scanned at ingest; each detected intent becomes a
//! `lead_intents_log` row and the strongest one feeds the `intent` part of the score
//! (docs/architecture.md §6.2). Customers write English, Hindi in Latin script ("Hinglish") and
//! Spanish, with or without accents, so the rules are phrase tables per intent and language
//! over a normalised text.
//!
//! Why keywords and not a model: this runs inside the webhook transaction on every message, must
//! cost microseconds, must give the same answer for the same text forever (scores are
//! recomputed), and a broker must be able to read why a lead was tagged. The tables below are the
//! whole rule set; extending a language is adding a line.
//!
//! How a message is read:
//! 1. At most [`MAX_DETECT_CHARS`] characters are looked at, so a pasted novel costs no more
//!    than a long message.
//! 2. [`crate::text::normalise`]: lower case, accents folded (`cuánto` → `cuanto`), apostrophes dropped
//!    (`don't` → `dont`), everything that is not a letter or digit (punctuation, emoji) becomes a
//!    space, spaces collapsed. Keywords are written in that same form.
//! 3. A keyword matches only whole words (`price` does not match `pricey`, `stop` does not match
//!    `stopwatch`).
//! 4. Overlapping matches are resolved leftmost-longest, as a tokenizer would: a longer phrase
//!    consumes the words inside it. That is how negations work without a grammar: `not
//!    interested` is an objection and not also interest, `planta baja` (ground floor) never meets
//!    an opt-out, `dont call me` is not a request for a call.
//! 5. A phrase of two or more words is strong evidence ([`PHRASE_CONFIDENCE`]), a single word is
//!    weaker ([`WORD_CONFIDENCE`]); at most one hit per intent is returned, the strongest.
//!
//! A whole message that is a consent keyword (`STOP`, `alto`, `band karo`, see
//! [`crate::consent`]) is also reported as `opt_out` with full confidence, so the intents log
//! never disagrees with the consent change the same message made.

use crate::text::normalise;
use serde::Serialize;
use std::sync::LazyLock;

pub use crate::text::MAX_DETECT_CHARS;

/// Confidence of a match on a phrase of two or more words.
pub const PHRASE_CONFIDENCE: f32 = 0.9;
/// Confidence of a match on a single word, which may be used in another sense.
pub const WORD_CONFIDENCE: f32 = 0.6;
/// Confidence of a whole message that is a consent keyword.
pub const WHOLE_MESSAGE_CONFIDENCE: f32 = 1.0;

crate::text_enum! {
    /// What a customer's message asks for or signals, by the code stored in
    /// `lead_intents_log.intent`. Declared in priority order: the order of [`Intent::ALL`] and of
    /// [`detect`]'s result.
    Intent, UnknownIntent {
        Booking => "booking",
        SiteVisit => "site_visit",
        Pricing => "pricing",
        Availability => "availability",
        Interest => "interest",
        Objection => "objection",
        HumanHandoff => "human_handoff",
        OptOut => "opt_out",
    }
}

impl Intent {
    /// Position in [`Intent::ALL`]; lower is higher priority.
    const fn index(self) -> usize {
        self as usize
    }
}

/// One detected intent. `matched` is the keyword that matched (from the tables below), never the
/// customer's text, so a hit can be logged and stored without carrying the message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntentHit {
    pub intent: Intent,
    /// 0.0..=1.0.
    pub confidence: f32,
    pub matched: String,
}

/// The intents in `text`: at most one hit per intent (its strongest match), in priority order.
pub fn detect(text: &str) -> Vec<IntentHit> {
    let normalised = normalise(text);
    if normalised.is_empty() {
        return Vec::new();
    }

    let mut best: [Option<(f32, &'static str)>; Intent::ALL.len()] = [None; Intent::ALL.len()];
    let mut keep = |intent: Intent, confidence: f32, keyword: &'static str| {
        let slot = &mut best[intent.index()];
        if slot.is_none_or(|(held, _)| confidence > held) {
            *slot = Some((confidence, keyword));
        }
    };

    if let Some((crate::consent::ConsentChange::OptOut, keyword)) =
        crate::consent::classify_normalised(&normalised)
    {
        keep(Intent::OptOut, WHOLE_MESSAGE_CONFIDENCE, keyword);
    }

    for found in leftmost_longest(find_all(&normalised)) {
        keep(found.intent, confidence(found.keyword), found.keyword);
    }

    Intent::ALL
        .into_iter()
        .zip(best)
        .filter_map(|(intent, hit)| {
            hit.map(|(confidence, keyword)| IntentHit {
                intent,
                confidence,
                matched: keyword.to_owned(),
            })
        })
        .collect()
}

fn confidence(keyword: &str) -> f32 {
    if keyword.contains(' ') {
        PHRASE_CONFIDENCE
    } else {
        WORD_CONFIDENCE
    }
}

/// One whole-word occurrence of a keyword in the normalised text.
#[derive(Debug, Clone, Copy)]
struct Found {
    start: usize,
    end: usize,
    intent: Intent,
    keyword: &'static str,
}

/// Every whole-word occurrence of every keyword, overlapping ones included.
///
/// Only word starts can begin a match, and only keywords beginning with that word's first byte
/// are tried there, so a 4 KiB message costs a few thousand short comparisons rather than a
/// scan of the whole text per keyword. The normalised text is words separated by single spaces,
/// so a word starts at 0 and after every space, and a match ends a word at the text's end or
/// before a space.
fn find_all(normalised: &str) -> Vec<Found> {
    let bytes = normalised.as_bytes();
    let word_starts = std::iter::once(0).chain(
        bytes
            .iter()
            .enumerate()
            .filter(|&(_, &b)| b == b' ')
            .map(|(i, _)| i + 1),
    );
    let mut found = Vec::new();
    for start in word_starts {
        let Some(candidates) = bytes
            .get(start)
            .and_then(|&b| KEYWORDS_BY_FIRST_BYTE.get(usize::from(b)))
        else {
            continue;
        };
        let rest = &bytes[start..];
        for &(intent, keyword) in candidates {
            let end = start + keyword.len();
            if rest.starts_with(keyword.as_bytes()) && bytes.get(end).is_none_or(|&b| b == b' ') {
                found.push(Found {
                    start,
                    end,
                    intent,
                    keyword,
                });
            }
        }
    }
    found
}

/// [`RULES`] indexed by the keywords' first byte (keywords are ASCII), in table order. Built once
/// per process on first use.
static KEYWORDS_BY_FIRST_BYTE: LazyLock<[Vec<(Intent, &'static str)>; 128]> = LazyLock::new(|| {
    let mut index: [Vec<(Intent, &'static str)>; 128] = std::array::from_fn(|_| Vec::new());
    for &(intent, languages) in RULES {
        for &keyword in languages.iter().flat_map(|table| table.iter()) {
            // A non-ASCII keyword could never match the byte-wise comparison above; a test keeps
            // the tables ASCII, this keeps a slip from panicking.
            if let Some(slot) = keyword
                .bytes()
                .next()
                .and_then(|b| index.get_mut(usize::from(b)))
            {
                slot.push((intent, keyword));
            }
        }
    }
    index
});

/// Keeps the leftmost, then longest, match and drops every match overlapping one already kept.
fn leftmost_longest(mut found: Vec<Found>) -> impl Iterator<Item = Found> {
    found.sort_unstable_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
    let mut covered_until = 0;
    found.into_iter().filter(move |f| {
        if f.start < covered_until {
            return false;
        }
        covered_until = f.end;
        true
    })
}

// ---------------------------------------------------------------------------------------------
// Keyword tables.
//
// Written normalised: lower case, no accents, no apostrophes (`dont`, `im`), single spaces. A
// word that is common in another sense stays out of the single-word lists (`later`, `cancel`,
// Spanish `alto` "high" and `baja` "low/ground floor"); use a phrase instead. A keyword belongs to
// one intent only. Tests enforce all of this.
// ---------------------------------------------------------------------------------------------

/// Intents with their tables (English, Hindi in Latin script, Spanish), in priority order.
#[rustfmt::skip]
const RULES: &[(Intent, &[&[&str]])] = &[
    (Intent::Booking,      &[BOOKING_EN,      BOOKING_HI,      BOOKING_ES]),
    (Intent::SiteVisit,    &[SITE_VISIT_EN,   SITE_VISIT_HI,   SITE_VISIT_ES]),
    (Intent::Pricing,      &[PRICING_EN,      PRICING_HI,      PRICING_ES]),
    (Intent::Availability, &[AVAILABILITY_EN, AVAILABILITY_HI, AVAILABILITY_ES]),
    (Intent::Interest,     &[INTEREST_EN,     INTEREST_HI,     INTEREST_ES]),
    (Intent::Objection,    &[OBJECTION_EN,    OBJECTION_HI,    OBJECTION_ES]),
    (Intent::HumanHandoff, &[HANDOFF_EN,      HANDOFF_HI,      HANDOFF_ES]),
    (Intent::OptOut,       &[OPT_OUT_EN,      OPT_OUT_HI,      OPT_OUT_ES]),
];

// Booking: committing to a unit or fixing an appointment (PROXe's bookings carry a date and time).
const BOOKING_EN: &[&str] = &[
    "book",
    "booking",
    "book now",
    "want to book",
    "ready to book",
    "make a booking",
    "confirm booking",
    "confirm my booking",
    "book a call",
    "book an appointment",
    "schedule a call",
    "schedule a meeting",
    "schedule an appointment",
    "appointment",
    "reserve",
    "reservation",
    "token amount",
    "booking amount",
];
const BOOKING_HI: &[&str] = &[
    "booking karni hai",
    "booking karna hai",
    "booking kar do",
    "booking kardo",
    "booking chahiye",
    "book karna hai",
    "book karni hai",
    "book kar do",
    "book kardo",
    "book karo",
    "appointment chahiye",
    "appointment fix karo",
    "token dena hai",
    "token de dete hai",
];
const BOOKING_ES: &[&str] = &[
    "reservar",
    "quiero reservar",
    "hacer una reserva",
    "reserva",
    "agendar",
    "agendar una cita",
    "programar una cita",
    "hacer una cita",
    "cita",
    "quiero apartar",
    "apartado",
];

// Site visit: wanting to see the property in person.
const SITE_VISIT_EN: &[&str] = &[
    "site visit",
    "visit",
    "viewing",
    "tour",
    "property tour",
    "open house",
    "visit the site",
    "visit the property",
    "see the property",
    "see the flat",
    "see the house",
    "see the apartment",
    "view the property",
    "schedule a visit",
    "schedule a viewing",
    "book a visit",
    "book a site visit",
    "book a viewing",
    "can i visit",
    "when can i visit",
    "come and see",
];
const SITE_VISIT_HI: &[&str] = &[
    "site visit kab",
    "site visit karna hai",
    "site visit karni hai",
    "visit karna hai",
    "visit karni hai",
    "visit kab",
    "ghar dekhna hai",
    "ghar dekhne",
    "flat dekhna hai",
    "flat dekhne",
    "property dekhna hai",
    "property dekhni hai",
    "site dekhna hai",
    "dekhne aana hai",
    "dekhne aa sakte",
    "kab aa sakte hai",
    "kab aa sakta hu",
];
const SITE_VISIT_ES: &[&str] = &[
    "visita",
    "visitar",
    "quiero visitar",
    "agendar una visita",
    "programar una visita",
    "ver la propiedad",
    "ver el departamento",
    "ver la casa",
    "ver el piso",
    "conocer la propiedad",
    "recorrido",
    "cuando puedo ir",
    "puedo ir a ver",
];

// Pricing: the price, its terms, or the customer's budget.
const PRICING_EN: &[&str] = &[
    "price",
    "prices",
    "pricing",
    "price list",
    "price range",
    "cost",
    "total cost",
    "how much",
    "what is the price",
    "whats the price",
    "rate",
    "rates",
    "budget",
    "quote",
    "quotation",
    "emi",
    "down payment",
    "payment plan",
    "per sq ft",
    "per sqft",
];
const PRICING_HI: &[&str] = &[
    "kitne ka hai",
    "kitne ki hai",
    "kitne ka padega",
    "kitna padega",
    "kitne mein",
    "kitne me",
    "kitna price",
    "kitna rate",
    "price kya hai",
    "rate kya hai",
    "kya rate hai",
    "price batao",
    "rate batao",
    "kimat",
    "keemat",
    "kimat kya hai",
    "keemat kya hai",
    "daam",
    "emi kitni",
];
const PRICING_ES: &[&str] = &[
    "precio",
    "precios",
    "cuanto cuesta",
    "cuanto vale",
    "cuanto sale",
    "cual es el precio",
    "costo",
    "coste",
    "presupuesto",
    "cotizacion",
    "enganche",
    "mensualidades",
    "forma de pago",
];

// Availability: whether a unit is still to be had, or when it can be moved into.
const AVAILABILITY_EN: &[&str] = &[
    "available",
    "availability",
    "is it available",
    "is this available",
    "still available",
    "units available",
    "flats available",
    "any units left",
    "vacant",
    "ready to move",
    "possession",
];
const AVAILABILITY_HI: &[&str] = &[
    "available hai kya",
    "available hai",
    "kya available hai",
    "abhi available",
    "khali hai",
    "khaali hai",
    "milega kya",
    "mil sakta hai",
    "bacha hai",
    "possession kab",
];
const AVAILABILITY_ES: &[&str] = &[
    "disponible",
    "disponibles",
    "disponibilidad",
    "esta disponible",
    "sigue disponible",
    "todavia disponible",
    "hay disponibles",
    "quedan unidades",
    "entrega inmediata",
];

// Interest: wanting to know more or to buy, short of a price, visit or booking question.
const INTEREST_EN: &[&str] = &[
    "interested",
    "im interested",
    "i am interested",
    "tell me more",
    "more details",
    "more info",
    "more information",
    "send details",
    "send me details",
    "share details",
    "brochure",
    "floor plan",
    "looking for",
    "looking to buy",
    "want to buy",
    "i like it",
    "sounds good",
];
const INTEREST_HI: &[&str] = &[
    "interested hu",
    "interested hoon",
    "interest hai",
    "pasand hai",
    "pasand aaya",
    "details bhejo",
    "detail bhejo",
    "details bhej do",
    "brochure bhejo",
    "jankari chahiye",
    "jaankari chahiye",
    "aur batao",
    "mujhe chahiye",
    "lena hai",
    "kharidna hai",
];
const INTEREST_ES: &[&str] = &[
    "me interesa",
    "estoy interesado",
    "estoy interesada",
    "interesado",
    "interesada",
    "mas informacion",
    "mas info",
    "informacion",
    "detalles",
    "quiero comprar",
    "me gusta",
    "me encanta",
    "folleto",
];

// Objection: not interested, too expensive, too far, not now.
const OBJECTION_EN: &[&str] = &[
    "not interested",
    "no interest",
    "no thanks",
    "no thank you",
    "not now",
    "maybe later",
    "too expensive",
    "expensive",
    "too costly",
    "costly",
    "out of budget",
    "over budget",
    "beyond my budget",
    "not in my budget",
    "too far",
    "already bought",
    "bought elsewhere",
    "not looking",
    "need to think",
];
const OBJECTION_HI: &[&str] = &[
    "interest nahi",
    "interested nahi",
    "nahi chahiye",
    "mehenga",
    "mehnga",
    "bahut mehenga",
    "bahut mehnga",
    "budget se bahar",
    "budget nahi hai",
    "abhi nahi",
    "baad mein",
    "baad me",
    "sochna padega",
    "soch ke batata",
    "bahut door",
    "zarurat nahi",
    "jarurat nahi",
];
const OBJECTION_ES: &[&str] = &[
    "no me interesa",
    "no estoy interesado",
    "no estoy interesada",
    "no gracias",
    "ahora no",
    "mas adelante",
    "caro",
    "muy caro",
    "demasiado caro",
    "fuera de mi presupuesto",
    "fuera del presupuesto",
    "muy lejos",
    "lo voy a pensar",
    "ya compre",
];

// Human handoff: wanting a person (a call, an agent) instead of the bot.
const HANDOFF_EN: &[&str] = &[
    "human",
    "real person",
    "talk to a person",
    "speak to a person",
    "talk to someone",
    "speak to someone",
    "talk to a human",
    "speak to a human",
    "talk to an agent",
    "speak to an agent",
    "call me",
    "please call",
    "call back",
    "callback",
    "give me a call",
    "representative",
    "customer care",
    "contact number",
];
const HANDOFF_HI: &[&str] = &[
    "mujhe call karo",
    "mujhe phone karo",
    "call karo",
    "call kar do",
    "call kardo",
    "call back karo",
    "phone karo",
    "baat karni hai",
    "baat karna hai",
    "kisi se baat",
    "agent se baat",
    "number do",
    "number bhejo",
];
const HANDOFF_ES: &[&str] = &[
    "hablar con una persona",
    "hablar con alguien",
    "hablar con un agente",
    "hablar con un asesor",
    "quiero hablar",
    "persona real",
    "humano",
    "asesor",
    "llamame",
    "llamenme",
    "me pueden llamar",
    "me puedes llamar",
];

// Opt-out said in a sentence ("please stop sending me messages"). A whole-message keyword is
// caught by `crate::consent` as well and changes consent; a sentence only flags the intent.
const OPT_OUT_EN: &[&str] = &[
    "stop",
    "unsubscribe",
    "opt out",
    "optout",
    "stop all",
    "stop messaging",
    "stop sending",
    "stop texting",
    "stop calling",
    "dont message",
    "dont text",
    "dont contact",
    "dont call",
    "dont call me",
    "do not message",
    "do not contact",
    "do not call",
    "do not call me",
    "remove me",
    "leave me alone",
    "no more messages",
];
const OPT_OUT_HI: &[&str] = &[
    "band karo",
    "band kar do",
    "message mat bhejo",
    "messages mat bhejo",
    "msg mat bhejo",
    "mat bhejo",
    "message band karo",
    "call mat karo",
    "pareshan mat karo",
    "disturb mat karo",
];
const OPT_OUT_ES: &[&str] = &[
    "darme de baja",
    "dar de baja",
    "no mas mensajes",
    "no me escriban",
    "no me escribas",
    "dejen de escribir",
    "deja de escribir",
    "dejen de enviar",
    "no quiero recibir",
    "no me llamen",
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// The detected intent codes, in order, separated by spaces ("" for none).
    fn codes(text: &str) -> String {
        let codes: Vec<&str> = detect(text)
            .into_iter()
            .map(|hit| hit.intent.as_str())
            .collect();
        codes.join(" ")
    }

    /// Cases of (message, expected codes, why).
    fn assert_cases(cases: &[(&str, &str, &str)]) {
        for &(text, want, why) in cases {
            assert_eq!(codes(text), want, "case {text:?}: {why}");
        }
    }

    #[test]
    fn intent_codes_round_trip_through_from_str_and_serde() {
        let codes = [
            "booking",
            "site_visit",
            "pricing",
            "availability",
            "interest",
            "objection",
            "human_handoff",
            "opt_out",
        ];
        for (intent, code) in Intent::ALL.into_iter().zip(codes) {
            assert_eq!(intent.as_str(), code);
            assert_eq!(intent.to_string(), code);
            assert_eq!(code.parse::<Intent>(), Ok(intent));
            assert_eq!(serde_json::to_value(intent).unwrap(), code);
            let back: Intent = serde_json::from_value(code.into()).unwrap();
            assert_eq!(back, intent);
        }
        for bad in ["", "Booking", "site-visit", "optout", " booking"] {
            assert_eq!(bad.parse::<Intent>(), Err(UnknownIntent), "case {bad:?}");
        }
    }

    #[test]
    fn english_messages() {
        #[rustfmt::skip]
        assert_cases(&[
            ("I want to book a flat",             "booking",       "want to book"),
            ("Can I book an appointment?",        "booking",       "appointment"),
            ("Booking!",                          "booking",       "booking as a word"),
            ("When can I visit the site?",        "site_visit",    "visit phrase"),
            ("Schedule a viewing please",         "site_visit",    "viewing"),
            ("What's the price of the 2BHK?",     "pricing",       "apostrophe folded"),
            ("How much is it",                    "pricing",       "how much"),
            ("Is it still available?",            "availability",  "still available"),
            ("I'm interested, send me details",   "interest",      "im interested"),
            ("Not interested, thanks",            "objection",     "negated interest"),
            ("Too expensive for me",              "objection",     "price objection"),
            ("It's out of budget",                "objection",     "budget inside an objection"),
            ("Can a real person call me?",        "human_handoff", "person and call"),
            ("Please stop sending me messages",   "opt_out",       "opt-out in a sentence"),
            ("Don't call me again",               "opt_out",       "negated call"),
        ]);
    }

    #[test]
    fn hindi_in_latin_script_messages() {
        #[rustfmt::skip]
        assert_cases(&[
            ("kitne ka hai?",                  "pricing",       "how much is it"),
            ("2bhk ka price kya hai",          "pricing",       "what is the price"),
            ("Ghar dekhna hai",                "site_visit",    "want to see the house"),
            ("site visit kab ho sakti hai",    "site_visit",    "when can the site visit be"),
            ("booking karni hai",              "booking",       "want to book"),
            ("flat available hai kya?",        "availability",  "is the flat available"),
            ("mujhe call karo",                "human_handoff", "call me"),
            ("bahut mehenga hai",              "objection",     "too expensive"),
            ("abhi nahi, baad mein",           "objection",     "not now, later"),
            ("message mat bhejo",              "opt_out",       "do not send messages"),
            ("details bhejo, interested hoon", "interest",      "send details, interested"),
            ("mujhe call mat karo",            "opt_out",       "do not call me"),
        ]);
    }

    #[test]
    fn spanish_messages_with_and_without_accents() {
        #[rustfmt::skip]
        assert_cases(&[
            ("¿Cuánto cuesta?",                "pricing",       "accented"),
            ("cuanto cuesta",                  "pricing",       "unaccented"),
            ("CUÁNTO CUESTA",                  "pricing",       "upper case accented"),
            ("cua\u{301}nto cuesta",           "pricing",       "combining accent"),
            ("¿Cuál es el precio?",            "pricing",       "the price"),
            ("Quiero agendar una cita",        "booking",       "make an appointment"),
            ("Me gustaría una visita",         "site_visit",    "a visit"),
            ("¿Sigue disponible?",             "availability",  "still available"),
            ("Me interesa",                    "interest",      "it interests me"),
            ("No me interesa",                 "objection",     "negated interest"),
            ("No estoy interesada, gracias",   "objection",     "negated, feminine"),
            ("Quiero hablar con una persona",  "human_handoff", "a person"),
            ("Llámame mañana",                 "human_handoff", "call me"),
            ("Es muy caro",                    "objection",     "too expensive"),
            ("No más mensajes por favor",      "opt_out",       "no more messages"),
            ("¿Está en planta baja?",          "",              "baja: ground floor, not opt-out"),
            ("El precio es muy alto",          "pricing",       "alto: high, not an opt-out"),
        ]);
    }

    #[test]
    fn several_intents_come_back_in_priority_order() {
        let text = "Price? Is it available? I'd like a site visit, and booking if good";
        assert_eq!(codes(text), "booking site_visit pricing availability");
    }

    #[test]
    fn one_hit_per_intent_and_the_phrase_beats_the_word() {
        let phrase = IntentHit {
            intent: Intent::Pricing,
            confidence: PHRASE_CONFIDENCE,
            matched: "price list".to_owned(),
        };
        assert_eq!(detect("price? price list please, price price"), [phrase]);

        let word = IntentHit {
            intent: Intent::Pricing,
            confidence: WORD_CONFIDENCE,
            matched: "price".to_owned(),
        };
        assert_eq!(detect("price"), [word]);
    }

    #[test]
    fn matched_is_the_keyword_not_the_message() {
        let hits = detect("Hi, I am Asha, 9876543210 — HOW MUCH is the villa?");
        let matched: Vec<&str> = hits.iter().map(|h| h.matched.as_str()).collect();
        assert_eq!(matched, ["how much"]);
    }

    #[test]
    fn words_only_match_whole_words() {
        #[rustfmt::skip]
        assert_cases(&[
            ("stopwatch",     "",        "stop inside a word"),
            ("nonstop",       "",        "stop at the end of a word"),
            ("pricey",        "",        "price inside a word"),
            ("a bookshelf",   "",        "book inside a word"),
            ("costume party", "",        "cost inside a word"),
            ("emirates",      "",        "emi inside a word"),
            ("the visitors",  "",        "visit inside a word"),
            ("humanity",      "",        "human inside a word"),
            ("carolina",      "",        "caro inside a word"),
            ("unavailable",   "",        "available inside a word"),
            ("bookingg",      "",        "typo longer than the keyword"),
            ("book.",         "booking", "punctuation is a boundary"),
            ("(booking)",     "booking", "brackets are a boundary"),
            ("stop!!!",       "opt_out", "exclamation marks are a boundary"),
        ]);
    }

    #[test]
    fn longer_phrases_consume_the_words_inside_them() {
        #[rustfmt::skip]
        assert_cases(&[
            ("book a site visit",   "site_visit", "book inside a visit phrase"),
            ("not interested",      "objection",  "interested inside a negation"),
            ("no estoy interesado", "objection",  "interesado inside a negation"),
            ("out of budget",       "objection",  "budget inside an objection"),
            ("do not call me",      "opt_out",    "call me overlapping a negation"),
            ("not interested now, but I am interested in the villa",
                                    "interest objection", "a later positive still counts"),
        ]);
    }

    #[test]
    fn whole_message_consent_keyword_is_a_full_confidence_opt_out() {
        for (text, keyword) in [
            ("STOP", "stop"),
            ("alto", "alto"),
            ("Band karo 🙏", "band karo"),
        ] {
            let want = IntentHit {
                intent: Intent::OptOut,
                confidence: WHOLE_MESSAGE_CONFIDENCE,
                matched: keyword.to_owned(),
            };
            assert_eq!(detect(text), [want], "case {text:?}");
        }
        assert_eq!(codes("START"), "", "opting in is no intent");
    }

    #[test]
    fn empty_blank_and_emoji_only_messages_have_no_intent() {
        for text in ["", " ", "\n\t", "👍", "🙏🙏🙏", "...", "?!", "\u{200b}"] {
            assert_eq!(codes(text), "", "case {text:?}");
        }
    }

    #[test]
    fn emoji_and_mixed_case_do_not_hide_keywords() {
        #[rustfmt::skip]
        assert_cases(&[
            ("PrIcE🙂?",         "pricing",    "emoji glued to the word"),
            ("🏠Site Visit🏠",   "site_visit", "emoji around a phrase"),
            ("KITNE KA HAI",     "pricing",    "upper-case Hinglish"),
            ("site\nvisit",      "site_visit", "a newline between words"),
            ("site   visit",     "site_visit", "several spaces"),
        ]);
    }

    #[test]
    fn only_the_first_max_detect_chars_are_read() {
        let padding = "a ".repeat(MAX_DETECT_CHARS / 2);
        assert_eq!(
            codes(&format!("price {padding}")),
            "pricing",
            "keyword up front"
        );
        assert_eq!(
            codes(&format!("{padding}price")),
            "",
            "keyword past the cap"
        );

        let huge = "price ".repeat(200_000);
        assert_eq!(codes(&huge), "pricing", "a megabyte of keywords");
        let multibyte = "é".repeat(100_000);
        assert_eq!(codes(&multibyte), "", "multi-byte characters");
    }

    #[test]
    fn normalise_folds_case_accents_punctuation_and_spaces() {
        #[rustfmt::skip]
        let cases = [
            ("  Hello,   WORLD!! ", "hello world",  "case, punctuation, spaces"),
            ("¿Cuánto?¡Sí!",        "cuanto si",    "Spanish punctuation and accents"),
            ("Ñandú",               "nandu",        "ñ and ú"),
            ("don't",               "dont",         "ASCII apostrophe"),
            ("I’m",                 "im",           "typographic apostrophe"),
            ("e\u{301}",            "e",            "combining accent"),
            ("İstanbul",            "istanbul",     "dotted capital I"),
            ("🙂price🙂",           "price",        "emoji are spaces"),
            ("opt-out",             "opt out",      "hyphen"),
            ("opt_out",             "opt out",      "underscore"),
            ("2bhk@50L",            "2bhk 50l",     "digits kept"),
            ("मकान price",           "मकान price",    "other scripts kept as words"),
            ("dekhnā",              "dekhna",       "IAST macron"),
            ("",                    "",             "empty"),
        ];
        for (input, want, why) in cases {
            assert_eq!(normalise(input), want, "case {input:?}: {why}");
        }
    }

    #[test]
    fn keyword_tables_are_normalised_ascii_and_unambiguous() {
        let mut seen = HashSet::new();
        for &(intent, languages) in RULES {
            for &keyword in languages.iter().flat_map(|table| table.iter()) {
                assert!(!keyword.is_empty(), "{intent}: empty keyword");
                assert!(keyword.is_ascii(), "{intent}: {keyword:?} is not ASCII");
                assert_eq!(
                    normalise(keyword),
                    keyword,
                    "{intent}: {keyword:?} not normalised"
                );
                assert!(seen.insert(keyword), "{keyword:?} appears twice");
                let first = detect(keyword).first().map(|hit| hit.intent);
                assert_eq!(first, Some(intent), "{keyword:?} alone must be {intent}");
            }
        }
    }

    #[test]
    fn rules_follow_the_priority_order() {
        let order: Vec<Intent> = RULES.iter().map(|&(intent, _)| intent).collect();
        assert_eq!(order, Intent::ALL);
        for (i, intent) in Intent::ALL.into_iter().enumerate() {
            assert_eq!(intent.index(), i);
        }
    }

    #[test]
    fn confidences_stay_in_range() {
        for text in [
            "price",
            "price list",
            "STOP",
            "not interested",
            "kitne ka hai",
        ] {
            for hit in detect(text) {
                assert!((0.0..=1.0).contains(&hit.confidence), "case {text:?}");
            }
        }
    }
}
