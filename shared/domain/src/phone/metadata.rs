//! libphonenumber's metadata, loaded one calling code at a time.
//!
//! `phonenumber`'s own database loads every region at the first parse: it checks the syntax of
//! each of their thousands of patterns with `regex-syntax`, about 90% of the 80-170 ms that load
//! takes on a 2-core machine. That was most of a webhook's cold first invocation (README, "Cold
//! start"). This module keeps the same metadata split by calling code (`build.rs`) and builds a
//! database holding only the groups a number can belong to: the default region's and the one
//! its leading digits name. Each such database is built once per process and kept.
//!
//! The answer is the one the full database gives. The parser reads the default region's
//! metadata (present), strips an international prefix it finds there, then takes the calling
//! code at that point: calling codes are prefix-free (`build.rs` fails the build otherwise), so
//! only the true code can match there, and the group is either present, giving the same
//! answer, or absent, which the parser reports as an invalid country code. Only that error falls
//! back to the full database, built once on first need: numbers written with an international
//! prefix (`011 44 …` from the US) and codes that do not exist. A test checks the equivalence on
//! every example number of every region, written several ways.

use phonenumber::metadata::{Database, loader};
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

include!(concat!(env!("OUT_DIR"), "/phone_index.rs"));

static GROUP_BYTES: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/phone_groups.bin"));

/// Databases already built, by (default region's code, leading code); 0 where there is none.
type Partials = HashMap<(u16, u16), Arc<Database>>;
static PARTIAL: LazyLock<Mutex<Partials>> = LazyLock::new(Mutex::default);

/// Every group, for the inputs a partial database cannot answer.
static FULL: LazyLock<Database> = LazyLock::new(|| database(GROUPS.iter().map(|g| g.0)));

/// The calling code of a region (`"IN"` → 91), or `None` when libphonenumber has no metadata for
/// it.
pub(super) fn calling_code(region: &str) -> Option<u16> {
    REGIONS
        .binary_search_by(|(id, _)| (*id).cmp(region))
        .ok()
        .map(|i| REGIONS[i].1)
}

/// Parses with the smallest database that gives the full database's answer; see the module
/// documentation.
pub(super) fn parse(
    region: Option<(phonenumber::country::Id, u16)>,
    input: &str,
) -> Option<(phonenumber::PhoneNumber, bool)> {
    let id = region.map(|(id, _)| id);
    let partial = partial(region.map_or(0, |(_, code)| code), leading_code(input));
    let (database, number): (&Database, _) = match phonenumber::parse_with(&partial, id, input) {
        Err(phonenumber::ParseError::InvalidCountryCode) => {
            (&FULL, phonenumber::parse_with(&FULL, id, input))
        }
        parsed => (&partial, parsed),
    };
    let number = number.ok()?;
    let valid = phonenumber::is_valid_with(database, &number);
    Some((number, valid))
}

/// The calling code that starts `+digits`, if one does; 0 otherwise.
fn leading_code(input: &str) -> u16 {
    let Some(digits) = input.strip_prefix('+') else {
        return 0;
    };
    (1..=3)
        .filter_map(|len| digits.get(..len)?.parse::<u16>().ok())
        .find(|code| GROUPS.binary_search_by_key(code, |g| g.0).is_ok())
        .unwrap_or(0)
}

fn partial(region_code: u16, leading_code: u16) -> Arc<Database> {
    let mut built = PARTIAL.lock().unwrap_or_else(PoisonError::into_inner);
    built
        .entry((region_code, leading_code))
        .or_insert_with(|| {
            let mut codes = vec![region_code, leading_code];
            codes.retain(|&c| c != 0);
            codes.dedup();
            Arc::new(database(codes.into_iter()))
        })
        .clone()
}

/// A database of the given calling codes' groups. The groups were written by `build.rs` from
/// `phonenumber`'s own database, so neither decoding nor loading them can fail.
fn database(codes: impl Iterator<Item = u16>) -> Database {
    let mut regions = Vec::new();
    for code in codes {
        let Ok(i) = GROUPS.binary_search_by_key(&code, |g| g.0) else {
            continue;
        };
        let (_, start, end) = GROUPS[i];
        let group: Vec<loader::Metadata> = postcard::from_bytes(&GROUP_BYTES[start..end])
            .expect("build.rs wrote this group with postcard");
        regions.extend(group);
    }
    Database::from(regions).expect("the patterns loaded in phonenumber's own database")
}

#[cfg(test)]
mod tests {
    use super::*;
    use phonenumber::country::Id;

    /// The answer `phonenumber`'s full, built-in database gives: the E.164 form and whether
    /// it is valid.
    fn reference(region: Option<Id>, input: &str) -> Option<(String, bool)> {
        let number = phonenumber::parse(region, input).ok()?;
        let valid = phonenumber::is_valid(&number);
        Some((
            number.format().mode(phonenumber::Mode::E164).to_string(),
            valid,
        ))
    }

    fn ours(region: Option<Id>, input: &str) -> Option<(String, bool)> {
        let region = region.map(|id| (id, calling_code(id.as_ref()).expect("a known region")));
        let (number, valid) = parse(region, input)?;
        Some((super::super::e164(&number), valid))
    }

    #[test]
    fn every_region_is_indexed_with_its_calling_code() {
        for meta in phonenumber::metadata::DATABASE
            .iter()
            .filter(|m| m.id() != "001")
        {
            assert_eq!(
                calling_code(meta.id()),
                Some(meta.country_code()),
                "{}",
                meta.id()
            );
        }
        assert_eq!(calling_code("IN"), Some(91));
        assert_eq!(calling_code("ZZ"), None);
        assert_eq!(
            calling_code("001"),
            None,
            "the non-geographic entities are no default region"
        );
    }

    #[test]
    fn answers_as_the_full_database_for_every_example_number_written_every_way() {
        let full = &phonenumber::metadata::DATABASE;
        let hints: Vec<Id> = ["US", "IN", "GB", "AU", "RU", "BR"]
            .iter()
            .map(|r| r.parse().expect("a region id"))
            .collect();
        let mut checked = 0;
        // By code: the non-geographic entities (+800, +882, …) share one region id, "001".
        let every_region = (1..=999).filter_map(|code| full.by_code(&code)).flatten();
        for meta in every_region {
            // None for "001", which is no region a number can be read in.
            let region: Option<Id> = meta.id().parse().ok();
            let code = meta.country_code();
            let d = meta.descriptors();
            let examples = [d.general(), d.mobile().unwrap_or(d.general())]
                .into_iter()
                .chain(d.fixed_line())
                .chain(d.toll_free())
                .filter_map(|desc| desc.example());
            for example in examples {
                let national = format!("{}{example}", meta.national_prefix().unwrap_or(""));
                let mut cases = vec![
                    (region, example.to_owned()),
                    (region, national),
                    (None, format!("+{code}{example}")),
                    (None, format!("+{code}{example}9")),
                ];
                for &hint in &hints {
                    cases.push((Some(hint), format!("+{code}{example}")));
                    cases.push((Some(hint), format!("00{code}{example}")));
                    cases.push((Some(hint), format!("011{code}{example}")));
                    cases.push((Some(hint), format!("810{code}{example}")));
                    cases.push((Some(hint), format!("{code}{example}")));
                }
                for (hint, input) in cases {
                    assert_eq!(
                        ours(hint, &input),
                        reference(hint, &input),
                        "{input} with default region {hint:?}"
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 10_000, "only {checked} cases");
    }

    #[test]
    fn a_number_in_the_default_region_needs_only_that_regions_group() {
        let india: Id = "IN".parse().expect("a region id");
        let (number, valid) = parse(Some((india, 91)), "09876543210").expect("parses");
        assert!(valid);
        assert_eq!(super::super::e164(&number), "+919876543210");
        let built = PARTIAL.lock().expect("not poisoned");
        let regions = built
            .get(&(91, 0))
            .expect("built for India alone")
            .iter()
            .count();
        assert_eq!(regions, 1);
    }
}
