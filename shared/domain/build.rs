//! Splits libphonenumber's metadata by calling code, so that a process loads only the regions
//! of the numbers it sees (`src/phone/metadata.rs` says why: the full load is most of a
//! webhook's cold start).
//!
//! The source is the `phonenumber` crate's own database, read back through its public
//! accessors into its serialisable loader form: the groups hold exactly the metadata the crate
//! ships, patterns verbatim. Written to `OUT_DIR`:
//! - `phone_groups.bin`: each calling code's regions as one postcard `Vec<loader::Metadata>`,
//!   main region first (the order `phonenumber` keeps for a code);
//! - `phone_index.rs`: `GROUPS` (calling code → byte range, sorted by code) and `REGIONS`
//!   (two-letter region → calling code, sorted by region).

// Build scripts talk to cargo on stdout.
#![allow(clippy::print_stdout)]

use phonenumber::metadata::{DATABASE, Descriptor, Format, Metadata, loader};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));

    // By code, not by region: the non-geographic entities (+800, +882, …) share the region id
    // "001", so the database's region index holds only one of them.
    let codes: Vec<u16> = (1..=999)
        .filter(|c| DATABASE.by_code(c).is_some())
        .collect();
    assert_prefix_free(codes.iter().copied());

    let mut blob = Vec::new();
    let mut index = String::from("static GROUPS: &[(u16, usize, usize)] = &[\n");
    let mut regions = BTreeMap::new();
    for &code in &codes {
        let group: Vec<loader::Metadata> = DATABASE
            .by_code(&code)
            .expect("every listed code has regions")
            .into_iter()
            .map(metadata)
            .collect();
        // Regions a default region can name: two letters, so not "001".
        for region in &group {
            let id = region.id.clone().expect("every region has an id");
            if id.len() == 2 {
                regions.insert(id, code);
            }
        }
        let bytes = postcard::to_allocvec(&group).expect("metadata serialises");
        writeln!(
            index,
            "    ({code}, {}, {}),",
            blob.len(),
            blob.len() + bytes.len()
        )
        .expect("writing to a String");
        blob.extend_from_slice(&bytes);
    }
    index.push_str("];\n\nstatic REGIONS: &[(&str, u16)] = &[\n");
    for (id, code) in &regions {
        writeln!(index, "    ({id:?}, {code}),").expect("writing to a String");
    }
    index.push_str("];\n");

    std::fs::write(out.join("phone_groups.bin"), blob).expect("OUT_DIR is writable");
    std::fs::write(out.join("phone_index.rs"), index).expect("OUT_DIR is writable");
}

/// Loading only the groups a number can belong to gives the same answer as the full database
/// only because no calling code is a prefix of another (E.164 assigns them that way); a
/// metadata update that broke this must fail the build, not change results.
fn assert_prefix_free(codes: impl Iterator<Item = u16> + Clone) {
    for a in codes.clone() {
        for b in codes.clone() {
            let (a, b) = (a.to_string(), b.to_string());
            assert!(
                a == b || !b.starts_with(&a),
                "calling code {a} is a prefix of {b}"
            );
        }
    }
}

fn metadata(m: &Metadata) -> loader::Metadata {
    let d = m.descriptors();
    loader::Metadata {
        general: Some(descriptor(d.general())),
        fixed_line: d.fixed_line().map(descriptor),
        mobile: d.mobile().map(descriptor),
        toll_free: d.toll_free().map(descriptor),
        premium_rate: d.premium_rate().map(descriptor),
        shared_cost: d.shared_cost().map(descriptor),
        personal_number: d.personal_number().map(descriptor),
        voip: d.voip().map(descriptor),
        pager: d.pager().map(descriptor),
        uan: d.uan().map(descriptor),
        emergency: d.emergency().map(descriptor),
        voicemail: d.voicemail().map(descriptor),
        short_code: d.short_code().map(descriptor),
        standard_rate: d.standard_rate().map(descriptor),
        carrier: d.carrier().map(descriptor),
        no_international: d.no_international().map(descriptor),
        id: Some(m.id().to_owned()),
        country_code: Some(m.country_code()),
        international_prefix: m.international_prefix().map(|r| r.as_str().to_owned()),
        preferred_international_prefix: m.preferred_international_prefix().map(str::to_owned),
        national_prefix: m.national_prefix().map(str::to_owned),
        preferred_extension_prefix: m.preferred_extension_prefix().map(str::to_owned),
        national_prefix_for_parsing: m
            .national_prefix_for_parsing()
            .map(|r| r.as_str().to_owned()),
        national_prefix_transform_rule: m.national_prefix_transform_rule().map(str::to_owned),
        formats: m.formats().iter().map(format).collect(),
        international_formats: m.international_formats().iter().map(format).collect(),
        main_country_for_code: m.is_main_country_for_code(),
        leading_digits: m.leading_digits().map(|r| r.as_str().to_owned()),
        mobile_number_portable: m.is_mobile_number_portable(),
        // Only the XML loader reads these; `Database::from` ignores them.
        defaults: loader::Defaults::default(),
    }
}

fn descriptor(d: &Descriptor) -> loader::Descriptor {
    loader::Descriptor {
        national_number: Some(d.national_number().as_str().to_owned()),
        possible_length: d.possible_length().to_vec(),
        possible_local_length: d.possible_local_length().to_vec(),
        example: d.example().map(str::to_owned),
    }
}

fn format(f: &Format) -> loader::Format {
    loader::Format {
        pattern: Some(f.pattern().as_str().to_owned()),
        format: Some(f.format().to_owned()),
        leading_digits: f
            .leading_digits()
            .iter()
            .map(|r| r.as_str().to_owned())
            .collect(),
        national_prefix_formatting_rule: f.national_prefix().map(str::to_owned),
        national_prefix_optional_when_formatting: f.is_national_prefix_optional(),
        domestic_carrier: f.domestic_carrier().map(str::to_owned),
    }
}
