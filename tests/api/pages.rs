//! The officer's pages, driven as a browser would: log in, take an application (with mistakes,
//! then right), issue, print, revoke, log out.

use borderdesk::clock::Clock;
use reqwest::header::COOKIE;

use crate::support::{Session, TestApp, cn_id, hidden};

/// The desk's application form for 张伟, born 1990-03-07, with `fields` replacing or added to
/// those.
fn applicant<'a>(csrf: &'a str, kind: &'a str, fields: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![
        ("csrf", csrf),
        ("kind", kind),
        ("name_zh", "张伟"),
        ("name_latin", "ZHANG WEI"),
        ("nationality", "CHN"),
        ("sex", "M"),
        ("birth_date", "1990-03-07"),
        ("id_type", "cn_resident_id"),
    ];
    for (k, v) in fields {
        match form.iter_mut().find(|(f, _)| f == k) {
            Some(field) => field.1 = v,
            None => form.push((k, v)),
        }
    }
    form
}

#[actix_web::test]
async fn guessing_a_password_slows_the_guesser_with_backoff_not_the_hall() {
    let app = TestApp::spawn().await;
    let (target, password) = app.officer("target", "officer", &["border_tourism"]);
    let (colleague, colleague_pw) = app.officer("colleague", "officer", &["border_tourism"]);
    let mut b = Session::new(&app);
    for i in 0..5 {
        assert_eq!(
            b.login(&target, &format!("guess-{i}"), Some("/desk")).await.0,
            401,
            "try {i}"
        );
    }
    // Now each try waits: even the right password, or the guesser would learn it.
    let (status, page, _, _) = b.login(&target, &password, Some("/desk")).await;
    assert_eq!(status, 429);
    assert!(page.contains("too many attempts: try again in 1 seconds"), "{page}");
    let (status, page, _, _) = b.login(&target.to_uppercase(), &password, Some("/desk")).await;
    assert_eq!(status, 429, "the same user in capitals: {page}");
    // A colleague at the same address is not held up.
    assert_eq!(b.login(&colleague, &colleague_pw, Some("/desk")).await.0, 303);
    // After the wait the officer gets in, and that clears the failures.
    let t0 = app.clock.now();
    app.clock.set(t0 + chrono::Duration::seconds(1));
    assert_eq!(b.login(&target, &password, Some("/desk")).await.0, 303);
    for i in 0..5 {
        assert_eq!(
            b.login(&target, &format!("typo-{i}"), Some("/desk")).await.0,
            401,
            "typo {i}"
        );
    }
}

#[actix_web::test]
async fn login_is_required_checked_and_protected() {
    let app = TestApp::spawn().await;
    let (user, password) = app.officer("window", "officer", &["border_tourism"]);
    let mut b = Session::new(&app);
    let (status, _, location) = b.get("/desk").await;
    assert_eq!(status, 303);
    assert_eq!(location.as_deref(), Some("/login?next=%2Fdesk"));

    let (status, page, _, _) = b.login(&user, "wrong password", Some("/desk")).await;
    assert_eq!(status, 401);
    assert!(page.contains("wrong username or password"));

    // A login post without the form's token (a cross-site post) is refused.
    let mut stranger = Session::new(&app);
    let (status, _, _, _) = stranger
        .post("/login", &[("username", &user), ("password", &password)])
        .await;
    assert_eq!(status, 403);

    let (status, _, location, headers) = b.login(&user, &password, Some("/desk")).await;
    assert_eq!(status, 303);
    assert_eq!(location.as_deref(), Some("/desk"));
    let cookie = headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|c| c.starts_with("bd_session="))
        .unwrap()
        .to_string();
    for attribute in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
        assert!(cookie.contains(attribute), "{attribute} missing: {cookie}");
    }
    let (status, page, _) = b.get("/desk").await;
    assert_eq!(status, 200);
    assert!(page.contains("name=\"name_latin\""));

    // Disabling the officer ends the session at once.
    let now = app.clock.now();
    app.ctx
        .db
        .run_blocking(|c| borderdesk::service::accounts::set_disabled(c, now, &user, true))
        .unwrap();
    let (status, _, _) = b.get("/desk").await;
    assert_eq!(status, 303);
}

#[actix_web::test]
async fn an_officer_takes_issues_prints_and_a_supervisor_revokes() {
    let app = TestApp::spawn().await;
    let (user, password) = app.officer("window", "officer", &["border_tourism"]);
    let mut b = Session::signed_in(&app, &user, &password, Some("/desk")).await;
    let (_, desk, _) = b.get("/desk").await;
    let csrf = hidden(&desk, "csrf");

    // Without the CSRF token: refused, nothing taken.
    let (status, _, _, _) = b.post("/desk/applications", &[("kind", "border_tourism")]).await;
    assert_eq!(status, 403);

    // With mistakes: the form comes back with every message and the values typed.
    let (status, page, _, _) = b
        .post(
            "/desk/applications",
            &applicant(
                &csrf,
                "border_tourism",
                &[("id_number", "450681199003071231"), ("phone", "123")],
            ),
        )
        .await;
    assert_eq!(status, 422);
    assert!(page.contains("check character"), "ID check-character message shown");
    assert!(page.contains("international format"), "phone message shown");
    assert!(page.contains("value=\"ZHANG WEI\""), "typed values kept");
    assert_eq!(app.count("applications"), 0);

    let id_number = cn_id("19900307", 123);
    let (status, _, location, _) = b
        .post(
            "/desk/applications",
            &applicant(
                &csrf,
                "border_tourism",
                &[
                    ("name_latin", "zhang wei"),
                    ("id_number", &id_number),
                    ("phone", "+8613800000000"),
                ],
            ),
        )
        .await;
    assert_eq!(status, 303);
    let application_path = location.unwrap();
    let (status, page, _) = b.get(&application_path).await;
    assert_eq!(status, 200);
    assert!(!page.contains(&id_number), "full ID number on the page");
    let key = hidden(&page, "idempotency_key");

    let issue_path = format!("{application_path}/issue");
    let (status, _, location, _) = b.post(&issue_path, &[("csrf", &csrf), ("idempotency_key", &key)]).await;
    assert_eq!(status, 303);
    let permit_path = location.unwrap();
    // The same form sent again (double click, back button) lands on the same permit.
    let (status, _, again, _) = b.post(&issue_path, &[("csrf", &csrf), ("idempotency_key", &key)]).await;
    assert_eq!(status, 303);
    assert_eq!(again.as_deref(), Some(permit_path.as_str()));
    assert_eq!(app.count("permits"), 1);

    let (status, page, _) = b.get(&permit_path).await;
    assert_eq!(status, 200);
    let number = permit_path.rsplit('/').next().unwrap().to_string();
    assert!(page.contains(&number));
    assert!(page.contains(&format!("/api/v1/permits/{number}/pdf")));
    assert!(!page.contains("name=\"reason\""), "officers get no revoke form");

    // The print link works with the page session.
    let res = b.http_get(&format!("/api/v1/permits/{number}/pdf")).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/pdf");

    // The desk lists it, masked.
    let (_, desk, _) = b.get("/desk").await;
    assert!(desk.contains(&number));
    assert!(!desk.contains(&id_number));

    let (_, page, _) = b.get(&permit_path).await;
    let (status, _, location, _) = b.post("/logout", &[("csrf", &hidden(&page, "csrf"))]).await;
    assert_eq!((status, location.as_deref()), (303, Some("/login")));
    assert_eq!(b.get("/desk").await.0, 303);

    let (boss, boss_password) = app.officer("boss", "supervisor", &["border_tourism"]);
    let mut s = Session::signed_in(&app, &boss, &boss_password, Some("/desk")).await;
    let (_, page, _) = s.get(&permit_path).await;
    let csrf = hidden(&page, "csrf");
    let revoke_path = format!("{permit_path}/revoke");
    let (status, page, _, _) = s.post(&revoke_path, &[("csrf", &csrf), ("reason", "")]).await;
    assert_eq!(status, 422);
    assert!(page.contains("reason is required"));
    let (status, page, _, _) = s
        .post(&revoke_path, &[("csrf", &csrf), ("reason", "reported lost")])
        .await;
    assert_eq!(status, 200);
    assert!(page.contains("status-revoked"));
    assert!(page.contains("reported lost"));
}

#[actix_web::test]
async fn a_trade_pass_through_the_pages_with_deferred_items_sla_and_calendar() {
    let app = TestApp::spawn().await;
    let (li, li_pw) = app.officer("li", "officer", &["border_trade"]);
    let (wang, wang_pw) = app.officer("wang", "supervisor", &["border_trade"]);
    let (root, root_pw) = app.officer("root", "admin", &[]);
    let mut b = Session::signed_in(&app, &li, &li_pw, Some("/desk")).await;
    let (_, desk, _) = b.get("/desk").await;
    let csrf = hidden(&desk, "csrf");
    let id_number = cn_id("19900307", 123);
    let (status, page, _, _) = b
        .post(
            "/desk/applications",
            &applicant(
                &csrf,
                "border_trade",
                &[
                    ("id_number", &id_number),
                    ("credit_code", "91350100M000100Y44"),
                    ("plates", "桂A1234"),
                ],
            ),
        )
        .await;
    assert_eq!(status, 422);
    assert!(
        page.contains("GB 32100") && page.contains("12C-123.45"),
        "credit code and plate messages shown"
    );
    let (status, _, location, _) = b
        .post(
            "/desk/applications",
            &applicant(
                &csrf,
                "border_trade",
                &[
                    ("id_number", &id_number),
                    ("enterprise_name", "凭祥市友谊边贸有限公司"),
                    ("credit_code", "91350100M000100Y43"),
                    ("plates", "桂F12345, 12C-123.45"),
                    ("validity_option", "single_3m"),
                ],
            ),
        )
        .await;
    assert_eq!(status, 303);
    let path = location.unwrap();
    let step = format!("{path}/step");
    let (_, page, _) = b.get(&path).await;
    assert!(page.contains("name=\"m_portrait\""), "checklist offered");
    // Accept without the portrait (deferrable) → the notice link appears.
    let (status, _, _, _) = b
        .post(
            &step,
            &[
                ("csrf", &csrf),
                ("step", "accept"),
                ("m_application_form", "on"),
                ("m_resident_id", "on"),
                ("m_trade_proof", "on"),
                ("m_vehicle_licence", "on"),
            ],
        )
        .await;
    assert_eq!(status, 303);
    let (_, page, _) = b.get(&path).await;
    assert!(page.contains("/notice") && page.contains("待补交"), "{page}");
    // Four eyes: the accepting officer is not offered Approve, and is told who acts next.
    assert!(!page.contains("value=\"approve\""), "{page}");
    assert!(page.contains("may not approve"), "{page}");
    // Words, not codes.
    assert!(page.contains("已受理，待审批") && page.contains("三个月一次") && page.contains("居民身份证"));
    for code in [">accepted<", "cn_resident_id ", "single_3m", ">YYG<"] {
        assert!(!page.contains(code), "{code} shown: {page}");
    }
    let (status, notice, _) = b.get(&format!("{path}/notice")).await;
    assert_eq!(status, 200);
    assert!(
        notice.contains("一次性告知书") && notice.contains("证件照片") && notice.contains("Ảnh chân dung"),
        "{notice}"
    );
    // The same officer may not approve.
    let (status, page, _, _) = b.post(&step, &[("csrf", &csrf), ("step", "approve")]).await;
    assert_eq!(status, 403);
    assert!(page.contains("may not approve"));

    let mut s = Session::signed_in(&app, &wang, &wang_pw, Some("/desk")).await;
    let (_, page, _) = s.get(&path).await;
    assert!(page.contains("value=\"approve\""), "the supervisor may approve: {page}");
    let csrf_s = hidden(&page, "csrf");
    assert_eq!(s.post(&step, &[("csrf", &csrf_s), ("step", "approve")]).await.0, 303);
    let (_, page, _) = s.get(&path).await;
    let key = hidden(&page, "idempotency_key");
    let (status, _, permit_path, _) = s
        .post(
            &format!("{path}/issue"),
            &[("csrf", &csrf_s), ("idempotency_key", &key)],
        )
        .await;
    assert_eq!(status, 303);
    let (_, page, _) = s.get(permit_path.as_deref().unwrap()).await;
    assert!(page.contains("status-pending") && page.contains("12C-123.45"), "{page}");
    assert!(
        page.contains("证件照片") && !page.contains("portrait (due"),
        "items in words: {page}"
    );
    let (status, sla, _) = s.get("/supervisor/sla").await;
    assert_eq!(status, 200);
    assert!(sla.contains("Decided on time"));
    // The pending pass stays on the supervisors' view with its item's due date.
    let permit_number = permit_path.as_deref().unwrap().rsplit('/').next().unwrap().to_string();
    let pending = sla.split("Permits printed with items outstanding").nth(1).unwrap_or("");
    let pending = pending.split("Open applications").next().unwrap_or("");
    assert!(
        pending.contains(&permit_number) && pending.contains("证件照片"),
        "{sla}"
    );
    assert_eq!(
        b.get("/supervisor/sla").await.0,
        403,
        "officers do not see the SLA view"
    );

    // The portrait is taken (free) and uploaded from the application page: a file that is not
    // a photo is refused with the reason, and nothing changes.
    let portrait = format!("{path}/portrait");
    let (status, page, _) = b.upload(&portrait, &csrf, b"not a photo".to_vec()).await;
    assert_eq!(status, 422);
    assert!(page.contains("JPEG或PNG"), "{page}");
    assert!(page.contains("No photo yet"));
    // A photo over the limit: the form again, saying the limit in the officer's language
    // (was actix's bare "Payload error").
    let (status, page, _) = b.upload(&portrait, &csrf, vec![0x89; 13 * 1024 * 1024]).await;
    assert_eq!(status, 422, "{page}");
    assert!(
        page.contains("照片文件不超过12 MB") && page.contains("at most 12 MB"),
        "{page}"
    );
    assert!(page.contains("No photo yet"));
    // A readable photo is shown with its quality lines and crop box before it is saved.
    let (status, _, location) = b.upload(&portrait, &csrf, crate::support::photo_png()).await;
    assert_eq!((status, location.as_deref()), (303, Some(portrait.as_str())));
    let (status, adjust, _) = b.get(&portrait).await;
    assert_eq!(status, 200);
    for check in ["background", "exposure", "sharpness", "size"] {
        assert!(adjust.contains(&format!("data-check=\"{check}\"")), "{adjust}");
    }
    let (x, y, height) = (hidden(&adjust, "x"), hidden(&adjust, "y"), hidden(&adjust, "height"));
    let (status, _, location, _) = b
        .post(
            &format!("{portrait}/save"),
            &[
                ("csrf", csrf.as_str()),
                ("x", x.as_str()),
                ("y", y.as_str()),
                ("height", height.as_str()),
            ],
        )
        .await;
    assert_eq!((status, location.as_deref()), (303, Some(path.as_str())));
    // Saved: the working picture is gone, and its page leads back to the application.
    let (status, _, location) = b.get(&portrait).await;
    assert_eq!((status, location.as_deref()), (303, Some(path.as_str())));
    let (_, page, _) = b.get(&path).await;
    assert!(
        page.contains("all materials supplied"),
        "back in the queue with the reason"
    );
    let src = format!("/api/v1/applications/{}/portrait", path.rsplit('/').next().unwrap());
    assert!(page.contains(&format!("<img src=\"{src}\"")), "{page}");
    let res = b.http_get(&src).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    assert_eq!(res.headers()["cache-control"], "private, no-store");
    let shown = image::load_from_memory(&res.bytes().await.unwrap()).unwrap();
    assert_eq!((shown.width(), shown.height()), (330, 480), "cropped to 33×48");
    let (_, desk, _) = b.get("/desk").await;
    assert!(desk.contains(&path), "listed on the desk queue");
    // The last item arrived: the permit is valid and leaves the supervisors' watch.
    let (_, sla, _) = s.get("/supervisor/sla").await;
    assert!(!sla.contains(&permit_number), "{sla}");

    let mut a = Session::signed_in(&app, &root, &root_pw, Some("/desk")).await;
    let (status, page, _) = a.get("/admin/calendar?year=2026").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("2026-02-14") && page.contains("春节"),
        "published schedule listed"
    );
    let csrf_a = hidden(&page, "csrf");
    let holiday = |name| {
        [
            ("csrf", csrf_a.as_str()),
            ("date", "2026-12-24"),
            ("kind", "holiday"),
            ("name", name),
        ]
    };
    let (status, page, _, _) = a.post("/admin/calendar", &holiday("")).await;
    assert_eq!(status, 422);
    // The name field marked and its rule said beside it (every page contains "name").
    assert!(
        page.contains(r#"id="name-error""#) && page.contains("请填写名称，最多100字"),
        "{page}"
    );
    let (status, page, _, _) = a.post("/admin/calendar", &holiday("口岸闭关 port closed")).await;
    assert_eq!(status, 200);
    assert!(page.contains("2026-12-24"));
    assert_eq!(b.get("/admin/calendar").await.0, 403);
}

#[actix_web::test]
async fn the_scan_page_serves_its_script_and_takes_offline_crossings_with_its_token() {
    let app = TestApp::spawn().await;
    let (gate, pw) = app.officer("gate", "checkpoint", &[]);
    let officer = app.window();
    let code = app.issued_permit(&officer).await["code"].as_str().unwrap().to_string();
    let mut b = Session::new(&app);
    let (status, _, location, _) = b.login(&gate, &pw, Some("/desk")).await;
    assert_eq!(status, 303);
    let (status, _, location) = b.get(&location.unwrap()).await;
    assert_eq!(
        (status, location.as_deref()),
        (303, Some("/checkpoint")),
        "checkpoint staff land on the scan page"
    );
    let (_, page, _) = b.get("/checkpoint").await;
    assert!(page.contains("/static/checkpoint.js") && page.contains("id=\"scan-form\""));
    let js = app.client.get(app.url("/static/checkpoint.js")).send().await.unwrap();
    assert_eq!(js.headers()["content-type"], "application/javascript; charset=utf-8");
    assert!(js.text().await.unwrap().contains("crypto.subtle.verify"));

    let body = serde_json::json!({"crossings": [{"client_id": "c-1", "code": code, "lane": "H1", "direction": "exit", "at": "2026-11-26T10:00:00Z", "verdict": "admit", "reason": "ok"}]});
    let post = |token: Option<String>| {
        let mut req = app
            .client
            .post(app.url("/checkpoint/upload"))
            .header(COOKIE, b.jar.header())
            .json(&body);
        if let Some(t) = token {
            req = req.header("X-CSRF-Token", t);
        }
        req.send()
    };
    assert_eq!(post(None).await.unwrap().status(), 403, "no CSRF token, no upload");
    let csrf = hidden(&page, "csrf");
    let res = post(Some(csrf.clone())).await.unwrap();
    assert_eq!(res.status(), 200);
    let out: serde_json::Value = res.json().await.unwrap();
    assert_eq!(out["recorded"], 1);
    let out: serde_json::Value = post(Some(csrf)).await.unwrap().json().await.unwrap();
    assert_eq!(out["already"], 1);
    assert_eq!(app.count("crossings"), 1);
}

/// Logs in without a `next`, as an officer typing the address would, and follows `/`.
async fn land(app: &TestApp, user: &str, password: &str) -> String {
    let mut b = Session::new(app);
    // The form's own `next`, as the browser sends it.
    let (status, _, location, _) = b.login(user, password, None).await;
    assert_eq!(status, 303);
    assert_eq!(location.as_deref(), Some("/"));
    let (status, _, location) = b.get("/").await;
    assert_eq!(status, 303);
    let to = location.unwrap();
    // And the place landed on is a page the role can use.
    let (status, page, _) = b.get(&to).await;
    assert_eq!(status, 200, "{to}: {page}");
    assert!(!page.contains("You hold no grant"), "{to}");
    to
}

#[actix_web::test]
async fn each_role_lands_where_its_work_is() {
    let app = TestApp::spawn().await;
    let (o, opw) = app.officer("window", "officer", &["border_tourism"]);
    let (s, spw) = app.officer("boss", "supervisor", &[]);
    let (a, apw) = app.officer("root", "admin", &[]);
    let (c, cpw) = app.officer("gate", "checkpoint", &[]);
    assert_eq!(land(&app, &o, &opw).await, "/desk");
    assert_eq!(land(&app, &s, &spw).await, "/supervisor/sla");
    assert_eq!(land(&app, &a, &apw).await, "/admin/calendar");
    assert_eq!(land(&app, &c, &cpw).await, "/checkpoint");
    // A supervisor or admin sent to the desk without a kind to take goes to their own work.
    let mut b = Session::signed_in(&app, &a, &apw, Some("/desk")).await;
    let (status, _, location) = b.get("/desk").await;
    assert_eq!((status, location.as_deref()), (303, Some("/admin/calendar")));
    // Nor is the desk offered to them; the header names the office, not its code.
    let (_, page, _) = b.get("/admin/calendar").await;
    assert!(
        !page.contains("href=\"/desk\"") && !page.contains("href=\"/supervisor/sla\""),
        "{page}"
    );
    assert!(page.contains("友谊关口岸") && !page.contains("· YYG"), "{page}");
}

#[actix_web::test]
async fn the_desk_form_fills_from_the_id_names_fields_by_label_and_warns_of_an_open_application() {
    let app = TestApp::spawn().await;
    let (user, password) = app.officer("window", "officer", &["border_tourism"]);
    let mut b = Session::signed_in(&app, &user, &password, Some("/desk")).await;
    let (_, desk, _) = b.get("/desk").await;
    let csrf = hidden(&desk, "csrf");
    // A tourism officer sees no trade or passport fields, and the desk serves its script.
    for field in ["credit_code", "plates", "validity_option", "photo_ref", "fee_waived"] {
        assert!(!desk.contains(&format!("name=\"{field}\"")), "{field} offered");
    }
    assert!(desk.contains("/static/desk.js"));
    let js = app.client.get(app.url("/static/desk.js")).send().await.unwrap();
    assert_eq!(js.status(), 200);
    assert!(js.text().await.unwrap().contains("fromResidentId"));

    // A mistake: the summary names the field by its label and links to it; focus goes there.
    let (status, page, _, _) = b
        .post(
            "/desk/applications",
            &[
                ("csrf", &csrf),
                ("kind", "border_tourism"),
                ("name_zh", "张伟"),
                ("name_latin", "ZHANG WEI"),
                ("nationality", "CHN"),
                ("id_type", "cn_resident_id"),
                ("id_number", "450681199003071231"),
            ],
        )
        .await;
    assert_eq!(status, 422);
    assert!(page.contains("<a href=\"#id_number\">证件号码</a>"), "{page}");
    assert!(!page.contains("traveller.id_number"), "{page}");
    let input = page
        .split("<input id=\"id_number\"")
        .nth(1)
        .unwrap()
        .split('>')
        .next()
        .unwrap();
    assert!(
        input.contains("autofocus") && input.contains("aria-describedby=\"err-id_number"),
        "{input}"
    );

    // Birth date and sex left empty: taken from the number (1990-03-07, odd sequence: male).
    let id_number = cn_id("19900307", 123);
    let form = |confirm: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("kind", "border_tourism".to_string()),
            ("name_zh", "张伟".to_string()),
            ("name_latin", "ZHANG WEI".to_string()),
            ("nationality", "CHN".to_string()),
            ("sex", String::new()),
            ("birth_date", String::new()),
            ("id_type", "cn_resident_id".to_string()),
            ("id_number", id_number.clone()),
            ("confirm_duplicate", confirm.to_string()),
        ]
    };
    let first = form("");
    let first: Vec<(&str, &str)> = first.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, _, location, _) = b.post("/desk/applications", &first).await;
    assert_eq!(status, 303);
    let first_path = location.unwrap();
    let (_, page, _) = b.get(&first_path).await;
    assert!(page.contains("1990-03-07") && page.contains("男"), "{page}");

    // The same document again: a warning linking to the open one, nothing taken.
    let (status, page, _, _) = b.post("/desk/applications", &first).await;
    assert_eq!(status, 409);
    assert!(page.contains(&format!("href=\"{first_path}\"")), "{page}");
    assert!(page.contains("name=\"confirm_duplicate\""), "{page}");
    assert_eq!(app.count("applications"), 1);
    // Confirmed: taken.
    let again = form("yes");
    let again: Vec<(&str, &str)> = again.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(b.post("/desk/applications", &again).await.0, 303);
    assert_eq!(app.count("applications"), 2);

    // The API: 409 naming the open application unless confirmed.
    let token = app.token("api", "officer", &["border_tourism"]);
    let body = serde_json::json!({"kind": "border_tourism", "traveller": {
        "name_zh": "张伟", "name_latin": "ZHANG WEI", "nationality": "CHN",
        "id_type": "cn_resident_id", "id_number": id_number}});
    let res = app.post_json(&token, "/api/v1/applications", &body).await;
    assert_eq!(res.status(), 409);
    let problem: serde_json::Value = res.json().await.unwrap();
    let (_, number_page, _) = b.get(&first_path).await;
    let number = number_page
        .split("<span class=\"mono\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap();
    assert!(problem["detail"].as_str().unwrap().contains(number), "{problem}");
    assert_eq!(problem["current_state"], "submitted");
    let mut confirmed = body.clone();
    confirmed["confirm_duplicate"] = serde_json::json!(true);
    let res = app.post_json(&token, "/api/v1/applications", &confirmed).await;
    assert_eq!(res.status(), 201);
    let taken: serde_json::Value = res.json().await.unwrap();
    assert_eq!(taken["traveller"]["birth_date"], "1990-03-07");
    assert_eq!(taken["traveller"]["sex"], "M");
}
