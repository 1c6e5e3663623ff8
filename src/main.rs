//! The `borderdesk` command line: serve, migrate, and administer officers, tokens and keys.

use std::io::Read;
use std::process::ExitCode;
use std::sync::Arc;

use borderdesk::clock::{Clock, SystemClock};
use borderdesk::config::Settings;
use borderdesk::service::accounts;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "borderdesk",
    version,
    about = "Permit processing for the Pingxiang service hall and the Youyiguan one-window office"
)]
struct Cli {
    #[command(flatten)]
    settings: Settings,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP service (migrates the database first).
    Serve {
        /// Seed demo officers and print their credentials (never without this flag).
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Copy the database into a new directory while the service runs (SQLite: a snapshot by
    /// VACUUM INTO; PostgreSQL: pg_dump on one snapshot), with a manifest. The signing keys are
    /// in it, sealed; the key-encryption key only with --with-kek.
    Backup {
        /// A new, empty directory.
        dest: std::path::PathBuf,
        /// Put the key-encryption key beside the data (whoever holds both can sign permits):
        /// for an office that keeps its only copy of the KEK in the data directory.
        #[arg(long)]
        with_kek: bool,
    },
    /// Bring a backup back into an empty data directory or an empty PostgreSQL database (stop
    /// every instance first). Serials move on by --serial-gap and trust versions past a gap, so
    /// nothing handed out after the backup is given again.
    Restore {
        /// The backup's directory.
        src: std::path::PathBuf,
        /// How far each serial series moves on: more than the permits (or a day's applications)
        /// that can have been issued between the backup and the failure.
        #[arg(long, default_value_t = 1000)]
        serial_gap: i64,
    },
    /// Manage officer accounts.
    #[command(subcommand)]
    Officer(OfficerCommand),
    /// Manage API tokens for scripts and checkpoint devices.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manage the permit-signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Verify scanned codes offline from a trust bundle (a handheld with no link to the hall).
    /// Codes come as arguments or, one per line, on standard input. With --queue, each decision
    /// is added to a file in the body format of POST /api/v1/checkpoint/crossings, to upload
    /// when the link is back.
    Verify {
        /// Signed bundles from GET /api/v1/checkpoint/trust, oldest first: a full one (unless
        /// --state holds the device's data), then deltas fetched with ?since=<version held>.
        #[arg(long)]
        bundle: Vec<std::path::PathBuf>,
        /// The device's own trust data: read if it exists, bundles merged into it, this run's
        /// admitted crossings noted, and written back.
        #[arg(long)]
        state: Option<std::path::PathBuf>,
        /// Keys installed on the device (the JSON of GET /api/v1/keys) that sign bundles.
        #[arg(long)]
        anchor: std::path::PathBuf,
        #[arg(long)]
        queue: Option<std::path::PathBuf>,
        #[arg(long, default_value = "handheld")]
        lane: String,
        /// exit or entry.
        #[arg(long, default_value = "exit")]
        direction: String,
        codes: Vec<String>,
    },
}

#[derive(Subcommand)]
enum OfficerCommand {
    /// Add an officer; the password is read from standard input.
    Add {
        #[arg(long)]
        username: String,
        /// officer, supervisor, checkpoint or admin.
        #[arg(long)]
        role: String,
        /// Business kinds the officer may handle: border_tourism, border_trade, passport.
        #[arg(long = "grant")]
        grants: Vec<String>,
        /// Office code from the policy (YYG = Youyiguan, PXH = Pingxiang hall).
        #[arg(long, default_value = "YYG")]
        office: String,
        #[arg(long)]
        display_name: Option<String>,
        /// Read the password from standard input (required: passwords never go on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Disable an officer: their sessions end and their tokens stop working at once.
    Disable { username: String },
    /// Enable a disabled officer again.
    Enable { username: String },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create an API token and print it (shown once).
    Create {
        #[arg(long)]
        username: String,
        #[arg(long, default_value = "cli")]
        label: String,
    },
    /// Revoke a token by its id.
    Revoke { id: String },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Create the signing key if there is none, and print the active key id.
    Init,
    /// Add a key and sign new permits with it; the old key keeps verifying what it signed.
    /// Every running instance on the database uses it from its next permit, without a restart.
    Rotate {
        /// Permit kinds the new key may sign (default: all).
        #[arg(long = "kind")]
        kinds: Vec<String>,
    },
    /// Remove a (compromised) key: every permit it signed fails verification at once, on every
    /// instance.
    Remove { kid: String },
    /// List the keys: id, active or removed, the kinds each may sign, and its validity.
    List,
    /// Seal every stored secret again under the key-encryption key (BORDERDESK_KEK_FILE), after
    /// every instance runs with the new one and the old one as BORDERDESK_KEK_PREVIOUS_FILE.
    Rekey,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_env("BORDERDESK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Logs on stderr: stdout is what a command answers (a token, a verdict), for scripts.
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let json = cli.settings.log_format == borderdesk::config::LogFormat::Json;
    if json {
        // One JSON object per line, the request's span (its id) on each line logged inside it.
        logs.json().with_current_span(true).with_span_list(false).init();
    } else {
        logs.init();
    }
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        // A log collector parsing JSON lines would choke on a plain one: the fatal error is
        // logged as the rest are.
        Err(e) if json => {
            tracing::error!(error = %e, "stopped");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> borderdesk::error::Result<()> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let settings = cli.settings;
    match cli.command {
        Command::Serve { demo } => {
            let ctx = borderdesk::app::context(&settings, clock)?;
            if demo {
                seed_demo(&ctx)?;
            }
            actix_web::rt::System::new().block_on(async move {
                let running = borderdesk::app::start(&settings, ctx)?;
                // Where it listens, on stdout for whoever started it (the port of a `:0` bind). In
                // JSON mode as a JSON object: a log collector reading both streams gets no plain line.
                let url = format!("http://{}", running.addr);
                if settings.log_format == borderdesk::config::LogFormat::Json {
                    println!("{}", serde_json::json!({"listening": url}));
                } else {
                    println!("borderdesk listening on {url}");
                }
                running.server.await.map_err(borderdesk::error::Error::internal)
            })
        }
        Command::Backup { dest, with_kek } => {
            let url = settings.database_url();
            if let Ok(target) = borderdesk::db::Target::parse(&url)
                && target.backend == borderdesk::db::Backend::Sqlite
                && !std::path::Path::new(&target.location).exists()
            {
                return Err(borderdesk::error::Error::Config(format!(
                    "no database at {}: check BORDERDESK_DATA_DIR",
                    target.location
                )));
            }
            let db = borderdesk::db::Db::connect(&url, 1)?;
            let kek = if with_kek {
                let (kek, _) = borderdesk::keys::Kek::from_settings(
                    settings.kek.as_deref(),
                    settings.kek_file.as_deref(),
                    &settings.data_dir,
                )?;
                Some(kek.hex())
            } else {
                None
            };
            let m = borderdesk::backup::backup(&db, &dest, clock.now(), kek.as_deref())?;
            println!(
                "backed up to {}: {} permits, {} crossings, {} audit rows, trust version {}, schema {}; keys sealed with key-encryption key {}{}",
                dest.display(),
                m.permits,
                m.crossings,
                m.audit_rows,
                m.trust_version,
                m.schema,
                m.kek_id,
                if m.with_kek {
                    " (included: keep this backup locked away)"
                } else {
                    " (not included: keep it safe apart from the backups)"
                }
            );
            Ok(())
        }
        Command::Restore { src, serial_gap } => {
            let policy = settings.load_policy()?;
            let r = borderdesk::backup::restore(
                &src,
                &settings.database_url(),
                &settings.data_dir,
                &policy,
                clock.now(),
                serial_gap,
            )?;
            println!(
                "restored the backup of {}: {} permits, {} crossings, {} audit rows; every serial moved on by {}; trust versions {}–{} skipped (devices holding one get a full bundle){}. Start the instances.",
                r.manifest.taken_at.format("%Y-%m-%d %H:%M:%S UTC"),
                r.manifest.permits,
                r.manifest.crossings,
                r.manifest.audit_rows,
                r.serial_gap,
                r.trust_gap.0,
                r.trust_gap.1,
                if r.kek_restored {
                    "; the backup's key-encryption key put in the data directory"
                } else {
                    ""
                }
            );
            Ok(())
        }
        Command::Migrate => {
            borderdesk::app::context(&settings, clock)?;
            println!("database is up to date");
            Ok(())
        }
        Command::Officer(cmd) => {
            let ctx = borderdesk::app::context(&settings, clock)?;
            let now = ctx.clock.now();
            match cmd {
                OfficerCommand::Add {
                    username,
                    role,
                    grants,
                    office,
                    display_name,
                    password_stdin: _,
                } => {
                    let mut password = String::new();
                    std::io::stdin()
                        .read_to_string(&mut password)
                        .map_err(borderdesk::error::Error::internal)?;
                    let password = password.trim_end_matches(['\r', '\n']).to_string();
                    let new = accounts::NewOfficer {
                        username,
                        display_name,
                        role,
                        grants,
                        office,
                        password,
                    };
                    let row = ctx
                        .db
                        .run_blocking(|c| accounts::add_officer(c, now, &ctx.policy, new))
                        .map_err(describe)?;
                    println!(
                        "added {} ({}; grants: {})",
                        row.username,
                        row.role.as_str(),
                        if row.grants.0.is_empty() {
                            "none".to_string()
                        } else {
                            row.grants.text()
                        }
                    );
                }
                OfficerCommand::Disable { username } => {
                    ctx.db
                        .run_blocking(|c| accounts::set_disabled(c, now, &username, true))?;
                    println!("disabled {username}; their sessions are ended");
                }
                OfficerCommand::Enable { username } => {
                    ctx.db
                        .run_blocking(|c| accounts::set_disabled(c, now, &username, false))?;
                    println!("enabled {username}");
                }
            }
            Ok(())
        }
        Command::Token(cmd) => {
            let ctx = borderdesk::app::context(&settings, clock)?;
            let now = ctx.clock.now();
            match cmd {
                TokenCommand::Create { username, label } => {
                    let (id, secret) = ctx
                        .db
                        .run_blocking(|c| accounts::create_token(c, now, &username, &label))?;
                    eprintln!("token id {id} (use it to revoke); the token is shown once:");
                    println!("{secret}");
                }
                TokenCommand::Revoke { id } => {
                    ctx.db.run_blocking(|c| accounts::revoke_token(c, now, &id))?;
                    println!("revoked {id}");
                }
            }
            Ok(())
        }
        Command::Verify {
            bundle,
            state,
            anchor,
            queue,
            lane,
            direction,
            codes,
        } => verify(
            &bundle,
            state.as_deref(),
            &anchor,
            queue.as_deref(),
            &lane,
            &direction,
            codes,
        ),
        Command::Keys(cmd) => {
            let ctx = borderdesk::app::context(&settings, clock)?;
            let now = ctx.clock.now();
            let keys = ctx.keys.clone();
            match cmd {
                KeysCommand::Rotate { kinds } => {
                    let mut parsed = Vec::new();
                    for k in &kinds {
                        parsed.push(borderdesk::domain::permit::PermitKind::parse(k).ok_or_else(|| {
                            borderdesk::error::Error::Config(format!(
                                "unknown kind {k:?}: border_tourism, border_trade or passport"
                            ))
                        })?);
                    }
                    let (old, new) = ctx.db.run_blocking(|c| {
                        borderdesk::keys::rotate(c, keys.kek(), &parsed, now, settings.key_lifetime_days)
                    })?;
                    println!("signing with {new} now, on every instance; {old} stays to verify the permits it signed");
                }
                KeysCommand::Remove { kid } => {
                    ctx.db.run_blocking(|c| borderdesk::keys::remove(c, &kid, now))?;
                    println!("removed {kid}: permits it signed fail verification now, on every instance");
                }
                KeysCommand::List => {
                    println!("key-encryption key {}", keys.kek().id());
                    for k in ctx.db.run_blocking(borderdesk::keys::list)? {
                        let state = if k.removed {
                            "removed"
                        } else if k.active {
                            "active"
                        } else if k.meta.not_after < now {
                            "ended"
                        } else {
                            "retired"
                        };
                        let kinds: Vec<&str> = k.meta.kinds.iter().map(|k| k.as_str()).collect();
                        println!(
                            "{} {:<7} {} … {} ({} days left) {}",
                            k.kid,
                            state,
                            k.meta.not_before.format("%Y-%m-%d"),
                            k.meta.not_after.format("%Y-%m-%d"),
                            (k.meta.not_after - now).num_days().max(0),
                            kinds.join(",")
                        );
                    }
                }
                KeysCommand::Rekey => {
                    let n = ctx.db.run_blocking(|c| borderdesk::keys::rekey(c, keys.kek(), now))?;
                    println!(
                        "{n} secrets sealed again under key-encryption key {}; nothing needs {} any more: remove BORDERDESK_KEK_PREVIOUS_FILE and destroy that key",
                        keys.kek().id(),
                        keys.kek().previous_id().unwrap_or("the previous one")
                    );
                }
                KeysCommand::Init => {
                    // Opening the context made the key if there was none.
                    println!("signing key {}", keys.cached().active_id());
                }
            }
            Ok(())
        }
    }
}

/// Validation errors from the CLI read better one per line.
fn describe(e: borderdesk::error::Error) -> borderdesk::error::Error {
    match e {
        borderdesk::error::Error::Domain(borderdesk::domain::DomainError::Validation(errs)) => {
            borderdesk::error::Error::Config(
                errs.0
                    .iter()
                    .map(|e| format!("{}: {} ({})", e.field, e.message, e.rule))
                    .collect::<Vec<_>>()
                    .join("\n       "),
            )
        }
        other => other,
    }
}

/// Demo officers with fresh random passwords, printed once; re-running resets them.
fn seed_demo(ctx: &borderdesk::service::Ctx) -> borderdesk::error::Result<()> {
    let now = ctx.clock.now();
    let all = vec![
        "border_tourism".to_string(),
        "border_trade".to_string(),
        "passport".to_string(),
    ];
    // Offices are scoped: the Pingxiang hall's officer shows that one office does not see
    // another's applications.
    let demo = [
        ("officer", "officer", all.clone(), "窗口民警 Window officer", "YYG"),
        ("supervisor", "supervisor", all.clone(), "值班领导 Supervisor", "YYG"),
        ("checkpoint", "checkpoint", vec![], "边检 Checkpoint", "YYG"),
        ("admin", "admin", vec![], "管理员 Admin", "YYG"),
        (
            "pxh-officer",
            "officer",
            all,
            "凭祥窗口民警 Pingxiang window officer",
            "PXH",
        ),
        (
            "pxh-supervisor",
            "supervisor",
            vec![],
            "凭祥值班领导 Pingxiang supervisor",
            "PXH",
        ),
    ];
    println!("\nDemo officers (office YYG; pxh-* at PXH) — passwords are new on every --demo start:");
    for (username, role, grants, name, office) in demo {
        let password = accounts::random_secret("")?.chars().take(16).collect::<String>();
        let exists = ctx.db.run_blocking(|c| Ok(accounts::find_officer(c, username).ok()))?;
        match exists {
            Some(row) => {
                ctx.db
                    .run_blocking(|c| accounts::set_password(c, now, &row.username, &password))?;
                ctx.db
                    .run_blocking(|c| accounts::set_disabled(c, now, &row.username, false))?;
            }
            None => {
                let new = accounts::NewOfficer {
                    username: username.into(),
                    display_name: Some(name.into()),
                    role: role.into(),
                    grants,
                    office: office.into(),
                    password: password.clone(),
                };
                ctx.db
                    .run_blocking(|c| accounts::add_officer(c, now, &ctx.policy, new))?;
            }
        }
        println!("  {username:<14} {password}");
    }
    // A box of blank cards in each office's drawer, so printing works from the first start.
    for (supervisor, first) in [("supervisor", 1), ("pxh-supervisor", 10_000_001)] {
        let actor = ctx.db.run_blocking(|c| accounts::find_officer(c, supervisor))?.actor();
        let stocked = ctx
            .db
            .run_blocking(|c| borderdesk::service::stock::overview(c, now, &actor, None))?
            .unused_now
            > 0;
        if !stocked {
            let batch = borderdesk::service::stock::BatchIn {
                first_serial: first,
                last_serial: first + 499,
                received_from: "演示 demo".into(),
            };
            ctx.db
                .run_blocking(|c| borderdesk::service::stock::receive(c, now, &actor, &batch))?;
        }
    }
    // Each office's seal for its permit cards, held by its window officer, so a print records
    // its use from the first start; an office that has one already keeps it.
    for (supervisor, holder, name, reference) in [
        (
            "supervisor",
            "officer",
            "友谊关出入境办证点业务专用章（演示）",
            "YYG-DEMO-1",
        ),
        (
            "pxh-supervisor",
            "pxh-officer",
            "凭祥出入境服务大厅业务专用章（演示）",
            "PXH-DEMO-1",
        ),
    ] {
        let actor = ctx.db.run_blocking(|c| accounts::find_officer(c, supervisor))?.actor();
        let register = ctx.db.run_blocking(|c| {
            let ring = ctx.keys.ring(c)?;
            borderdesk::service::seals::register_view(c, &ring, &actor)
        })?;
        if !register
            .seals
            .iter()
            .any(|s| s.retired_at.is_none() && s.applies_to.is_some())
        {
            let entry = borderdesk::domain::seals::SealIn {
                kind: "seal".into(),
                name: name.into(),
                reference: reference.into(),
                applies_to: Some("permit".into()),
            };
            let seal = ctx.db.run_blocking(|c| {
                let ring = ctx.keys.ring(c)?;
                borderdesk::service::seals::register(c, now, &ring, &actor, &entry)
            })?;
            let grant = borderdesk::domain::seals::GrantIn {
                holder: holder.into(),
                note: Some("演示 demo".into()),
            };
            ctx.db
                .run_blocking(|c| borderdesk::service::seals::grant(c, now, &actor, &seal.id, &grant))?;
        }
    }
    let (_, token) = ctx
        .db
        .run_blocking(|c| accounts::create_token(c, now, "officer", "demo"))?;
    println!("API token for 'officer': {token}\n");
    Ok(())
}

/// Offline verification for a handheld: no database, no network.
fn verify(
    bundles: &[std::path::PathBuf],
    state: Option<&std::path::Path>,
    anchor: &std::path::Path,
    queue: Option<&std::path::Path>,
    lane: &str,
    direction: &str,
    codes: Vec<String>,
) -> borderdesk::error::Result<()> {
    use borderdesk::domain::offline::{Anchor, SignedBundle, TrustBundle, Verifier, open};
    use borderdesk::domain::verdict::Direction;
    use borderdesk::error::Error;
    let read = |p: &std::path::Path| {
        std::fs::read_to_string(p).map_err(|e| Error::Config(format!("reading {}: {e}", p.display())))
    };
    let refused = |p: &std::path::Path, e: &str| Error::Config(format!("{}: {e}", p.display()));
    let direction = Direction::parse(direction)
        .ok_or_else(|| Error::Config(format!("--direction {direction:?}: exit or entry")))?;
    let anchors: Vec<Anchor> = serde_json::from_str(&read(anchor)?).map_err(|e| refused(anchor, &e.to_string()))?;
    let mut verifier = match state {
        Some(p) if p.exists() => {
            let held: TrustBundle = serde_json::from_str(&read(p)?).map_err(|e| refused(p, &e.to_string()))?;
            Some(Verifier::new(held).map_err(|e| refused(p, e))?)
        }
        _ => None,
    };
    for path in bundles {
        let signed: SignedBundle = serde_json::from_str(&read(path)?).map_err(|e| refused(path, &e.to_string()))?;
        let trust = open(&signed, &anchors).map_err(|e| refused(path, &format!("trust bundle refused: {e}")))?;
        match verifier.as_mut() {
            None => verifier = Some(Verifier::new(trust).map_err(|e| refused(path, e))?),
            Some(v) => v.apply(trust).map_err(|e| refused(path, e))?,
        }
    }
    let mut verifier =
        verifier.ok_or_else(|| Error::Config("no trust data: give --bundle with a full bundle, or --state".into()))?;
    let codes = if codes.is_empty() {
        std::io::stdin()
            .lines()
            .map_while(Result::ok)
            .filter(|l| !l.trim().is_empty())
            .collect()
    } else {
        codes
    };
    let mut queued: serde_json::Value = match queue {
        Some(q) if q.exists() => serde_json::from_str(&read(q)?).map_err(|e| refused(q, &e.to_string()))?,
        _ => serde_json::json!({"crossings": []}),
    };
    for code in codes {
        let v = verifier.decide_at(code.trim(), lane, direction, SystemClock.now());
        verifier.note(&v, direction);
        let age = format!(
            "bundle v{} {}h{:02}m old{}",
            verifier.version(),
            v.bundle_age_minutes / 60,
            v.bundle_age_minutes % 60,
            if v.stale { " — STALE, refresh when online" } else { "" }
        );
        println!(
            "{} {} {} / {} [{}] {}",
            if v.verdict.admit { "ADMIT " } else { "REJECT" },
            v.verdict.reason.as_str(),
            v.verdict.message_zh,
            v.verdict.message_en,
            v.number.as_deref().unwrap_or("-"),
            age
        );
        if let Some(list) = queued.get_mut("crossings").and_then(|c| c.as_array_mut()) {
            list.push(serde_json::json!({
                "client_id": uuid::Uuid::now_v7().to_string(), "code": code.trim(), "lane": lane, "direction": direction,
                "at": v.clock, "verdict": if v.verdict.admit { "admit" } else { "reject" }, "reason": v.verdict.reason,
            }));
        }
    }
    if let Some(q) = queue {
        write_json(q, &queued)?;
    }
    if let Some(p) = state {
        let today = borderdesk::domain::local(SystemClock.now().max(verifier.issued_at())).date_naive();
        write_json(p, &verifier.snapshot(today))?;
    }
    Ok(())
}

fn write_json(p: &std::path::Path, value: &impl serde::Serialize) -> borderdesk::error::Result<()> {
    use borderdesk::error::Error;
    let text = serde_json::to_string_pretty(value).map_err(Error::internal)?;
    // Write then rename, so a handheld losing power never leaves half a file.
    let tmp = p.with_extension("tmp");
    std::fs::write(&tmp, text).map_err(|e| Error::Config(format!("writing {}: {e}", tmp.display())))?;
    std::fs::rename(&tmp, p).map_err(|e| Error::Config(format!("writing {}: {e}", p.display())))
}
