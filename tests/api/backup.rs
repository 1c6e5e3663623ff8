//! The restore drill: issue and scan, back up while the service runs, keep working, lose it
//! all, restore into an empty data directory (or database), and check that everything up to the
//! backup is there, that no serial handed out after it is given again, and that a device holding
//! a trust version from the lost stretch gets a full bundle, never a delta built on it.

use borderdesk::clock::Clock;
use serde_json::json;

use crate::support::{TestApp, fresh_postgres, payload, scan, serial, traveller};

/// The ids a query lists, sorted (`SELECT x AS id …`).
fn ids(app: &TestApp, sql: &'static str) -> Vec<String> {
    #[derive(diesel::QueryableByName)]
    struct Id {
        #[diesel(sql_type = diesel::sql_types::Text)]
        id: String,
    }
    let mut out: Vec<String> = app
        .ctx
        .db
        .run_blocking(|c| Ok(diesel::RunQueryDsl::load::<Id>(diesel::sql_query(sql), c)?))
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    out.sort();
    out
}

#[actix_web::test]
async fn a_backup_taken_while_serving_restores_everything_up_to_it_and_nothing_is_given_twice() {
    let app = TestApp::spawn().await;
    let window = app.window();
    let gate = app.gate();
    let first = app.issued_permits(&window, 3).await;
    assert_eq!(
        scan(&app, &gate, first[0]["code"].as_str().unwrap(), "exit").await["verdict"],
        "admit"
    );
    let held = payload(&app.trust(&gate, None).await)["version"].as_i64().unwrap();

    // Backed up while the instance serves (its scan writer and pool hold connections).
    let backups = tempfile::tempdir().unwrap();
    let dest = backups.path().join("nightly");
    let taken = app.clock.now();
    let manifest = borderdesk::backup::backup(&app.ctx.db, &dest, taken, None).unwrap();
    let permits = ids(&app, "SELECT number AS id FROM permits");
    let crossings = ids(&app, "SELECT id FROM crossings");
    let audit = ids(&app, "SELECT id FROM audit_log");
    assert_eq!(
        (manifest.permits, manifest.crossings, manifest.audit_rows),
        (3, 1, audit.len() as i64)
    );
    assert!(
        !dest.join("kek").exists(),
        "the key-encryption key stays out unless asked for"
    );
    assert!(
        borderdesk::backup::backup(&app.ctx.db, &dest, taken, None).is_err(),
        "never over an earlier backup"
    );

    // Work goes on after the backup: two more permits are handed out, a trip, a device syncs.
    let lost = app.issued_permits(&window, 2).await;
    assert_eq!(serial(&lost[1]), 5);
    assert_eq!(
        scan(&app, &gate, lost[0]["code"].as_str().unwrap(), "exit").await["verdict"],
        "admit"
    );
    let lost_version = payload(&app.trust(&gate, None).await)["version"].as_i64().unwrap();
    assert!(lost_version > manifest.trust_version);

    // The hall's disk dies. The backup goes into an empty data directory (or a new database).
    let dir = tempfile::tempdir().unwrap();
    let url = app.database_url.as_ref().map(|_| fresh_postgres().unwrap());
    let target = url
        .clone()
        .unwrap_or_else(|| format!("sqlite:{}", dir.path().join("borderdesk.db").display()));
    let later = taken + chrono::Duration::hours(2);
    let restored = borderdesk::backup::restore(&dest, &target, dir.path(), &app.ctx.policy, later, 1000).unwrap();
    assert_eq!(restored.manifest, manifest);
    assert!(
        borderdesk::backup::restore(&dest, &target, dir.path(), &app.ctx.policy, later, 1000).is_err(),
        "never over a database"
    );
    let back = TestApp::start(dir, url, |_| {}).await;
    back.clock.set(later);

    // Everything up to the backup is there, and nothing after it.
    assert_eq!(ids(&back, "SELECT number AS id FROM permits"), permits);
    assert_eq!(ids(&back, "SELECT id FROM crossings"), crossings);
    let audit_back = ids(&back, "SELECT id FROM audit_log WHERE action <> 'database.restore'");
    assert_eq!(audit_back, audit);
    assert_eq!(back.count("restores"), 1);
    // The restored permits scan as they stood: the first is out, its entry is admitted.
    assert_eq!(
        scan(&back, &gate, first[0]["code"].as_str().unwrap(), "entry").await["verdict"],
        "admit"
    );
    assert_eq!(
        scan(&back, &gate, first[1]["code"].as_str().unwrap(), "exit").await["verdict"],
        "admit"
    );

    // Serials continue past the gap: the lost permits' numbers 4 and 5 are never given again.
    let next = back.issued_permit(&window).await;
    assert_eq!(serial(&next), 3 + 1000 + 1, "{next}");
    assert_eq!(
        next["key_id"], first[0]["key_id"],
        "the same keys sign (the same KEK opens them)"
    );

    // Devices: one holding a version from before the backup gets a delta; one holding a version
    // from the lost stretch gets a full bundle; versions only go up.
    let delta = payload(&back.trust(&gate, Some(held)).await);
    assert_eq!(delta["since"], json!(held), "{delta}");
    let full = payload(&back.trust(&gate, Some(lost_version)).await);
    assert_eq!(
        full["since"],
        serde_json::Value::Null,
        "a version the restore lost: full bundle"
    );
    assert!(full["version"].as_i64().unwrap() > lost_version);
    let application = back.application(&window, traveller(9)).await;
    assert!(!application.is_empty());
}

#[actix_web::test]
async fn a_backup_from_another_store_or_an_unfinished_one_is_refused() {
    let app = TestApp::spawn().await;
    let backups = tempfile::tempdir().unwrap();
    let dest = backups.path().join("b");
    borderdesk::backup::backup(&app.ctx.db, &dest, app.clock.now(), None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // The other backend than the one backed up.
    let other = match &app.database_url {
        Some(_) => format!("sqlite:{}", dir.path().join("borderdesk.db").display()),
        None => "postgres://nobody@127.0.0.1:1/none".to_string(),
    };
    let e = borderdesk::backup::restore(&dest, &other, dir.path(), &app.ctx.policy, app.clock.now(), 10)
        .unwrap_err()
        .to_string();
    assert!(e.contains("restore it where it came from"), "{e}");
    std::fs::remove_file(dest.join("manifest.json")).unwrap();
    let e = borderdesk::backup::restore(&dest, &other, dir.path(), &app.ctx.policy, app.clock.now(), 10)
        .unwrap_err()
        .to_string();
    assert!(e.contains("not a finished backup"), "{e}");
    assert!(!dir.path().join("borderdesk.db").exists(), "nothing written");
}
