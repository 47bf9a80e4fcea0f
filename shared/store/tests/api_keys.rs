//! API key authentication as a specification: what costs a database round trip, and how long
//! an instance remembers an answer.

use domain::secret::Secret;
use std::time::Duration;
use store::api_keys::{self, key_sha256};
use store::testing::TestDb;
use store::{Db, PoolSettings};

const KEY: &str = "le_test_cache_0123456789abcdef";

async fn arrange_key(test_db: &TestDb, key: &str) {
    let client = test_db.client().await;
    client
        .execute(
            "WITH ws AS (
                 INSERT INTO workspaces (slug, name)
                 VALUES ('ws-' || substr(md5(random()::text), 1, 12), 'Keys') RETURNING id
             )
             INSERT INTO api_keys (workspace_id, key_sha256, prefix)
             SELECT id, $1, 'le_test_' FROM ws",
            &[&key_sha256(key).to_vec()],
        )
        .await
        .expect("arrange a key");
}

async fn revoke(test_db: &TestDb, key: &str) {
    let client = test_db.client().await;
    client
        .execute(
            "UPDATE api_keys SET revoked_at = now() WHERE key_sha256 = $1",
            &[&key_sha256(key).to_vec()],
        )
        .await
        .expect("revoke the key");
}

/// A handle on a port nothing listens on: any round trip fails.
fn unreachable_db() -> Db {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("its address")
        .port();
    Db::new(&PoolSettings {
        url: format!("postgres://postgres@127.0.0.1:{port}/none?sslmode=disable&connect_timeout=1"),
        max_size: 1,
        root_cert_path: None,
    })
    .expect("a pool")
}

#[tokio::test]
async fn a_token_that_cannot_be_a_key_is_refused_without_a_round_trip() {
    let db = unreachable_db();

    for junk in [
        "x",
        "Bearer",
        "le_short",
        "a key with spaces in it",
        "ключ-0123456789abcdef",
    ] {
        let answer = api_keys::authenticate(&db, &Secret::new(junk)).await;
        assert!(matches!(answer, Ok(None)), "{junk:?}: {answer:?}");
    }
    let well_formed = api_keys::authenticate(&db, &Secret::new(KEY)).await;
    assert!(
        well_formed.is_err(),
        "a key of the right shape is looked up"
    );
}

#[tokio::test]
async fn a_cached_key_keeps_working_until_its_time_to_live_then_a_revocation_holds() {
    let test_db = TestDb::new().await;
    arrange_key(&test_db, KEY).await;
    let db = test_db
        .db()
        .clone()
        .with_key_cache(Duration::from_millis(400));
    let key = Secret::new(KEY);

    let first = api_keys::authenticate(&db, &key).await.expect("lookup");
    revoke(&test_db, KEY).await;
    let within = api_keys::authenticate(&db, &key).await.expect("cached");
    tokio::time::sleep(Duration::from_millis(450)).await;
    let after = api_keys::authenticate(&db, &key).await.expect("lookup");

    assert!(first.is_some(), "live before");
    assert_eq!(within, first, "remembered within the time to live");
    assert_eq!(after, None, "the revocation holds once the answer expired");
}

#[tokio::test]
async fn an_unknown_key_is_remembered_as_unknown_for_the_time_to_live() {
    let test_db = TestDb::new().await;
    let db = test_db
        .db()
        .clone()
        .with_key_cache(Duration::from_millis(400));
    let key = Secret::new(KEY);

    let before = api_keys::authenticate(&db, &key).await.expect("lookup");
    arrange_key(&test_db, KEY).await;
    let within = api_keys::authenticate(&db, &key).await.expect("cached");
    tokio::time::sleep(Duration::from_millis(450)).await;
    let after = api_keys::authenticate(&db, &key).await.expect("lookup");

    assert_eq!(before, None);
    assert_eq!(within, None, "a flood of one unknown key costs one lookup");
    assert!(
        after.is_some(),
        "a key issued meanwhile works once the answer expired"
    );
}

#[tokio::test]
async fn without_a_cache_a_revocation_holds_at_once() {
    let test_db = TestDb::new().await;
    arrange_key(&test_db, KEY).await;
    let key = Secret::new(KEY);

    let first = api_keys::authenticate(test_db.db(), &key)
        .await
        .expect("lookup");
    revoke(&test_db, KEY).await;
    let next = api_keys::authenticate(test_db.db(), &key)
        .await
        .expect("lookup");

    assert!(first.is_some());
    assert_eq!(next, None);
}
