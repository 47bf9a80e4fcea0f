//! TLS to the database as a specification, against a real PostgreSQL serving a certificate of a
//! CA made for this test (with the `openssl` command line): `verify-full` (what a URL without
//! `sslmode` gets off this machine) checks the chain and the host name, `require` only encrypts,
//! a loopback URL without `sslmode` is libpq's `prefer`, and a verification that fails refuses
//! to connect.

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Command;
use store::cluster::Cluster;
use store::{Db, PoolSettings};

/// A CA, and a server certificate it signed for the name `localhost` only.
fn make_certificates(dir: &Path) {
    let run = |args: &[&str]| {
        let status = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("run openssl (scripts/test installs it)");
        assert!(
            status.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&status.stderr)
        );
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=Test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ]);
    std::fs::write(dir.join("san.ext"), "subjectAltName=DNS:localhost\n").expect("write ext");
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "san.ext",
        "-out",
        "server.crt",
    ]);
}

/// Copies the server's key pair into the cluster's data folder, owned by the server's user
/// with the permissions PostgreSQL insists on, and turns TLS on (a reload is enough).
async fn serve_tls(cluster: &Cluster, certificates: &Path, port: u16) {
    let data = cluster.data_dir();
    let owner = std::fs::metadata(data).expect("the data folder");
    for file in ["server.crt", "server.key"] {
        let target = data.join(file);
        std::fs::copy(certificates.join(file), &target).expect("copy into the data folder");
        std::os::unix::fs::chown(&target, Some(owner.uid()), Some(owner.gid())).expect("chown");
        std::fs::set_permissions(&target, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .expect("chmod");
    }
    let admin = store::pool::connect_once(
        &format!("postgres://postgres@127.0.0.1:{port}/postgres?sslmode=disable"),
        None,
    )
    .await
    .expect("an admin connection");
    // One statement per call: ALTER SYSTEM refuses to run in the implicit transaction of a
    // multi-statement query.
    for statement in [
        "ALTER SYSTEM SET ssl_cert_file = 'server.crt'",
        "ALTER SYSTEM SET ssl_key_file = 'server.key'",
        "ALTER SYSTEM SET ssl = on",
        "SELECT pg_reload_conf()",
    ] {
        admin.batch_execute(statement).await.expect(statement);
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
}

/// Connects through a pool built as the functions build it; Ok(true) when the session is
/// encrypted.
async fn connect(url: &str, root_cert: Option<&Path>) -> Result<bool, String> {
    let db = Db::new(&PoolSettings {
        url: url.to_owned(),
        max_size: 1,
        root_cert_path: root_cert.map(|p| p.display().to_string()),
    })
    .map_err(|e| e.to_string())?;
    let client = db.client().await.map_err(|e| format!("{e:?}"))?;
    let row = client
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .map_err(|e| e.to_string())?;
    Ok(row.get(0))
}

/// The test's own cluster and folder, stopped and removed however the test ends.
struct Scratch {
    dir: std::path::PathBuf,
    cluster: Cluster,
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = self.cluster.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test]
async fn tls_is_verified_unless_the_url_asks_only_for_encryption() {
    let dir = std::env::temp_dir().join(format!("lead-engine-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch folder");
    std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("let the server's user in");
    make_certificates(&dir);
    let scratch = Scratch {
        cluster: Cluster::new(dir.join("pgdata")).expect("PostgreSQL binaries"),
        dir,
    };
    let port = scratch
        .cluster
        .ensure_running()
        .expect("a private cluster")
        .port;
    serve_tls(&scratch.cluster, &scratch.dir, port).await;
    let scratch_dir = scratch.dir.clone();
    let ca = scratch_dir.join("ca.crt");
    let by_name = format!("postgres://postgres@localhost:{port}/postgres");
    let by_address = format!("postgres://postgres@127.0.0.1:{port}/postgres");

    // The server is on this machine, where a URL without sslmode means libpq's prefer; these
    // say verify-full, which is what a URL to any other host gets without one.
    let verify = |url: &str| format!("{url}?sslmode=verify-full");
    let verified = connect(&verify(&by_name), Some(&ca)).await;
    let unknown_issuer = connect(&verify(&by_name), None).await;
    let wrong_name = connect(&verify(&by_address), Some(&ca)).await;
    let local_default = connect(&by_address, None).await;
    let encrypt_only = connect(&format!("{by_address}?sslmode=require"), None).await;
    let plain = connect(&format!("{by_address}?sslmode=disable"), None).await;
    drop(scratch);

    assert_eq!(
        verified,
        Ok(true),
        "verify-full: verified against PGSSLROOTCERT"
    );
    assert!(
        unknown_issuer.is_err(),
        "a CA outside the public roots and no PGSSLROOTCERT is refused: {unknown_issuer:?}"
    );
    assert!(
        wrong_name.is_err(),
        "a certificate for another host name is refused: {wrong_name:?}"
    );
    assert_eq!(
        encrypt_only,
        Ok(true),
        "require encrypts without checking, as libpq"
    );
    assert_eq!(plain, Ok(false), "disable stays plain");
    assert_eq!(
        local_default,
        Ok(true),
        "no sslmode to a loopback host: prefer, encrypted when the server offers it"
    );
}
