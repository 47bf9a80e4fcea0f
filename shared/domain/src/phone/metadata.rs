//! libphonenumber's metadata, loaded one calling code at a time.
//!
//! `phonenumber`'s own database loads every region at the first parse: it checks the syntax of
//! each of their thousands of patterns with `regex-syntax`, about 90% of the 80-170 ms that load
//! takes on a 2-core machine. That was most of a webhook's cold first invocation (README, "Cold
//! start"). This module keeps the same metadata split by calling code (`build.rs`) and builds a
//! database holding only the groups a number can belong to: the default region's and the one
//! its leading digits name. Each such database is built once per process and kept, up to
//! [`MAX_PARTIAL`] of them; past that, and after any fallback, the process uses one full
//! database, as `phonenumber` itself would.
//!
//! The answer is the one the full database gives. The parser reads the default region's
//! metadata (present), strips an international prefix it finds there, then takes the calling
//! code at that point: calling codes are prefix-free (`build.rs` fails the build otherwise), so
//! only the true code can match there, and the group is either present, giving the same
//! answer, or absent, which the parser reports as an invalid country code. On that error a number
//! written with the default region's international prefix (`011 44 …` from the US) is read
//! again with the group named after the prefix; only what still fails (codes that do not exist)
//! falls back to the full database, built once on first need. A test checks the equivalence on
//! every example number of every region, written several ways.

use phonenumber::metadata::{Database, loader};
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, OnceLock, PoisonError};

include!(concat!(env!("OUT_DIR"), "/phone_index.rs"));

static GROUP_BYTES: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/phone_groups.bin"));

/// Partial databases a process keeps before it builds the full one instead. Each holds compiled
/// patterns of its own, so without a bound a process that sees many calling codes (or a flood of
/// made-up ones) would keep one database per pair; with it, it ends with one full database whose
/// pattern cache is bounded, as `phonenumber`'s own is.
const MAX_PARTIAL: usize = 16;

/// The process's metadata.
static METADATA: LazyLock<Metadata> = LazyLock::new(|| Metadata::new(MAX_PARTIAL));

/// The calling code of a region (`"IN"` → 91), or `None` when libphonenumber has no metadata for
/// it.
pub(super) fn calling_code(region: &str) -> Option<u16> {
    REGIONS
        .binary_search_by(|(id, _)| (*id).cmp(region))
        .ok()
        .map(|i| REGIONS[i].1)
}

/// Parses `input` (digits, with a leading `+` when international) and says whether the number
/// is valid, with the smallest database that gives the full database's answer.
pub(super) fn parse(
    region: Option<(phonenumber::country::Id, u16)>,
    input: &str,
) -> Option<(phonenumber::PhoneNumber, bool)> {
    METADATA.parse(region, input)
}

/// Partial databases by (default region's code, leading code; 0 where there is none), and the
/// full database once something needed it.
struct Metadata {
    partial: Mutex<HashMap<(u16, u16), Arc<Database>>>,
    full: OnceLock<Database>,
    max_partial: usize,
}

impl Metadata {
    fn new(max_partial: usize) -> Self {
        Self {
            partial: Mutex::default(),
            full: OnceLock::new(),
            max_partial,
        }
    }

    fn parse(
        &self,
        region: Option<(phonenumber::country::Id, u16)>,
        input: &str,
    ) -> Option<(phonenumber::PhoneNumber, bool)> {
        let id = region.map(|(id, _)| id);
        let region_code = region.map_or(0, |(_, code)| code);
        let mut partial = match self.full.get() {
            Some(_) => None,
            None => self.partial(region_code, leading_code(input)),
        };
        // At most twice: the groups the input's leading digits name, then, for a number written
        // with the default region's international prefix (`00 44…` in India), the group the
        // digits after that prefix name.
        for _ in 0..2 {
            let Some(database) = partial.take() else {
                break;
            };
            match phonenumber::parse_with(&database, id, input) {
                // The one answer a missing group can change.
                Err(phonenumber::ParseError::InvalidCountryCode) => {
                    let code = code_after_international_prefix(&database, region, input);
                    if code != 0 {
                        partial = self.partial(region_code, code);
                    }
                }
                parsed => {
                    let number = parsed.ok()?;
                    let valid = phonenumber::is_valid_with(&database, &number);
                    return Some((number, valid));
                }
            }
        }
        let full = self.full();
        let number = phonenumber::parse_with(full, id, input).ok()?;
        let valid = phonenumber::is_valid_with(full, &number);
        Some((number, valid))
    }

    /// The partial database for a pair, built on first use; `None` once the bound is reached.
    fn partial(&self, region_code: u16, leading_code: u16) -> Option<Arc<Database>> {
        let key = (region_code, leading_code);
        let mut built = self.partial.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(database) = built.get(&key) {
            return Some(database.clone());
        }
        if built.len() >= self.max_partial {
            return None;
        }
        let mut codes = vec![region_code, leading_code];
        codes.retain(|&c| c != 0);
        codes.dedup();
        let database = Arc::new(database(codes.into_iter()));
        built.insert(key, database.clone());
        Some(database)
    }

    /// Every group; from then on every parse uses it, and the partial databases are dropped
    /// once, when it is built (not on each call: no parse takes the lock after that).
    fn full(&self) -> &Database {
        self.full.get_or_init(|| {
            let full = database(GROUPS.iter().map(|g| g.0));
            self.partial
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clear();
            full
        })
    }
}

/// The calling code that starts `+digits`, if one does; 0 otherwise.
fn leading_code(input: &str) -> u16 {
    input.strip_prefix('+').map_or(0, code_at_start)
}

/// The calling code the digits start with, if one does; 0 otherwise.
fn code_at_start(digits: &str) -> u16 {
    (1..=3)
        .filter_map(|len| digits.get(..len)?.parse::<u16>().ok())
        .find(|code| GROUPS.binary_search_by_key(code, |g| g.0).is_ok())
        .unwrap_or(0)
}

/// The calling code named right after the default region's international prefix (`0044…` read
/// in India, whose prefix is `00`, names 44), or 0 when the input does not start with that
/// prefix. Which group to load is all this decides: the parser still reads the number, so a
/// wrong guess can only end in the same invalid-country-code answer, and the full database.
fn code_after_international_prefix(
    database: &Database,
    region: Option<(phonenumber::country::Id, u16)>,
    input: &str,
) -> u16 {
    let Some((id, _)) = region else {
        return 0;
    };
    if input.starts_with('+') {
        return 0;
    }
    let prefix = database
        .by_id(id.as_ref())
        .and_then(|meta| meta.international_prefix());
    match prefix.and_then(|prefix| prefix.find(input)) {
        Some(found) if found.start() == 0 => code_at_start(&input[found.end()..]),
        _ => 0,
    }
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

    fn ours(metadata: &Metadata, region: Option<Id>, input: &str) -> Option<(String, bool)> {
        let region = region.map(|id| (id, calling_code(id.as_ref()).expect("a known region")));
        let (number, valid) = metadata.parse(region, input)?;
        Some((super::super::e164(&number), valid))
    }

    fn india() -> Option<(Id, u16)> {
        Some(("IN".parse().expect("a region id"), 91))
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
        // No bound: every case goes through a partial database unless it must fall back.
        let metadata = Metadata::new(usize::MAX);
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
                        ours(&metadata, hint, &input),
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
        let metadata = Metadata::new(MAX_PARTIAL);
        let (number, valid) = metadata.parse(india(), "09876543210").expect("parses");
        assert!(valid);
        assert_eq!(super::super::e164(&number), "+919876543210");

        let built = metadata.partial.lock().expect("not poisoned");
        let regions = built
            .get(&(91, 0))
            .expect("built for India alone")
            .iter()
            .count();
        assert_eq!(regions, 1);
        assert!(
            metadata.full.get().is_none(),
            "the full database was never needed"
        );
    }

    #[test]
    fn a_number_written_with_an_international_prefix_loads_the_group_after_it() {
        let metadata = Metadata::new(MAX_PARTIAL);
        // India dials abroad with 00: the UK's group is loaded next to India's.
        let (number, valid) = metadata.parse(india(), "00442079460958").expect("parses");
        assert!(valid);
        assert_eq!(super::super::e164(&number), "+442079460958");
        assert!(
            metadata.full.get().is_none(),
            "the full database was never needed"
        );
        let built = metadata.partial.lock().expect("not poisoned");
        let mut regions: Vec<&str> = built
            .get(&(91, 44))
            .expect("built for India and +44")
            .iter()
            .map(|meta| meta.id())
            .collect();
        regions.sort_unstable();
        assert!(
            regions.contains(&"GB") && regions.contains(&"IN"),
            "{regions:?}"
        );
    }

    #[test]
    fn a_calling_code_that_does_not_exist_falls_back_to_the_full_database() {
        let metadata = Metadata::new(MAX_PARTIAL);
        assert_eq!(metadata.parse(india(), "+9991234567890"), None);
        assert!(metadata.full.get().is_some());
        assert!(metadata.partial.lock().expect("not poisoned").is_empty());
    }

    #[test]
    fn past_the_bound_every_parse_uses_one_full_database() {
        let metadata = Metadata::new(2);
        for input in ["+442079460958", "+33142685300", "+4930901820"] {
            let (_, valid) = metadata.parse(india(), input).expect("parses");
            assert!(valid, "{input}");
        }
        assert!(
            metadata.full.get().is_some(),
            "the third pair built the full database"
        );
        assert!(metadata.partial.lock().expect("not poisoned").is_empty());

        let (number, _) = metadata.parse(india(), "+442079460958").expect("parses");
        assert_eq!(super::super::e164(&number), "+442079460958");
        assert!(metadata.partial.lock().expect("not poisoned").is_empty());
    }
}
