//! Sign-in and forms against an attacker: where `next` may lead, who login throttling slows,
//! and forms posted from another origin.

use borderdesk::clock::Clock;
use reqwest::header::{COOKIE, ORIGIN};

use crate::support::{Session, TestApp, hidden};

#[actix_web::test]
async fn after_login_next_leads_only_to_this_service() {
    let app = TestApp::spawn().await;
    let (user, password) = app.officer("window", "officer", &["border_tourism"]);
    let base = reqwest::Url::parse(&app.url("/")).unwrap();
    let long = format!("/{}", "a".repeat(5000));
    let tricks = [
        "//evil.example/",
        "/\\evil.example/",
        "/\t/evil.example/",
        "/%09/evil.example/",
        "https://evil.example/",
        "/%2F%2Fevil.example/",
        "javascript:alert(1)",
        "/\r\nLocation: https://evil.example/",
        "/\n/evil.example/",
        " //evil.example/",
        "/\u{3000}/evil.example/",
        "///evil.example/",
        long.as_str(),
    ];
    let mut c = Session::at(&app, [127, 0, 0, 1]);
    for next in tricks {
        let (status, _, location, _) = c.login(&user, &password, Some(next)).await;
        assert_eq!(status, 303, "{next:?}");
        let location = location.unwrap_or_default();
        // What the browser does with the Location header.
        let target = base.join(&location).unwrap();
        assert_eq!(target.origin(), base.origin(), "{next:?} led to {location:?}");
        assert!(location.len() < 2100, "{next:?}");
        // The login form carries the same rule in its hidden field.
        let (_, page, _) = c
            .get(&format!(
                "/login?{}",
                serde_urlencoded::to_string([("next", next)]).unwrap()
            ))
            .await;
        let kept = hidden(&page, "next");
        assert_eq!(
            base.join(&kept).unwrap().origin(),
            base.origin(),
            "{next:?} kept as {kept:?}"
        );
    }
    // A path of the service, with its query, is kept.
    let (_, _, location, _) = c.login(&user, &password, Some("/desk?kind=border_trade")).await;
    assert_eq!(location.as_deref(), Some("/desk?kind=border_trade"));
}

#[actix_web::test]
async fn a_guesser_elsewhere_does_not_lock_the_officer_out() {
    let app = TestApp::spawn().await;
    let (target, password) = app.officer("target", "officer", &["border_tourism"]);
    let mut guesser = Session::at(&app, [127, 0, 0, 1]);
    for i in 0..5 {
        assert_eq!(guesser.login(&target, &format!("guess-{i}"), Some("/")).await.0, 401);
    }
    assert_eq!(guesser.login(&target, "guess-6", Some("/")).await.0, 429);
    // The officer at the hall, another address, signs in at once.
    let mut officer = Session::at(&app, [127, 0, 0, 2]);
    assert_eq!(officer.login(&target, &password, Some("/")).await.0, 303);
    // And the guesser's wait doubles with each try after the free ones.
    let t0 = app.clock.now();
    app.clock.set(t0 + chrono::Duration::seconds(1));
    assert_eq!(guesser.login(&target, "guess-7", Some("/")).await.0, 401);
    app.clock.set(t0 + chrono::Duration::seconds(2));
    assert_eq!(guesser.login(&target, "guess-8", Some("/")).await.0, 429);
    app.clock.set(t0 + chrono::Duration::seconds(3));
    assert_eq!(guesser.login(&target, "guess-9", Some("/")).await.0, 401);
}

/// Every POST page route with its own body kind. The origin check runs before anything else,
/// so the ids need not exist.
const FORMS: [&str; 19] = [
    "/logout",
    "/desk/applications/x/receipt",
    "/desk/applications/x/unlock",
    "/checkpoint",
    "/admin/calendar",
    "/admin/calendar/remove",
    "/desk/applications",
    "/desk/applications/x/issue",
    "/desk/applications/x/step",
    "/desk/applications/x/portrait",
    "/desk/applications/x/portrait/save",
    "/desk/applications/x/notice/print",
    "/supervisor/seals",
    "/supervisor/seals/x/grant",
    "/supervisor/seals/grants/x/withdraw",
    "/supervisor/seals/x/retire",
    "/desk/permits/x/revoke",
    "/checkpoint/upload",
    "/login",
];

#[actix_web::test]
async fn forms_posted_from_another_origin_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    let (user, password) = app.officer("root", "admin", &[]);
    let mut c = Session::at(&app, [127, 0, 0, 1]);
    assert_eq!(c.login(&user, &password, Some("/")).await.0, 303);
    let csrf = c.csrf("/admin/calendar").await;
    let login_csrf = c.csrf("/login").await;
    let ours = app.url("");
    let audit = app.count("audit_log");
    let (http, cookie) = (c.http.clone(), c.jar.header());
    let post = |path: &'static str, headers: Vec<(&'static str, String)>| {
        let mut req = http.post(app.url(path)).header(COOKIE, cookie.clone());
        for (k, v) in headers {
            req = req.header(k, v);
        }
        let token = if path == "/login" {
            login_csrf.clone()
        } else {
            csrf.clone()
        };
        match path {
            "/checkpoint/upload" => req
                .header("X-CSRF-Token", token)
                .json(&serde_json::json!({"crossings": []})),
            "/desk/applications/x/portrait" => req.multipart(reqwest::multipart::Form::new().text("csrf", token)),
            _ => req.form(&[("csrf", token.as_str()), ("date", "2026-12-01"), ("username", "root")]),
        }
    };
    let foreign = [
        vec![("origin", "https://evil.example".to_string())],
        vec![("origin", "null".to_string())],
        // Same host, other port: another origin.
        vec![("origin", "http://127.0.0.1:1".to_string())],
        vec![("sec-fetch-site", "cross-site".to_string())],
        vec![("sec-fetch-site", "same-site".to_string())],
        vec![("origin", ours.clone()), ("sec-fetch-site", "cross-site".to_string())],
    ];
    for path in FORMS {
        for headers in &foreign {
            let res = post(path, headers.clone()).send().await.unwrap();
            let status = res.status().as_u16();
            let body = res.text().await.unwrap();
            assert_eq!(status, 403, "{path} {headers:?}");
            assert!(
                body.contains("form from another site refused"),
                "{path} {headers:?}: {body}"
            );
        }
    }
    assert_eq!(app.count("audit_log"), audit, "nothing changed");
    // Still signed in: the foreign logout did nothing.
    assert!(c.get("/admin/calendar").await.1.contains(&csrf));

    // Without Origin and Sec-Fetch-Site (curl, old browsers) the token alone decides; with our
    // own origin, or a navigation the user typed, the form goes through.
    let res = post("/admin/calendar", vec![]).send().await.unwrap();
    assert_ne!(res.status().as_u16(), 403, "no Origin: {}", res.text().await.unwrap());
    let res = post(
        "/admin/calendar",
        vec![("origin", ours.clone()), ("sec-fetch-site", "same-origin".into())],
    )
    .send()
    .await
    .unwrap();
    assert_ne!(res.status().as_u16(), 403, "same origin: {}", res.text().await.unwrap());
    // Chromium under `Referrer-Policy: no-referrer` sends `Origin: null` on our own forms.
    let res = post(
        "/admin/calendar",
        vec![("origin", "null".into()), ("sec-fetch-site", "same-origin".into())],
    )
    .send()
    .await
    .unwrap();
    assert_ne!(
        res.status().as_u16(),
        403,
        "null origin, same site: {}",
        res.text().await.unwrap()
    );
    // A wrong token is still refused whatever the headers say.
    let res = c
        .http
        .post(app.url("/admin/calendar"))
        .header(COOKIE, c.jar.header())
        .header(ORIGIN, ours)
        .form(&[("csrf", "wrong")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 403);
    assert!(res.text().await.unwrap().contains("form expired"));
    let res = post("/logout", vec![("sec-fetch-site", "none".into())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 303);
    assert!(!c.get("/admin/calendar").await.1.contains(&csrf), "signed out");
}

#[actix_web::test]
async fn behind_a_proxy_the_configured_public_origin_is_ours() {
    let app = TestApp::spawn_with(|s| s.public_origin = Some("https://desk.example.cn".into())).await;
    let (user, password) = app.officer("root", "admin", &[]);
    let mut c = Session::at(&app, [127, 0, 0, 1]);
    assert_eq!(c.login(&user, &password, Some("/")).await.0, 303);
    let csrf = c.csrf("/admin/calendar").await;
    let logout = |origin: String| {
        c.http
            .post(app.url("/logout"))
            .header(COOKIE, c.jar.header())
            .header(ORIGIN, origin)
            .form(&[("csrf", csrf.as_str())])
    };
    // The Host the proxy forwards is not what the officer's browser shows.
    assert_eq!(logout(app.url("")).send().await.unwrap().status().as_u16(), 403);
    let res = logout("https://desk.example.cn".into()).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 303);
}
