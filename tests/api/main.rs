//! Black-box tests: each starts the real application on port 0 with a fresh
//! database and speaks HTTP to it.

mod helpers;

mod alignment;
mod baselines;
mod convergence;
mod cpsv_ap;
mod crash;
mod elevation;
mod federation;
mod fees;
mod freshness;
mod fuzz;
mod graphql_http;
mod limits;
mod live_zones;
mod mutations;
mod nested_pages;
mod over_time;
mod pages;
mod persisted;
mod policy_matrix;
mod read_api;
mod response_cache;
mod round_trip;
mod schema_file;
mod served_groups;
mod statements;
mod subscriptions;
mod sync;
mod telemetry;
mod validation;
