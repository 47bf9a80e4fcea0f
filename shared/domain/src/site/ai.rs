//! The AI writer's pure half: the prompt, and the checks its answer must pass.
//!
//! The model writes only copy: the hero headline, the about paragraphs, the FAQ and the meta
//! description. It is given the facts to write about, but whatever it answers is parsed into a
//! [`SiteCopy`] and assembled with the facts from the database by
//! [`super::template::assemble`], so a price, phone number or listing it invents can never reach
//! the page. Its answer must also be exactly the JSON shape asked for, within the document's
//! length limits, and free of links, markup and phone-number-like digit runs; otherwise the
//! errors go back to it in a corrective prompt (the network half lives in `platform`).

use super::{SiteCopy, SiteInput, limits};
use crate::site::document::FaqItem;
use crate::validation::ValidationErrors;
use serde::Deserialize;
use serde_json::json;

/// Attempts per build, the first included: a model that cannot follow the schema in three tries
/// will not in four, and the template is always there.
pub const MAX_ATTEMPTS: usize = 3;

/// The instructions that do not change between agents.
pub const SYSTEM_PROMPT: &str = "You write the copy of a real-estate agent's one-page website. \
Answer with one JSON object and nothing else, with exactly these keys: \
\"headline\" (string), \"about\" (array of 1 to 4 paragraph strings), \
\"faq\" (array of at most 6 objects with \"question\" and \"answer\" strings) and \
\"metaDescription\" (string). Write in plain, warm, factual English. Use only the facts given: \
never invent prices, phone numbers, addresses, awards or statistics, and never include links, \
HTML or contact details (the page adds them itself).";

/// The user message for the first attempt: the facts as JSON, and the limits.
pub fn prompt(input: &SiteInput) -> String {
    let listings: Vec<_> = input
        .listings
        .iter()
        .filter(|l| l.status.is_visible())
        .map(|l| json!({"title": l.title, "bedrooms": l.bedrooms, "area": l.address}))
        .collect();
    let facts = json!({
        "agentName": input.agent.name,
        "bio": input.config.bio,
        "areas": input.config.areas,
        "languages": input.config.languages,
        "listings": listings,
    });
    format!(
        "Facts about the agent:\n{facts}\n\nLimits: headline at most {} characters; each about \
         paragraph at most {}; each FAQ question at most {} and answer at most {}; \
         metaDescription at most {}.",
        limits::HEADLINE,
        limits::ABOUT_PARAGRAPH,
        limits::FAQ_QUESTION,
        limits::FAQ_ANSWER,
        limits::META_DESCRIPTION
    )
}

/// The follow-up message after an answer that failed the checks.
pub fn corrective_prompt(errors: &ValidationErrors) -> String {
    let list: Vec<String> = errors
        .errors()
        .iter()
        .map(|e| format!("- {} {}", e.field, e.message))
        .collect();
    format!(
        "Your answer was not accepted:\n{}\nAnswer again with the corrected JSON object only.",
        list.join("\n")
    )
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Answer {
    headline: String,
    about: Vec<String>,
    faq: Vec<AnswerFaq>,
    meta_description: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswerFaq {
    question: String,
    answer: String,
}

/// Reads a model's answer into copy, keeping the template's subheadline (a line of facts), or
/// names every problem with it.
pub fn parse_answer(text: &str, template: &SiteCopy) -> Result<SiteCopy, ValidationErrors> {
    let json = strip_fences(text);
    let answer: Answer = serde_json::from_str(json).map_err(|e| {
        ValidationErrors::single("answer", format!("is not the JSON object asked for ({e})"))
    })?;
    let copy = SiteCopy {
        headline: answer.headline.trim().to_owned(),
        subheadline: template.subheadline.clone(),
        about: answer.about.iter().map(|p| p.trim().to_owned()).collect(),
        faq: answer
            .faq
            .into_iter()
            .map(|f| FaqItem {
                question: f.question.trim().to_owned(),
                answer: f.answer.trim().to_owned(),
            })
            .collect(),
        meta_description: answer.meta_description.trim().to_owned(),
    };
    let mut errors = copy.validate().err().unwrap_or_default();
    for (field, text) in copy_fields(&copy) {
        if let Some(problem) = fact_or_markup(text) {
            errors.push(field, problem);
        }
    }
    if errors.is_empty() {
        Ok(copy)
    } else {
        Err(errors)
    }
}

/// Models like to wrap JSON in a Markdown fence; accept that, nothing looser.
fn strip_fences(text: &str) -> &str {
    let t = text.trim();
    t.strip_prefix("```json")
        .or_else(|| t.strip_prefix("```"))
        .and_then(|rest| rest.strip_suffix("```"))
        .map_or(t, str::trim)
}

fn copy_fields(copy: &SiteCopy) -> Vec<(String, &str)> {
    let mut fields = vec![
        ("headline".to_owned(), copy.headline.as_str()),
        ("metaDescription".to_owned(), copy.meta_description.as_str()),
    ];
    for (i, p) in copy.about.iter().enumerate() {
        fields.push((format!("about.{i}"), p));
    }
    for (i, f) in copy.faq.iter().enumerate() {
        fields.push((format!("faq.{i}.question"), &f.question));
        fields.push((format!("faq.{i}.answer"), &f.answer));
    }
    fields
}

/// Copy must not carry what only the database may supply (a phone number, a price) or what the
/// renderer owns (links, markup).
fn fact_or_markup(text: &str) -> Option<&'static str> {
    let lower = text.to_ascii_lowercase();
    if lower.contains("http://") || lower.contains("https://") || lower.contains("www.") {
        return Some("must not contain links");
    }
    if text.contains('<') || text.contains('>') {
        return Some("must not contain markup");
    }
    if text.contains(['₹', '$', '€', '£']) {
        return Some("must not contain prices");
    }
    let mut run = 0;
    for c in text.chars() {
        if c.is_ascii_digit() {
            run += 1;
            if run >= 7 {
                return Some("must not contain phone numbers");
            }
        } else if !matches!(c, ' ' | '-' | '(' | ')' | '+' | '.') {
            run = 0;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template() -> SiteCopy {
        SiteCopy {
            headline: "Homes".into(),
            subheadline: "3 homes available now.".into(),
            about: vec!["About".into()],
            faq: vec![],
            meta_description: "Meta".into(),
        }
    }

    const GOOD: &str = r#"{"headline": "Find your Pune home with Asha",
        "about": ["Asha has helped families in Baner since 2012."],
        "faq": [{"question": "Which areas?", "answer": "Baner and Aundh."}],
        "metaDescription": "Asha Verma, real-estate agent in Baner and Aundh."}"#;

    #[test]
    fn a_good_answer_becomes_copy_with_the_template_subheadline() {
        let copy = parse_answer(GOOD, &template()).expect("valid");
        assert_eq!(copy.headline, "Find your Pune home with Asha");
        assert_eq!(copy.subheadline, "3 homes available now.");
        assert_eq!(copy.faq.len(), 1);
        let fenced = format!("```json\n{GOOD}\n```");
        assert_eq!(parse_answer(&fenced, &template()), Ok(copy));
    }

    #[test]
    fn bad_answers_name_what_is_wrong() {
        let long = "x".repeat(limits::HEADLINE + 1);
        let cases = [
            ("prose", "Sure! Here is your copy.".to_owned(), "answer"),
            (
                "extra key",
                GOOD.replace("\"faq\"", "\"price\": 1, \"faq\""),
                "answer",
            ),
            (
                "too long",
                GOOD.replace("Find your Pune home with Asha", &long),
                "headline",
            ),
            (
                "phone",
                GOOD.replace("since 2012", "on +91 98000 00001"),
                "about.0",
            ),
            (
                "price",
                GOOD.replace("Baner and Aundh.", "From ₹85 L."),
                "faq.0.answer",
            ),
            (
                "link",
                GOOD.replace("since 2012", "at https://x.in"),
                "about.0",
            ),
            (
                "markup",
                GOOD.replace("Which areas?", "<b>Areas</b>?"),
                "faq.0.question",
            ),
        ];
        for (why, answer, field) in cases {
            let errors = parse_answer(&answer, &template()).expect_err(why);
            assert!(
                errors.errors().iter().any(|e| e.field == field),
                "{why}: {errors:?}"
            );
            assert!(corrective_prompt(&errors).contains(field), "{why}");
        }
    }

    #[test]
    fn a_year_is_not_a_phone_number() {
        assert!(parse_answer(GOOD, &template()).is_ok());
    }
}
