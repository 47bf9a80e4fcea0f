//! The statement cache switch (`DATABASE_STATEMENT_CACHE`): off, the hot statements leave
//! nothing on the server connection (what a transaction-mode pooler needs); on, each is prepared
//! once per connection and reused. One test, because the switch is per process.

use domain::secret::Secret;
use store::testing::TestDb;
use store::{Db, PoolSettings};

async fn prepared_on_the_connection(db: &Db) -> i64 {
    let client = db.client().await.expect("the pool's one connection");
    // Unnamed itself, so it does not count itself.
    client
        .query_typed_one(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%api_keys%'",
            &[],
        )
        .await
        .expect("read the session's prepared statements")
        .get(0)
}

#[tokio::test]
async fn the_hot_statements_are_prepared_once_per_connection_only_when_the_cache_is_on() {
    let test_db = TestDb::new().await;
    // One connection, so every call below runs on the same session.
    let db = Db::new(&PoolSettings {
        url: test_db.url().to_owned(),
        max_size: 1,
        root_cert_path: None,
    })
    .expect("a pool");
    let key = Secret::new("le_test_statement_cache_0123");

    store::pool::set_statement_cache(false);
    for _ in 0..2 {
        store::api_keys::authenticate(&db, &key)
            .await
            .expect("lookup");
    }
    let unnamed = prepared_on_the_connection(&db).await;

    store::pool::set_statement_cache(true);
    for _ in 0..3 {
        store::api_keys::authenticate(&db, &key)
            .await
            .expect("lookup");
    }
    let cached = prepared_on_the_connection(&db).await;
    store::pool::set_statement_cache(false);

    assert_eq!(unnamed, 0, "off: nothing named is left on the connection");
    assert_eq!(cached, 1, "on: prepared once, then reused");
}
