//! WhatsApp consent keywords: which messages opt a person out of, or back into, messages.
//!
//! A customer who sends `STOP` must stop receiving messages (`opted_out_at` is set) and one who
//! sends `START` may receive them again (docs/architecture.md §5.3, WhatsApp webhook). Getting this
//! wrong either way is costly: a missed opt-out is a complaint and a blocked WhatsApp number, a
//! false one silently loses a lead. So a message changes consent only when the *whole* message
//! is one of the keywords below, the way carriers treat SMS `STOP`:
//!
//! - `STOP`, `stop!!`, `🛑 Stop 🛑`, `Dar de baja`, `band karo 🙏` change consent;
//! - `please stop sending me messages`, `stop, I already bought` and `don't stop` do not. They
//!   are still reported as the `opt_out` *intent* by [`crate::intent::detect`], so a person sees
//!   them in the lead's intents log and can act on them.
//!
//! The message is compared after the same normalisation as intent detection (case, accents,
//! surrounding punctuation and emoji ignored), so `No más mensajes` and `no mas mensajes` are one
//! keyword. `yes` is deliberately not an opt-in (it answers any question), nor are ambiguous
//! single words in running text; as whole messages `cancel`, `end`, `alto` or `baja` do opt out,
//! because a message that says only that is read as the request it is for SMS too.

use crate::text::normalise;

/// Longest message, in bytes once trimmed, that can be a keyword after emoji and punctuation
/// are stripped. Longer messages are answered without normalising them.
const MAX_KEYWORD_MESSAGE_BYTES: usize = 256;

/// A change of a person's consent to receive messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConsentChange {
    /// Set `opted_out_at`.
    OptOut,
    /// Clear `opted_out_at`.
    OptIn,
}

/// The consent change `text` asks for, if the whole message is a consent keyword.
pub fn classify(text: &str) -> Option<ConsentChange> {
    let text = text.trim();
    if text.len() > MAX_KEYWORD_MESSAGE_BYTES {
        return None;
    }
    classify_normalised(&normalise(text)).map(|(change, _)| change)
}

/// [`classify`] for text already normalised by [`crate::text::normalise`], with the keyword that matched,
/// so intent detection can report the same decision without normalising twice.
pub(crate) fn classify_normalised(normalised: &str) -> Option<(ConsentChange, &'static str)> {
    let find = |keywords: &[&'static str]| keywords.iter().copied().find(|&k| k == normalised);
    if let Some(keyword) = find(OPT_OUT) {
        return Some((ConsentChange::OptOut, keyword));
    }
    find(OPT_IN).map(|keyword| (ConsentChange::OptIn, keyword))
}

// Keywords are written normalised (lower case, no accents, single spaces); a test enforces it.

/// Opt-out: English (the SMS/WhatsApp industry set), Hindi in Latin script, Spanish.
const OPT_OUT: &[&str] = &[
    // English
    "stop",
    "stop all",
    "stopall",
    "unsubscribe",
    "cancel",
    "end",
    "quit",
    "opt out",
    "optout",
    "revoke",
    "stop messages",
    "no more messages",
    // Hindi (Latin script)
    "band karo",
    "band kar do",
    "band kardo",
    "band kro",
    "message band karo",
    "message mat bhejo",
    "messages mat bhejo",
    "msg mat bhejo",
    "mat bhejo",
    // Spanish
    "baja",
    "darme de baja",
    "dar de baja",
    "alto",
    "parar",
    "detener",
    "cancelar",
    "no mas mensajes",
];

/// Opt-in: English, Hindi in Latin script, Spanish.
const OPT_IN: &[&str] = &[
    // English
    "start",
    "unstop",
    "subscribe",
    "opt in",
    "optin",
    "resume",
    // Hindi (Latin script)
    "shuru",
    "shuru karo",
    "shuru kar do",
    "chalu karo",
    "phir se shuru karo",
    // Spanish
    "alta",
    "darme de alta",
    "dar de alta",
    "empezar",
    "comenzar",
    "iniciar",
    "reanudar",
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn whole_message_opt_out_keywords_in_every_language() {
        #[rustfmt::skip]
        let cases = [
            ("STOP",              "canonical"),
            ("stop",              "lower case"),
            ("Stop.",             "trailing full stop"),
            ("  stop!!  ",        "surrounding spaces and punctuation"),
            ("🛑 STOP 🛑",        "emoji around the keyword"),
            ("STOP ALL",          "stop all"),
            ("STOPALL",           "stopall"),
            ("Unsubscribe",       "unsubscribe"),
            ("cancel",            "cancel"),
            ("END",               "end"),
            ("quit",              "quit"),
            ("opt out",           "opt out"),
            ("Opt-Out",           "hyphenated"),
            ("OPTOUT",            "one word"),
            ("band karo",         "Hinglish: turn it off"),
            ("Band kar do 🙏",    "Hinglish with a folded-hands emoji"),
            ("message mat bhejo", "Hinglish: don't send messages"),
            ("mat bhejo",         "Hinglish: don't send"),
            ("baja",              "Spanish: unsubscribe"),
            ("Darme de baja",     "Spanish: unsubscribe me"),
            ("dar de baja",       "Spanish: unsubscribe"),
            ("ALTO",              "Spanish: stop"),
            ("parar",             "Spanish: to stop"),
            ("Cancelar",          "Spanish: cancel"),
            ("No más mensajes",   "Spanish with accent"),
            ("no mas mensajes",   "Spanish without accent"),
            ("¡NO MÁS MENSAJES!", "Spanish upper case, inverted exclamation mark"),
        ];
        for (text, why) in cases {
            let got = classify(text);
            assert_eq!(got, Some(ConsentChange::OptOut), "case {text:?}: {why}");
        }
    }

    #[test]
    fn whole_message_opt_in_keywords_in_every_language() {
        #[rustfmt::skip]
        let cases = [
            ("START",         "canonical"),
            ("Start!",        "punctuation"),
            ("unstop",        "unstop"),
            ("SUBSCRIBE",     "subscribe"),
            ("shuru karo",    "Hinglish: start"),
            ("Shuru",         "Hinglish: start, one word"),
            ("alta",          "Spanish: sign up"),
            ("Darme de alta", "Spanish: sign me up"),
            ("empezar",       "Spanish: to start"),
            ("Comenzar",      "Spanish: to begin"),
            ("iniciar",       "Spanish: to start"),
            ("▶️ start",       "emoji before the keyword"),
        ];
        for (text, why) in cases {
            let got = classify(text);
            assert_eq!(got, Some(ConsentChange::OptIn), "case {text:?}: {why}");
        }
    }

    #[test]
    fn sentences_containing_a_keyword_do_not_change_consent() {
        #[rustfmt::skip]
        let cases = [
            ("Please stop sending me messages", "a request in a sentence is an intent only"),
            ("stop, I already bought",          "keyword followed by more text"),
            ("don't stop",                      "negated"),
            ("can we start the booking?",       "start used in a sentence"),
            ("stop please",                     "a polite suffix still makes a sentence"),
            ("bus stop nearby?",                "stop as a noun"),
            ("planta baja",                     "baja as ground floor"),
            ("precio alto",                     "alto as high"),
            ("the end of the month",            "end in a sentence"),
            ("cancel my booking",               "cancel something else"),
            ("stopwatch",                       "keyword inside a word"),
            ("starting price?",                 "keyword inside a word"),
            ("s.t.o.p",                         "letters split by punctuation"),
            ("yes",                             "yes answers a question; it is not an opt-in"),
            ("no más",                          "answers \"anything else?\""),
            ("para",                            "\"for\" as often as \"stop\""),
        ];
        for (text, why) in cases {
            assert_eq!(classify(text), None, "case {text:?}: {why}");
        }
    }

    #[test]
    fn empty_blank_emoji_only_and_huge_messages_change_nothing() {
        let huge = "stop ".repeat(100_000);
        let buried = format!("{}stop", "🛑".repeat(MAX_KEYWORD_MESSAGE_BYTES / 4));
        #[rustfmt::skip]
        let cases = [
            ("",               "empty"),
            ("   ",            "blank"),
            ("🛑",             "emoji only"),
            ("!!!",            "punctuation only"),
            (huge.as_str(),    "a huge message"),
            (buried.as_str(),  "a keyword after more than the cap of emoji"),
        ];
        for (text, why) in cases {
            assert_eq!(classify(text), None, "case {why}");
        }
    }

    #[test]
    fn surrounding_whitespace_does_not_count_towards_the_cap() {
        let padded = format!("{0}STOP{0}", " ".repeat(MAX_KEYWORD_MESSAGE_BYTES));
        assert_eq!(classify(&padded), Some(ConsentChange::OptOut));
    }

    #[test]
    fn sentences_with_opt_out_words_are_still_an_opt_out_intent() {
        let text = "Please stop sending me messages";
        assert_eq!(classify(text), None);
        let intents: Vec<_> = crate::intent::detect(text)
            .into_iter()
            .map(|hit| hit.intent)
            .collect();
        assert_eq!(intents, [crate::intent::Intent::OptOut]);
    }

    #[test]
    fn keyword_lists_are_normalised_and_disjoint() {
        let mut seen = HashSet::new();
        for &keyword in OPT_OUT.iter().chain(OPT_IN) {
            assert_eq!(normalise(keyword), keyword, "{keyword:?} is not normalised");
            assert!(seen.insert(keyword), "{keyword:?} appears twice");
            assert!(
                keyword.len() <= MAX_KEYWORD_MESSAGE_BYTES,
                "{keyword:?} is over the cap"
            );
        }
    }
}
