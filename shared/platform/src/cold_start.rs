//! Work a function starts at the top of its init, so that it overlaps the rest of the cold start.

/// Starts loading phonenumber's metadata for every region on a thread of its own. The first
/// phone number parsed pays for it (140-170 ms on a 2-core x86_64 machine, most of a webhook's
/// cold first invocation: README, "Cold start"); started at the top of init, it runs alongside
/// init and the first request's database round trips instead of after them. Logs how long it
/// took at debug level (`COLD_START_TRACE=platform=debug` in the cold-start bench shows it).
pub fn preload_phone_metadata() {
    std::thread::spawn(|| {
        let started = std::time::Instant::now();
        let parsed = domain::phone::PhoneNumber::parse("+1 202 555 0143", "US");
        tracing::debug!(
            elapsed_ms = started.elapsed().as_secs_f64() * 1e3,
            parsed = parsed.is_ok(),
            "phone metadata loaded"
        );
    });
}
