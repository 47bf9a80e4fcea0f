//! Text as keyword rules compare it: one normalisation shared by intent detection
//! ([`crate::intent`]) and consent keywords ([`crate::consent`]), so both read a message the same
//! way and neither depends on the other for it.

/// How many characters of a message are scanned. Intent is stated early in a message; past
/// this the rest is ignored so a huge message cannot cost much.
pub const MAX_DETECT_CHARS: usize = 4 * 1024;

/// The text matching and consent keywords compare: at most [`MAX_DETECT_CHARS`] characters of
/// `text`, lower-cased, accents folded, apostrophes dropped, every run of anything that is not a
/// letter or digit turned into one space, no leading or trailing space.
pub fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_DETECT_CHARS));
    let mut pending_space = false;
    for c in text.chars().take(MAX_DETECT_CHARS) {
        for lower in c.to_lowercase() {
            match fold(lower) {
                Folded::Keep(folded) => {
                    if pending_space && !out.is_empty() {
                        out.push(' ');
                    }
                    pending_space = false;
                    out.push(folded);
                }
                Folded::Drop => {}
                Folded::Space => pending_space = true,
            }
        }
    }
    out
}

enum Folded {
    Keep(char),
    Drop,
    Space,
}

/// Folds one lower-case character. The table covers the Latin letters of Spanish and of
/// romanised Hindi (IAST macrons) plus the common Western European ones; other letters (any
/// script) are kept as they are so they still separate words without ever matching a keyword.
fn fold(c: char) -> Folded {
    let folded = match c {
        'a'..='z' | '0'..='9' => c,
        'á' | 'à' | 'â' | 'ä' | 'ã' | 'å' | 'ā' | 'ă' | 'ą' => 'a',
        'ç' | 'ć' | 'č' => 'c',
        'é' | 'è' | 'ê' | 'ë' | 'ē' | 'ę' | 'ě' => 'e',
        'í' | 'ì' | 'î' | 'ï' | 'ī' | 'ı' => 'i',
        'ñ' | 'ń' | 'ň' => 'n',
        'ó' | 'ò' | 'ô' | 'ö' | 'õ' | 'ø' | 'ō' => 'o',
        'ú' | 'ù' | 'û' | 'ü' | 'ū' | 'ů' => 'u',
        'ý' | 'ÿ' => 'y',
        'ṛ' => 'r',
        'ṣ' | 'ś' | 'š' => 's',
        'ṭ' => 't',
        'ḍ' => 'd',
        'ṅ' | 'ṇ' => 'n',
        'ṃ' | 'ṁ' => 'm',
        'ḥ' => 'h',
        // Combining accents (text typed as `a` + U+0301), the soft hyphen and apostrophes are
        // part of the word they sit in: `cua\u{301}nto` is `cuanto`, `don't` is `dont`.
        '\u{300}'..='\u{36f}' | '\u{ad}' | '\'' | '\u{2018}' | '\u{2019}' | '`' | '\u{b4}' => {
            return Folded::Drop;
        }
        c if c.is_alphanumeric() => c,
        _ => return Folded::Space,
    };
    Folded::Keep(folded)
}
