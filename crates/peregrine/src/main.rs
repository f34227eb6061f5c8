//! `peregrine`: run KQL queries and measure the engine against the corpora.
//!
//! ```text
//! peregrine query [--data DIR] [--tenant T] [--format table|json|csv] [QUERY | -f FILE | -]
//! peregrine ingest --data DIR [--tenant T] (--table TABLE | --envelope) [FILE | -]
//! peregrine check [--json] [--run [--data DIR] [--tenant T]] FILE.jsonl
//! peregrine conformance FILE.jsonl
//! peregrine serve [--data DIR] [--listen ADDR] [--config FILE] [--max-ingest-bytes B] [--demo]
//! peregrine app create --data DIR --tenant T --name N --roles R1,R2 [--json]
//! peregrine rules (list | add FILE.json | delete ID | builtin) --data DIR --tenant T
//! ```
//!
//! Exit codes: 0 success (for `check` and `conformance`, whatever the counts); 1 the query
//! failed (diagnostics on stderr); 2 unusable input (missing file, invalid JSONL line,
//! bad arguments).

mod output;

use clap::{Parser, Subcommand, ValueEnum};
use kql_engine::{Engine, QueryOptions};
use kql_testkit::check::{self, CheckCase};
use kql_testkit::conformance::{self, Case, RunOptions, Summary, Verdict};
use kql_testkit::jsonl;
use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "peregrine",
    version,
    about = "Peregrine: a self-hosted KQL advanced-hunting engine (independent of Microsoft)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a KQL query and print its result.
    Query(QueryArgs),
    /// Bind and plan each `{"id","query"}` line of a JSONL file (no execution).
    Check(CheckArgs),
    /// Run each case of a conformance JSONL file and compare with its expected rows.
    Conformance(ConformanceArgs),
    /// Ingest events (NDJSON, a JSON array, or a streaming-export envelope) into the store.
    Ingest(IngestArgs),
    /// Write a deterministic demo tenant (Contoso, with attack stories) into the store.
    Demo(DemoArgs),
    /// Merge the store's small Parquet files and delete files retired long enough ago.
    Compact(CompactArgs),
    /// Serve the HTTP API (tokens, advanced hunting) over the store.
    Serve(ServeArgs),
    /// Manage app registrations (client credentials for the API).
    App {
        #[command(subcommand)]
        command: AppCommand,
    },
    /// Manage detection rules (scheduled KQL queries whose rows become alerts).
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
}

#[derive(Subcommand)]
enum RulesCommand {
    /// Print the tenant's rules as JSON, one a line.
    List(RulesArgs),
    /// Add or replace a rule from a JSON file (`id`, `name`, `query`, `period`, `lookback`,
    /// `severity`, `category`, `mitreTechniques`, `entities`, ...; `-` reads standard input).
    Add {
        #[command(flatten)]
        at: RulesArgs,
        /// The rule's JSON.
        file: PathBuf,
    },
    /// Delete a rule.
    Delete {
        #[command(flatten)]
        at: RulesArgs,
        id: String,
    },
    /// Add the built-in rules (they fire on the demo tenant's attack stories).
    Builtin(RulesArgs),
}

#[derive(clap::Args)]
struct RulesArgs {
    /// Directory of the event store (the incident store is in DIR/_incidents).
    #[arg(long, value_name = "DIR")]
    data: PathBuf,
    /// Tenant of the rules.
    #[arg(long, default_value = "default")]
    tenant: String,
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Directory of the event store (also holds app registrations and the signing key).
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Address to listen on (default 127.0.0.1:8080).
    #[arg(long, value_name = "ADDR")]
    listen: Option<std::net::SocketAddr>,
    /// TOML configuration file (settings as in `peregrine_server::config`).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Largest request body of the ingest routes, in bytes (default 64 MiB).
    #[arg(long, value_name = "BYTES")]
    max_ingest_bytes: Option<u64>,
    /// Demo mode: write the demo tenant ("default": 50 devices, 7 days) if the data
    /// directory (default ./peregrine-data) holds no tenant yet, register an app with the
    /// hunting, incident and detection-rule roles, add the built-in detection rules, and
    /// print its credentials and ready-to-paste curl commands.
    #[arg(long)]
    demo: bool,
}

#[derive(Subcommand)]
enum AppCommand {
    /// Register an app; prints its client id and secret (the secret is shown only once).
    Create(AppCreateArgs),
}

#[derive(clap::Args)]
struct AppCreateArgs {
    /// Directory of the event store.
    #[arg(long, value_name = "DIR")]
    data: PathBuf,
    /// Tenant id whose data the app's tokens see.
    #[arg(long)]
    tenant: String,
    /// Display name of the app.
    #[arg(long)]
    name: String,
    /// Application roles, comma-separated: AdvancedHunting.Read.All, AdvancedQuery.Read.All,
    /// ThreatHunting.Read.All (hunting), Events.Write.All (ingest over HTTP).
    #[arg(long, value_delimiter = ',', required = true)]
    roles: Vec<String>,
    /// Print `{"tenantId","clientId","clientSecret"}` only.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
struct CompactArgs {
    /// Directory of the event store.
    #[arg(long, value_name = "DIR")]
    data: PathBuf,
    /// Only this tenant (default: every tenant).
    #[arg(long)]
    tenant: Option<String>,
    /// Rewrite every file in today's layout (dictionary columns, never-null strings),
    /// not only merge the small ones: for a store written by an older version.
    #[arg(long)]
    rewrite: bool,
}

#[derive(clap::Args)]
struct DemoArgs {
    /// Directory of the event store (created if missing).
    #[arg(long, value_name = "DIR", default_value = "peregrine-data")]
    data: PathBuf,
    /// Tenant to write.
    #[arg(long, default_value = "default")]
    tenant: String,
    /// Devices (about 8% servers, the rest workstations with one user each); 4 to 60,000.
    #[arg(long, default_value_t = 50)]
    devices: usize,
    /// Days of activity ending now (1 to 3,650; the query window shows the last 30).
    #[arg(long, default_value_t = 7)]
    days: i64,
    /// Seed: the same seed, options and end time give the same rows.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// End of the data (RFC 3339, e.g. 2026-11-27T12:00:00Z) instead of the current minute.
    #[arg(long, value_name = "TIME")]
    now: Option<String>,
    /// Only these endpoint tables (comma-separated, e.g. DeviceProcessEvents) get background
    /// activity; the other tables and the attack stories are always written (for benchmarks).
    #[arg(long, value_name = "TABLES", value_delimiter = ',')]
    endpoint_tables: Option<Vec<String>>,
}

#[derive(clap::Args)]
struct IngestArgs {
    /// Directory of the event store (created if missing).
    #[arg(long, value_name = "DIR")]
    data: PathBuf,
    /// Tenant whose tables receive the events.
    #[arg(long, default_value = "default")]
    tenant: String,
    /// The hunting table of every record (NDJSON or a JSON array of objects).
    #[arg(
        long,
        conflicts_with = "envelope",
        required_unless_present = "envelope"
    )]
    table: Option<String>,
    /// The input is a Defender streaming-export envelope ({"records":[...]}); each record
    /// goes to the table its "category" names.
    #[arg(long)]
    envelope: bool,
    /// Commit every N records as its own request (NDJSON with --table), printing
    /// `{"acknowledged":TOTAL}` on standard output after each durable commit. Without it the
    /// whole input is one all-or-nothing request.
    #[arg(long, value_name = "N", conflicts_with = "envelope")]
    batch_size: Option<usize>,
    /// Largest body read whole (a JSON array or an envelope), in bytes; a larger one is
    /// refused with `RequestTooLarge` and changes nothing. NDJSON is streamed, not limited.
    #[arg(long, value_name = "BYTES", default_value_t = peregrine_store::DEFAULT_MAX_BODY_BYTES)]
    max_body_bytes: u64,
    /// Input file, or `-` (the default) for standard input.
    #[arg(value_name = "FILE", default_value = "-")]
    file: String,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// A readable table with a row count.
    Table,
    /// `{"columns":[{"name","type"}],"rows":[[...]]}`
    Json,
    /// CSV with a header line.
    Csv,
}

#[derive(clap::Args)]
struct QueryArgs {
    /// Directory of the event store; without it every table is empty.
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Tenant whose tables the query reads.
    #[arg(long, default_value = "default")]
    tenant: String,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Read the query from FILE.
    #[arg(
        short = 'f',
        long = "file",
        value_name = "FILE",
        conflicts_with = "query"
    )]
    file: Option<PathBuf>,
    /// The query text, or `-` to read it from standard input.
    #[arg(value_name = "QUERY")]
    query: Option<String>,
    /// Run the query N times and print timings (JSON, on standard error) for benchmarks:
    /// {"runs","rows","min_ms","median_ms","max_ms"}, each run planned and executed anew.
    #[arg(long, value_name = "N")]
    repeat: Option<usize>,
    /// Print the query's optimized logical plan and its physical plan instead of running it.
    #[arg(long, conflicts_with = "repeat")]
    explain: bool,
    /// Run the query once and print its physical plan with each operator's metrics
    /// (rows, time, Parquet pruning and filtering) instead of its rows.
    #[arg(long, conflicts_with_all = ["repeat", "explain"])]
    analyze: bool,
}

#[derive(clap::Args)]
struct CheckArgs {
    /// Print one JSON object per query: {"id","ok","columns","error"} (and "rows" with --run).
    #[arg(long)]
    json: bool,
    /// Also run each accepted query (over --data when given) and report its row count.
    #[arg(long)]
    run: bool,
    /// Directory of the event store the queries run over (with --run).
    #[arg(long, value_name = "DIR", requires = "run")]
    data: Option<PathBuf>,
    /// Tenant whose tables the queries read (with --data).
    #[arg(long, default_value = "default")]
    tenant: String,
    /// JSONL file of {"id","query"} lines (a "reference" per line is compared when present).
    file: PathBuf,
}

#[derive(clap::Args)]
struct ConformanceArgs {
    /// JSONL file of conformance cases ({"id","query","expected",...}).
    file: PathBuf,
}

/// Unusable input: printed, exit code 2.
fn usage_error(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("peregrine: {message}");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Query(args) => query(args),
        Command::Check(args) => check_cmd(args),
        Command::Conformance(args) => conformance_cmd(args),
        Command::Ingest(args) => ingest_cmd(args),
        Command::Demo(args) => demo_cmd(args),
        Command::Compact(args) => compact_cmd(args),
        Command::Serve(args) => serve_cmd(args),
        Command::Rules { command } => rules_cmd(command),
        Command::App {
            command: AppCommand::Create(args),
        } => app_create_cmd(args),
    }
}

fn serve_cmd(args: ServeArgs) -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let mut config =
        match peregrine_server::ServerConfig::load(args.config.as_deref(), std::env::vars()) {
            Ok(c) => c,
            Err(e) => return usage_error(e),
        };
    if let Some(data) = args.data {
        config.data = Some(data);
    }
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    if let Some(bytes) = args.max_ingest_bytes {
        config.max_ingest_bytes = bytes;
    }
    let mut demo_app = None;
    if args.demo {
        let data = config
            .data
            .get_or_insert_with(|| PathBuf::from("peregrine-data"))
            .clone();
        match prepare_demo(&data) {
            Ok(app) => demo_app = Some(app),
            Err(code) => return code,
        }
    }
    let public_url = config.public_url.clone();
    let ready = move |addr: std::net::SocketAddr| {
        if let Some(app) = &demo_app {
            let base = public_url.unwrap_or_else(|| format!("http://{addr}"));
            let mut out = std::io::stdout().lock();
            let _ = writeln!(
                out,
                "{}",
                demo_instructions(base.trim_end_matches('/'), app)
            )
            .and_then(|()| out.flush());
        }
    };
    match peregrine_server::run_with(config, ready) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => usage_error(e),
    }
}

/// The roles of the app `serve --demo` registers: every hunting route, ingest (so the
/// demo's user can add events of their own and find them), incidents, alerts and
/// detection rules.
const DEMO_ROLES: [&str; 8] = [
    "AdvancedHunting.Read.All",
    "AdvancedQuery.Read.All",
    "ThreatHunting.Read.All",
    peregrine_server::ingest::INGEST_ROLE,
    "Incident.ReadWrite.All",
    "SecurityIncident.ReadWrite.All",
    "SecurityAlert.ReadWrite.All",
    "CustomDetection.ReadWrite.All",
];

/// `peregrine rules ...`.
fn rules_cmd(command: RulesCommand) -> ExitCode {
    use peregrine_incidents::IncidentStore;
    let (data, tenant) = match &command {
        RulesCommand::List(at)
        | RulesCommand::Builtin(at)
        | RulesCommand::Add { at, .. }
        | RulesCommand::Delete { at, .. } => (at.data.clone(), at.tenant.clone()),
    };
    if !peregrine_store::valid_tenant(&tenant) {
        return usage_error(format!("'{tenant}' is not a valid tenant id"));
    }
    let store = match peregrine_incidents::SqliteStore::open_in(&data) {
        Ok(s) => s,
        Err(e) => return usage_error(e.to_string()),
    };
    let tenant = tenant.as_str();
    let result: Result<(), String> = match command {
        RulesCommand::List(_) => store
            .list_rules(tenant)
            .map_err(|e| e.to_string())
            .map(|rules| {
                for r in rules {
                    println!("{}", r.to_json());
                }
            }),
        RulesCommand::Builtin(_) => install_builtin_rules(&store, tenant).map(|n| {
            println!("{n} built-in rules added to tenant {tenant}");
        }),
        RulesCommand::Add { file, .. } => {
            let text = if file.as_os_str() == "-" {
                let mut s = String::new();
                std::io::stdin().read_to_string(&mut s).map(|_| s)
            } else {
                std::fs::read_to_string(&file)
            };
            text.map_err(|e| format!("cannot read {}: {e}", file.display()))
                .and_then(|t| {
                    serde_json::from_str::<serde_json::Value>(&t).map_err(|e| e.to_string())
                })
                .and_then(|v| peregrine_incidents::DetectionRule::from_json(&v, None))
                .and_then(|rule| {
                    let engine = Engine::defender();
                    engine.plan(&rule.query, 0).map_err(|d| {
                        format!(
                            "the rule's query is not valid KQL: {}",
                            d.first().map(|d| d.message.clone()).unwrap_or_default()
                        )
                    })?;
                    let new = store.put_rule(tenant, &rule).map_err(|e| e.to_string())?;
                    println!(
                        "rule '{}' {}",
                        rule.id,
                        if new { "added" } else { "replaced" }
                    );
                    Ok(())
                })
        }
        RulesCommand::Delete { id, .. } => match store.delete_rule(tenant, &id) {
            Ok(true) => {
                println!("rule '{id}' deleted");
                Ok(())
            }
            Ok(false) => Err(format!("tenant {tenant} has no rule '{id}'")),
            Err(e) => Err(e.to_string()),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => usage_error(e),
    }
}

/// Adds the built-in detection rules the tenant does not have; how many were added.
fn install_builtin_rules(
    store: &peregrine_incidents::SqliteStore,
    tenant: &str,
) -> Result<usize, String> {
    use peregrine_incidents::IncidentStore;
    let mut added = 0;
    for rule in peregrine_server::detections::builtin_rules() {
        if store
            .get_rule(tenant, &rule.id)
            .map_err(|e| e.to_string())?
            .is_none()
        {
            store.put_rule(tenant, &rule).map_err(|e| e.to_string())?;
            added += 1;
        }
    }
    Ok(added)
}

/// `serve --demo`: the demo tenant if `data` has no tenant, and a new app with the hunting
/// roles (its credentials are printed once the server listens).
fn prepare_demo(data: &Path) -> Result<peregrine_server::apps::NewApp, ExitCode> {
    let store = open_store(data).map_err(usage_error)?;
    let tenants = store.tenants().map_err(|e| report_ingest_error(&e))?;
    // The demo tenant, or the data's own ("default" when there is one).
    let tenant = match tenants.first() {
        Some(first) if !tenants.iter().any(|t| t == "default") => first.clone(),
        _ => "default".to_string(),
    };
    if tenants.is_empty() {
        eprintln!(
            "{} holds no tenant: writing the demo tenant",
            data.display()
        );
        write_demo(
            &store,
            &tenant,
            data,
            &peregrine_demo::DemoOptions::default(),
        )?;
    }
    // Release the store's writer lock: the server opens the store again.
    drop(store);
    // The built-in detection rules: the scheduler runs them as the server starts.
    peregrine_incidents::SqliteStore::open_in(data)
        .map_err(|e| e.to_string())
        .and_then(|s| install_builtin_rules(&s, &tenant))
        .map_err(usage_error)?;
    let roles: Vec<String> = DEMO_ROLES.iter().map(|r| r.to_string()).collect();
    peregrine_server::apps::AuthDir::new(data)
        .create_app(&tenant, "peregrine-demo", &roles)
        .map_err(usage_error)
}

/// The credentials of the demo app and curl commands for every hunting route.
fn demo_instructions(base: &str, app: &peregrine_server::apps::NewApp) -> String {
    let (t, id, secret) = (&app.tenant_id, &app.client_id, &app.client_secret);
    format!(
        r#"Demo app registered (roles {roles}); the secret is shown only now.
  tenant id:     {t}
  client id:     {id}
  client secret: {secret}

Try it (needs curl and jq):

TOKEN=$(curl -s -X POST {base}/{t}/oauth2/token -d grant_type=client_credentials   -d client_id={id} --data-urlencode 'client_secret={secret}'   -d resource=https://api.security.microsoft.com | jq -r .access_token)

curl -s -X POST {base}/api/advancedhunting/run -H "Authorization: Bearer $TOKEN"   -H 'Content-Type: application/json'   -d '{{"Query":"DeviceProcessEvents | summarize n = count() by FileName | top 5 by n"}}'

curl -s -X POST {base}/api/advancedqueries/run -H "Authorization: Bearer $TOKEN"   -H 'Content-Type: application/json' -d '{{"Query":"DeviceInfo | take 3"}}'

curl -s -X POST {base}/v1.0/security/runHuntingQuery -H "Authorization: Bearer $TOKEN"   -H 'Content-Type: application/json' -d '{{"Query":"DeviceLogonEvents | count","Timespan":"P1D"}}'

# ingest an event of your own (NDJSON), then find it
curl -s -X POST {base}/api/ingest/DeviceProcessEvents -H "Authorization: Bearer $TOKEN"   --data-binary "{{\"Timestamp\":\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\",\"DeviceName\":\"my-laptop\",\"FileName\":\"hello.exe\",\"ReportId\":1}}"

curl -s -X POST {base}/api/advancedhunting/run -H "Authorization: Bearer $TOKEN"   -H 'Content-Type: application/json' -d '{{"Query":"DeviceProcessEvents | where FileName == \"hello.exe\""}}'

Incidents (built from the demo's alerts and the built-in detection rules within a minute of the start):

curl -s "{base}/api/incidents?\$top=5" -H "Authorization: Bearer $TOKEN" | jq '.value[] | {{incidentId, incidentName, status, severity, alerts: (.alerts | length)}}'

curl -s "{base}/api/incidents?\$filter=status+eq+'Active'" -H "Authorization: Bearer $TOKEN"

curl -s -X PATCH {base}/api/incidents/1 -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json'   -d '{{"status":"Resolved","classification":"TruePositive","determination":"Malware","comment":"triaged"}}'

curl -s "{base}/v1.0/security/incidents?\$expand=alerts&\$top=2&\$count=true" -H "Authorization: Bearer $TOKEN"

curl -s {base}/api/incidents/1/grouping -H "Authorization: Bearer $TOKEN" | jq .reasons
"#,
        roles = DEMO_ROLES.join(", "),
    )
}

fn app_create_cmd(args: AppCreateArgs) -> ExitCode {
    let known = peregrine_server::auth::ROLES;
    for role in args
        .roles
        .iter()
        .map(|r| r.trim())
        .filter(|r| !r.is_empty())
    {
        if !known.iter().any(|(k, _)| *k == role) {
            let names: Vec<&str> = known.iter().map(|(k, _)| *k).collect();
            eprintln!(
                "peregrine: note: no route of this server checks the role '{role}' (roles: {})",
                names.join(", ")
            );
        }
    }
    let auth = peregrine_server::apps::AuthDir::new(&args.data);
    let app = match auth.create_app(&args.tenant, &args.name, &args.roles) {
        Ok(a) => a,
        Err(e) => return usage_error(e),
    };
    if args.json {
        println!("{}", serde_json::to_string(&app).unwrap_or_default());
    } else {
        println!("app '{}' registered in tenant {}", args.name, app.tenant_id);
        println!("  tenant id:     {}", app.tenant_id);
        println!("  client id:     {}", app.client_id);
        println!("  client secret: {}", app.client_secret);
        println!("  roles:         {}", args.roles.join(", "));
        println!("the secret is shown only this once; keep it safe.");
    }
    ExitCode::SUCCESS
}

fn read_query(args: &QueryArgs) -> Result<String, String> {
    if let Some(path) = &args.file {
        return std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()));
    }
    match args.query.as_deref() {
        Some("-") => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map_err(|e| format!("cannot read standard input: {e}"))?;
            Ok(s)
        }
        Some(q) => Ok(q.to_string()),
        None => Err("no query given: pass QUERY, -f FILE, or - for standard input".into()),
    }
}

fn query(args: QueryArgs) -> ExitCode {
    let text = match read_query(&args) {
        Ok(t) => t,
        Err(e) => return usage_error(e),
    };
    let engine = match &args.data {
        Some(dir) => {
            if !dir.is_dir() {
                return usage_error(format!("--data {}: not a directory", dir.display()));
            }
            match open_store(dir) {
                Ok(store) => store.engine(&args.tenant),
                Err(e) => return usage_error(e),
            }
        }
        None => Engine::defender(),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return usage_error(format!("cannot start the runtime: {e}")),
    };
    if args.explain || args.analyze {
        let plan = match args.analyze {
            true => runtime.block_on(engine.explain_analyze(&text)),
            false => runtime.block_on(engine.explain(&text)),
        };
        return match plan {
            Ok(plan) => {
                println!("{plan}");
                ExitCode::SUCCESS
            }
            Err(diags) => {
                for d in &diags {
                    eprint!("{}", d.render(&text));
                }
                ExitCode::from(1)
            }
        };
    }
    let mut times = Vec::new();
    for _ in 1..args.repeat.unwrap_or(1).max(1) {
        let started = std::time::Instant::now();
        if runtime
            .block_on(engine.run(&text, &QueryOptions::default()))
            .is_err()
        {
            break;
        }
        times.push(started.elapsed().as_secs_f64() * 1e3);
    }
    let started = std::time::Instant::now();
    let result = runtime.block_on(engine.run(&text, &QueryOptions::default()));
    times.push(started.elapsed().as_secs_f64() * 1e3);
    if args.repeat.is_some()
        && let Ok(r) = &result
    {
        times.sort_by(f64::total_cmp);
        let rows: usize = r.batches.iter().map(|b| b.num_rows()).sum();
        eprintln!(
            "{}",
            serde_json::json!({
                "runs": times.len(),
                "rows": rows,
                "min_ms": times[0],
                "median_ms": times[times.len() / 2],
                "max_ms": times[times.len() - 1],
            })
        );
    }
    match result {
        Ok(result) => {
            let out = match args.format {
                Format::Table => output::table(&result),
                Format::Json => output::json(&result),
                Format::Csv => output::csv(&result),
            };
            let mut stdout = std::io::stdout().lock();
            // A closed pipe (`| head`) is not an error worth reporting.
            let _ = stdout
                .write_all(out.as_bytes())
                .and_then(|()| stdout.flush());
            ExitCode::SUCCESS
        }
        Err(diags) => {
            for d in &diags {
                eprint!("{}", d.render(&text));
            }
            ExitCode::from(1)
        }
    }
}

fn load<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Vec<T>, ExitCode> {
    match jsonl::load::<T>(path) {
        Ok(items) => Ok(items.into_iter().map(|(_, t)| t).collect()),
        Err(e) => Err(usage_error(e)),
    }
}

fn check_cmd(args: CheckArgs) -> ExitCode {
    let cases: Vec<CheckCase> = match load(&args.file) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let engine = match &args.data {
        Some(dir) => match open_store(dir) {
            Ok(store) => Arc::new(store.engine(&args.tenant)),
            Err(e) => return usage_error(e),
        },
        None => Arc::new(Engine::defender()),
    };
    let mut progress = output::Progress::new("check");
    let results = check::check_all_with(
        engine,
        &cases,
        kql_testkit::pool::default_parallelism(),
        kql_testkit::CASE_TIMEOUT,
        args.run,
        &mut |d, t| progress.update(d, t),
    );
    progress.finish();
    let mut out = std::io::stdout().lock();
    for r in &results {
        let line = if args.json {
            serde_json::to_string(r).unwrap_or_default()
        } else if let Some(e) = &r.error {
            format!(
                "{}: {} at {}:{}: {}",
                r.id, e.code, e.line, e.column, e.message
            )
        } else {
            continue;
        };
        if writeln!(out, "{line}").is_err() {
            return ExitCode::SUCCESS;
        }
    }
    let summary = check::CheckSummary::of(&cases, &results);
    for l in summary.reference_lines() {
        let _ = writeln!(out, "{l}");
    }
    if args.run {
        let ran = results.iter().filter(|r| r.rows.is_some()).count();
        let with_rows = results
            .iter()
            .filter(|r| r.rows.is_some_and(|n| n > 0))
            .count();
        let _ = writeln!(
            out,
            "run: {ran} of {} queries ran without error ({:.1} %), {with_rows} returned rows",
            results.len(),
            100.0 * ran as f64 / results.len().max(1) as f64
        );
    }
    let _ = writeln!(out, "{}", summary.line());
    ExitCode::SUCCESS
}

fn conformance_cmd(args: ConformanceArgs) -> ExitCode {
    let cases: Vec<Case> = match load(&args.file) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let engine = Arc::new(Engine::defender());
    let mut progress = output::Progress::new("conformance");
    let outcomes = conformance::run_all(engine, cases, &RunOptions::default(), &mut |d, t| {
        progress.update(d, t)
    });
    progress.finish();
    let mut out = std::io::stdout().lock();
    for o in &outcomes {
        if let Verdict::Fail(kind) = &o.verdict
            && writeln!(out, "FAIL {} [{}] {}", o.id, kind.name(), o.reason).is_err()
        {
            return ExitCode::SUCCESS;
        }
    }
    let s = Summary::of(&outcomes);
    let kinds: Vec<String> = s
        .by_kind
        .iter()
        .map(|(k, n)| format!("{} {n}", k.name()))
        .collect();
    if !kinds.is_empty() {
        let _ = writeln!(out, "failures by kind: {}", kinds.join(", "));
    }
    if s.approx_passed > 0 {
        let _ = writeln!(
            out,
            "approximate: {} of the passes are approximate cases",
            s.approx_passed
        );
    }
    let _ = writeln!(out, "{}", s.line());
    ExitCode::SUCCESS
}

fn open_store(dir: &Path) -> Result<Arc<peregrine_store::Store>, String> {
    peregrine_store::Store::open_defender(dir).map_err(|e| format!("--data {}: {e}", dir.display()))
}

fn compact_cmd(args: CompactArgs) -> ExitCode {
    if !args.data.is_dir() {
        return usage_error(format!("--data {}: not a directory", args.data.display()));
    }
    let store = match open_store(&args.data) {
        Ok(s) => s,
        Err(e) => return usage_error(e),
    };
    let tenants = match &args.tenant {
        Some(t) => vec![t.clone()],
        None => match store.tenants() {
            Ok(t) => t,
            Err(e) => return report_ingest_error(&e),
        },
    };
    let started = std::time::Instant::now();
    let now = chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0);
    for t in tenants {
        match store.compact_with(&t, now, args.rewrite) {
            Ok(r) => eprintln!(
                "{t}: merged {} files into {} ({} rows), deleted {} retired files, {:.1} s",
                r.merged_files,
                r.written_files,
                r.rows,
                r.deleted_files,
                started.elapsed().as_secs_f64()
            ),
            Err(e) => return report_ingest_error(&e),
        }
    }
    ExitCode::SUCCESS
}

fn demo_cmd(args: DemoArgs) -> ExitCode {
    let now_nanos = match &args.now {
        Some(text) => match chrono::DateTime::parse_from_rfc3339(text) {
            Ok(t) => t.timestamp_nanos_opt().unwrap_or(0),
            Err(e) => return usage_error(format!("--now {text}: {e}")),
        },
        None => {
            let t = chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0);
            t - t.rem_euclid(60_000_000_000)
        }
    };
    if !(4..=60_000).contains(&args.devices) {
        return usage_error(format!("--devices {}: expected 4 to 60000", args.devices));
    }
    if !(1..=3650).contains(&args.days) {
        return usage_error(format!("--days {}: expected 1 to 3650", args.days));
    }
    if let Some(tables) = &args.endpoint_tables
        && let Some(bad) = tables
            .iter()
            .find(|t| !peregrine_demo::ENDPOINT_TABLES.contains(&t.as_str()))
    {
        return usage_error(format!(
            "--endpoint-tables: {bad} is not one of {}",
            peregrine_demo::ENDPOINT_TABLES.join(", ")
        ));
    }
    let store = match open_store(&args.data) {
        Ok(s) => s,
        Err(e) => return usage_error(e),
    };
    let opts = peregrine_demo::DemoOptions {
        devices: args.devices,
        days: args.days,
        seed: args.seed,
        now_nanos,
        endpoint_tables: args.endpoint_tables,
    };
    match write_demo(&store, &args.tenant, &args.data, &opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(code) => code,
    }
}

/// Writes the demo tenant with progress bars, then lists its rows per table and its stories.
fn write_demo(
    store: &Arc<peregrine_store::Store>,
    tenant: &str,
    data: &Path,
    opts: &peregrine_demo::DemoOptions,
) -> Result<(), ExitCode> {
    let multi = indicatif::MultiProgress::new();
    let style = indicatif::ProgressStyle::with_template(
        "{prefix:>24} {bar:30} {human_pos:>12}/{human_len:12} rows [{elapsed_precise}]",
    )
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    let mut bars: std::collections::BTreeMap<String, indicatif::ProgressBar> =
        std::collections::BTreeMap::new();
    let started = std::time::Instant::now();
    let result = peregrine_demo::generate(store, tenant, opts, |p| {
        let bar = bars.entry(p.table.clone()).or_insert_with(|| {
            let b = multi.add(indicatif::ProgressBar::new(p.rows_total));
            b.set_style(style.clone());
            b.set_prefix(p.table.clone());
            b
        });
        bar.set_length(p.rows_total);
        bar.set_position(p.rows_done);
        if p.rows_done >= p.rows_total {
            bar.finish();
        }
    });
    for b in bars.values() {
        b.finish();
    }
    drop(multi);
    match result {
        Ok(report) => {
            let secs = started.elapsed().as_secs_f64();
            let total: u64 = report.rows.values().sum();
            eprintln!(
                "demo tenant '{}' written to {}: {total} rows in {secs:.1} s ({:.0} rows/s)",
                tenant,
                data.display(),
                total as f64 / secs.max(1e-9)
            );
            for (t, n) in &report.rows {
                eprintln!("  {t:<24} {n:>12}");
            }
            eprintln!("attack stories to hunt for:");
            for s in &report.stories {
                eprintln!("  - {s}");
            }
            Ok(())
        }
        Err(e) => Err(report_ingest_error(&e)),
    }
}

fn ingest_cmd(args: IngestArgs) -> ExitCode {
    let store = match open_store(&args.data) {
        Ok(s) => s,
        Err(e) => return usage_error(e),
    };
    let (reader, total): (Box<dyn BufRead>, Option<u64>) = if args.file == "-" {
        (Box::new(std::io::BufReader::new(std::io::stdin())), None)
    } else {
        match std::fs::File::open(&args.file) {
            Ok(f) => {
                let len = f.metadata().map(|m| m.len()).ok();
                (Box::new(std::io::BufReader::new(f)), len)
            }
            Err(e) => return usage_error(format!("cannot read {}: {e}", args.file)),
        }
    };
    let bar = match total {
        Some(n) => indicatif::ProgressBar::new(n),
        None => indicatif::ProgressBar::new_spinner(),
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {bytes}/{total_bytes} {msg} [{elapsed_precise}]",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let started = std::time::Instant::now();
    if let (Some(n), Some(table)) = (args.batch_size, &args.table) {
        bar.finish_and_clear();
        // A long stream of small requests: merge their files in the background.
        let _compactor = store.spawn_compactor(std::time::Duration::from_secs(2));
        return ingest_batches(&store, &args.tenant, table, reader, n.max(1));
    }
    let result = match &args.table {
        Some(table) => store.ingest_body(
            &args.tenant,
            table,
            reader,
            args.max_body_bytes,
            |bytes, n| {
                bar.set_position(bytes);
                bar.set_message(format!("{n} records"));
            },
        ),
        None => store.ingest_envelope_body(&args.tenant, reader, args.max_body_bytes),
    };
    bar.finish_and_clear();
    match result {
        Ok(report) => {
            let secs = started.elapsed().as_secs_f64();
            let n = report.events();
            let tables: Vec<String> = report
                .tables
                .iter()
                .map(|(t, c)| format!("{t}: {c}"))
                .collect();
            eprintln!(
                "ingested {n} events ({}) in {secs:.2} s ({:.0} events/s), {} files",
                tables.join(", "),
                n as f64 / secs.max(1e-9),
                report.files
            );
            ExitCode::SUCCESS
        }
        Err(e) => report_ingest_error(&e),
    }
}

/// `--batch-size`: each batch is its own request, acknowledged on stdout once durable.
fn ingest_batches(
    store: &peregrine_store::Store,
    tenant: &str,
    table: &str,
    reader: Box<dyn BufRead>,
    batch: usize,
) -> ExitCode {
    let mut acknowledged = 0usize;
    let mut pending: Vec<(usize, serde_json::Value)> = Vec::with_capacity(batch);
    let mut stdout = std::io::stdout();
    let mut flush = |pending: &mut Vec<(usize, serde_json::Value)>| -> Result<(), ExitCode> {
        if pending.is_empty() {
            return Ok(());
        }
        match store.ingest(tenant, table, pending) {
            Ok(report) => {
                acknowledged += report.events();
                pending.clear();
                let _ = writeln!(stdout, "{{\"acknowledged\":{acknowledged}}}");
                let _ = stdout.flush();
                Ok(())
            }
            Err(e) => Err(report_ingest_error(&e)),
        }
    };
    for (i, line) in reader.lines().enumerate() {
        let line = match line {
            Ok(l) => l,
            Err(e) => return usage_error(format!("cannot read input: {e}")),
        };
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str(&line) {
            Ok(v) => pending.push((i + 1, v)),
            Err(e) => {
                return report_ingest_error(&peregrine_store::IngestError::records(vec![
                    peregrine_store::LineError::new(
                        i + 1,
                        None,
                        "InvalidJson",
                        format!("invalid JSON: {e}"),
                    ),
                ]));
            }
        }
        if pending.len() >= batch
            && let Err(code) = flush(&mut pending)
        {
            return code;
        }
    }
    match flush(&mut pending) {
        Ok(()) => {
            eprintln!("ingested {acknowledged} events");
            ExitCode::SUCCESS
        }
        Err(code) => code,
    }
}

fn report_ingest_error(e: &peregrine_store::IngestError) -> ExitCode {
    eprintln!("peregrine: ingest failed: {e}");
    for le in &e.errors {
        match &le.column {
            Some(c) => eprintln!(
                "  line {}, column {c}: {}: {}",
                le.line, le.code, le.message
            ),
            None => eprintln!("  line {}: {}: {}", le.line, le.code, le.message),
        }
    }
    if e.error_count > e.errors.len() {
        eprintln!("  ... and {} more", e.error_count - e.errors.len());
    }
    ExitCode::from(if e.is_internal() { 1 } else { 2 })
}
