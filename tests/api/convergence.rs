//! Three nodes that write the same rows at once and replicate through each
//! other end with the same data and the same conflicts, however often their
//! sync jobs are killed.
//!
//! A national hub, Zhejiang's node (on PostgreSQL when the tests have one)
//! and Jiangsu's node each run the real `concord sync --follow` against the
//! other two. Writers change guides and evaluations on all three, the hub
//! writing the provinces' rows that the provinces write too, while the sync
//! jobs are killed with SIGKILL at seeded moments and started again. Then
//! the writers stop, the nodes catch up, and every node must give the same
//! `concord checksums` and list the same `syncConflicts`.
//!
//! `CONCORD_CONVERGENCE_SEED` picks the writes and the kill moments; the
//! seed is printed, so that a failing run can be repeated.

use std::ops::RangeInclusive;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::watch;

use crate::helpers::{As, Backend, Rng, TestApp, token};

const DEFAULT_SEED: u64 = 20_261_207;
/// Sync jobs killed in all.
const KILLS: usize = 24;
/// How long the sync jobs run between kills.
const BETWEEN_KILLS_MS: RangeInclusive<u64> = 150..=700;
/// A writer's pause between two changes.
const PAUSE_MS: RangeInclusive<u64> = 10..=60;
/// The guides everybody writes: few, so that writes collide.
const MATTERS: [&str; 3] = ["SI-CARD-APPLICATION", "SI-PENSION-TRANSFER", "EMP-JOB-FAIR"];

fn seed() -> u64 {
    std::env::var("CONCORD_CONVERGENCE_SEED").map_or(DEFAULT_SEED, |seed| {
        seed.parse()
            .unwrap_or_else(|_| panic!("CONCORD_CONVERGENCE_SEED must be a number, not `{seed}`"))
    })
}

/// One node: its server, and the region whose rows it owns (none: the hub).
struct Node {
    app: TestApp,
    region: Option<&'static str>,
}

impl Node {
    fn url(&self) -> String {
        self.app.endpoint()
    }

    /// `concord` with this node's database and identity.
    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_concord"));
        command
            .args(args)
            .args(["--database", &self.app.database_url])
            .env("RUST_LOG", "warn");
        if let Some(region) = self.region {
            command.env("CONCORD__NODE__REGION", region);
        }
        command
    }

    /// Runs `concord` to its end without holding up the servers, which
    /// run on this test's runtime.
    async fn run(&self, args: &[&str]) -> std::process::Output {
        let mut command = self.command(args);
        tokio::task::spawn_blocking(move || command.output().expect("run concord"))
            .await
            .expect("the concord run")
    }

    /// Syncs once from `peers` until caught up; how many changes applied.
    async fn sync_once(&self, peers: &[String]) -> u64 {
        let token = token(As::Sync).expect("a sync token");
        let mut args = vec!["sync", "--token", &token];
        for peer in peers {
            args.extend(["--peer", peer]);
        }
        let output = self.run(&args).await;
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "concord sync into {:?} from {peers:?} failed: {text}{}",
            self.region,
            String::from_utf8_lossy(&output.stderr)
        );
        // "N pages, M changes received, K applied"
        text.split(", ")
            .last()
            .and_then(|part| part.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("cannot read concord sync's report: {text}"))
    }

    async fn checksums(&self) -> String {
        let output = self.run(&["checksums"]).await;
        assert!(output.status.success(), "{output:?}");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    async fn conflicts(&self) -> Value {
        self.app
            .data_as(
                As::National,
                "{ syncConflicts(first: 100) { totalCount edges { node {
                    id kind key origin winner { revision hash } loser { revision hash } } } } }",
                json!({}),
            )
            .await["syncConflicts"]
            .clone()
    }
}

/// A `concord sync --follow` job, killed when dropped.
struct Follower(Child);

impl Follower {
    fn start(node: &Node, peers: &[String]) -> Self {
        let token = token(As::Sync).expect("a sync token");
        let mut args = vec!["sync", "--follow", "--interval", "1s", "--token", &token];
        for peer in peers {
            args.extend(["--peer", peer]);
        }
        let child = node
            .command(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start concord sync --follow");
        Self(child)
    }

    /// SIGKILL, wherever the job is: fetching, applying or committing.
    fn kill(&mut self) {
        self.0.kill().expect("SIGKILL");
        self.0.wait().expect("the killed sync job");
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        self.0.kill().ok();
        self.0.wait().ok();
    }
}

const GUIDE: &str =
    "query($r: String!, $m: String!) { guide(region: $r, matter: $m) { revision status } }";
const SAVE: &str = "mutation($r: String!, $m: String!, $d: Int!, $e: Int) { saveGuide(input: {
    region: $r, matter: $m, timeLimitDays: $d, fee: \"0\", materials: [\"居民身份证\"],
    channels: [ONLINE], expectedRevision: $e }) { revision } }";
const PUBLISH: &str = "mutation($r: String!, $m: String!, $e: Int!) {
    publishGuide(region: $r, matter: $m, expectedRevision: $e) { revision } }";
const EVALUATE: &str = "mutation($r: String!, $m: String!, $s: Float!) { recordEvaluation(region: $r,
    matter: $m, period: \"2026-Q4\", satisfaction: $s, casesHandled: 10, averageDays: 3) { revision } }";

/// The error code of an answer, or "OK".
fn outcome(body: &Value) -> String {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("OK")
        .to_owned()
}

/// Writes guides and evaluations of `regions` as `who` until told to stop;
/// how many changes were made.
async fn write(
    node: &Node,
    who: As,
    regions: &[&str],
    mut rng: Rng,
    mut stop: watch::Receiver<bool>,
) -> u64 {
    let mut made = 0;
    while !*stop.borrow_and_update() {
        let region = regions[rng.next() as usize % regions.len()];
        let matter = MATTERS[rng.next() as usize % MATTERS.len()];
        let vars = json!({ "r": region, "m": matter });
        let body = if rng.next().is_multiple_of(4) {
            let satisfaction = 50.0 + (rng.next() % 500) as f64 / 10.0;
            let vars = json!({ "r": region, "m": matter, "s": satisfaction });
            node.app.graphql_as(who, EVALUATE, vars).await
        } else {
            let guide = node.app.data_as(who, GUIDE, vars.clone()).await;
            let current = guide["guide"]["revision"].as_i64();
            // At least the longest procedure of the seed data (15 working
            // days), and within the pension transfer's national baseline (20).
            let days = 15 + rng.next() % 6;
            let saved = node
                .app
                .graphql_as(
                    who,
                    SAVE,
                    json!({ "r": region, "m": matter, "d": days, "e": current }),
                )
                .await;
            match saved["data"]["saveGuide"]["revision"].as_i64() {
                Some(revision) if !rng.next().is_multiple_of(3) => {
                    node.app
                        .graphql_as(
                            who,
                            PUBLISH,
                            json!({ "r": region, "m": matter, "e": revision }),
                        )
                        .await
                }
                _ => saved,
            }
        };
        match outcome(&body).as_str() {
            "OK" => made += 1,
            // The draft saved, but its publication fell below the national
            // baseline (the job fair's is 5 working days) and was refused.
            "BAD_USER_INPUT" if body["errors"][0]["extensions"]["rule"].is_string() => made += 1,
            // A sync job changed the row between the read and the write, or
            // (on the hub) deleted it, its origin having withdrawn it.
            "CONFLICT" | "NOT_FOUND" => {}
            other => panic!("{who:?} writing {region}/{matter} got {other}: {body}"),
        }
        tokio::time::sleep(Duration::from_millis(rng.within(PAUSE_MS))).await;
    }
    made
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_converge_to_the_same_data_and_conflicts_through_killed_sync_jobs() {
    let seed = seed();
    println!("CONCORD_CONVERGENCE_SEED={seed}");
    let mut rng = Rng(seed);
    let zhejiang_backend = if crate::helpers::postgres_admin_url().is_some() {
        Backend::Postgres
    } else {
        Backend::Sqlite
    };
    let node = |region: Option<&'static str>, backend| async move {
        let app = TestApp::spawn_with(backend, |settings| {
            settings.node.region = region.map(str::to_owned);
        })
        .await
        .expect("a node");
        Node { app, region }
    };
    let nodes = [
        node(None, Backend::Sqlite).await,
        node(Some("330000"), zhejiang_backend).await,
        node(Some("320000"), Backend::Sqlite).await,
    ];
    let peers_of = |i: usize| -> Vec<String> {
        (0..nodes.len())
            .filter(|&j| j != i)
            .map(|j| nodes[j].url())
            .collect()
    };

    let (stop, stopped) = watch::channel(false);
    let writers = [
        (0, As::National, vec!["330000", "320000"]),
        (1, As::Province("330000"), vec!["330000"]),
        (2, As::Province("320000"), vec!["320000"]),
    ];
    let mut followers: Vec<Follower> = (0..nodes.len())
        .map(|i| Follower::start(&nodes[i], &peers_of(i)))
        .collect();
    let forks: Vec<Rng> = writers.iter().map(|_| rng.fork()).collect();
    let writes =
        futures::future::join_all(writers.iter().zip(forks).map(|((i, who, regions), rng)| {
            write(&nodes[*i], *who, regions, rng, stopped.clone())
        }));
    let kills = async {
        for _ in 0..KILLS {
            tokio::time::sleep(Duration::from_millis(rng.within(BETWEEN_KILLS_MS))).await;
            let victim = rng.next() as usize % followers.len();
            followers[victim].kill();
            followers[victim] = Follower::start(&nodes[victim], &peers_of(victim));
        }
        stop.send(true).expect("the writers listen");
    };
    let (made, ()) = tokio::join!(writes, kills);
    assert!(
        made.iter().all(|&n| n > 0),
        "every writer made changes: {made:?}"
    );
    drop(followers);

    // Catch up: rounds of one-off syncs until a round applies nothing.
    let mut rounds = 0;
    loop {
        rounds += 1;
        let mut applied = 0;
        for (i, node) in nodes.iter().enumerate() {
            applied += node.sync_once(&peers_of(i)).await;
        }
        if applied == 0 {
            break;
        }
        assert!(
            rounds < 10,
            "seed {seed}: still applying after {rounds} rounds"
        );
    }
    for node in &nodes {
        node.app.sees_latest_commit().await;
    }

    let mut sums = Vec::new();
    for node in &nodes {
        sums.push(node.checksums().await);
    }
    assert_eq!(sums[0], sums[1], "seed {seed}: hub and Zhejiang differ");
    assert_eq!(sums[0], sums[2], "seed {seed}: hub and Jiangsu differ");
    let conflicts = nodes[0].conflicts().await;
    assert!(
        conflicts["totalCount"].as_i64() > Some(0),
        "seed {seed}: the hub wrote the provinces' rows, so some of its versions lost: {sums:?}"
    );
    for node in &nodes[1..] {
        assert_eq!(node.conflicts().await, conflicts, "seed {seed}");
    }
}
