//! Session limits as a specification: a pool built with [`SessionLimits`] runs every session
//! under its `statement_timeout` and `lock_timeout` from the first statement, and a statement cut
//! off by either is an error callers retry.

use std::time::Duration;
use store::testing::TestDb;
use store::{Db, PoolSettings, SessionLimits};

/// Short limits, so the tests wait fractions of a second rather than the production values.
const SHORT: SessionLimits = SessionLimits {
    statement_timeout: Duration::from_millis(300),
    lock_timeout: Duration::from_millis(100),
};

fn pool_with(test_db: &TestDb, limits: SessionLimits) -> Db {
    let settings = PoolSettings {
        url: test_db.url().to_owned(),
        max_size: 2,
        root_cert_path: None,
    };
    Db::with_session_limits(&settings, limits).expect("a pool")
}

#[tokio::test]
async fn every_session_starts_with_the_limits_it_was_built_with() {
    let test_db = TestDb::new().await;
    let db = pool_with(&test_db, SessionLimits::WEBHOOK);
    let client = db.client().await.expect("a connection");

    let row = client
        .query_one(
            "SELECT current_setting('statement_timeout'), current_setting('lock_timeout')",
            &[],
        )
        .await
        .expect("read the settings");

    assert_eq!(row.get::<_, String>(0), "5s");
    assert_eq!(row.get::<_, String>(1), "2s");
}

#[tokio::test]
async fn limits_given_in_the_url_are_kept_beside_them() {
    let test_db = TestDb::new().await;
    let separator = if test_db.url().contains('?') {
        '&'
    } else {
        '?'
    };
    let settings = PoolSettings {
        url: format!(
            "{}{separator}options=-c%20application_name%3Dfrom_url",
            test_db.url()
        ),
        max_size: 1,
        root_cert_path: None,
    };
    let db = Db::with_session_limits(&settings, SessionLimits::CONSUMER).expect("a pool");
    let client = db.client().await.expect("a connection");

    let row = client
        .query_one(
            "SELECT current_setting('application_name'), current_setting('statement_timeout')",
            &[],
        )
        .await
        .expect("read the settings");

    assert_eq!(row.get::<_, String>(0), "from_url");
    assert_eq!(row.get::<_, String>(1), "25s");
}

#[tokio::test]
async fn a_statement_over_the_statement_timeout_is_cancelled_and_retryable() {
    let test_db = TestDb::new().await;
    let db = pool_with(&test_db, SHORT);
    let client = db.client().await.expect("a connection");

    let error = client
        .query("SELECT pg_sleep(2)", &[])
        .await
        .map_err(store::StoreError::from)
        .expect_err("cut off by statement_timeout");

    assert_eq!(error_code(&error), Some("57014"), "query_canceled: {error}");
    assert!(error.is_transient(), "a cancelled statement is retried");
}

#[tokio::test]
async fn a_lock_wait_over_the_lock_timeout_fails_and_is_retryable() {
    let test_db = TestDb::new().await;
    let holder = test_db.client().await;
    holder
        .batch_execute("CREATE TABLE held (id int PRIMARY KEY); INSERT INTO held VALUES (1);")
        .await
        .expect("arrange a row");
    holder
        .batch_execute("BEGIN; SELECT * FROM held WHERE id = 1 FOR UPDATE;")
        .await
        .expect("hold its lock");
    let db = pool_with(&test_db, SHORT);
    let waiter = db.client().await.expect("a connection");

    let error = waiter
        .query("UPDATE held SET id = 2 WHERE id = 1", &[])
        .await
        .map_err(store::StoreError::from)
        .expect_err("cut off by lock_timeout");

    assert_eq!(
        error_code(&error),
        Some("55P03"),
        "lock_not_available: {error}"
    );
    assert!(error.is_transient(), "a lock wait cut off is retried");
    holder.batch_execute("ROLLBACK").await.expect("release");
}

fn error_code(error: &store::StoreError) -> Option<&str> {
    match error {
        store::StoreError::Database(err) => err.code().map(|code| code.code()),
        _ => None,
    }
}
