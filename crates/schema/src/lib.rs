//! Concord's GraphQL schema: types, resolvers, DataLoaders and limits.
//!
//! Depends on `domain`, `auth` and `persistence`; knows nothing of HTTP, so
//! any server (or a test) can execute it.

mod alignment;
mod context;
mod direct;
mod documents;
mod error;
mod guide_pages;
mod kept;
mod limits;
mod loader;
mod matrix;
mod matters;
mod mutation;
mod pagination;
mod query;
mod reference;
mod settle;
mod subscription;
mod sync;
mod trend;
mod types;
mod zone_guides;
mod zone_parts;

use std::sync::Arc;

use async_graphql::Schema;
use concord_auth::Principal;
use concord_persistence::DatabaseConnection;
use concord_persistence::footprint::{Footprint, Topic};
use concord_persistence::watch::DataWatch;

pub use context::RequestScope;
pub use limits::{Executed, Limits, check_text, limit_error, run, subscribe};
pub use mutation::Mutation;
pub use query::Query;
pub use subscription::{OperationKind, STREAMED_FIELDS, Subscription, operation_kind};

/// The executable schema.
pub type ConcordSchema = Schema<Query, Mutation, Subscription>;

/// How the schema behaves for clients.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(default)]
pub struct SchemaSettings {
    pub limits: Limits,
    /// Lets clients ask the schema about itself (GraphiQL needs it).
    pub introspection: bool,
    /// "Did you mean" hints in validation errors. Off unless enabled: they
    /// map the schema for a stranger, field name by field name, even where
    /// introspection is switched off.
    pub suggestions: bool,
    /// How long, in microseconds, a batch loader waits for more keys once
    /// the request has stopped adding them. 0 (the default) takes the batch
    /// at once: waiting for the request to stall already gathers every key
    /// a level adds, and any wait is added to the latency of every level.
    pub batch_delay_us: u64,
    /// Keeps each zone's alignment matrix between requests, brought up to
    /// date member by member as guides change. Off, every request builds
    /// it from the database.
    pub keep_zone_matrices: bool,
}

impl Default for SchemaSettings {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            introspection: true,
            suggestions: false,
            batch_delay_us: 0,
            keep_zone_matrices: true,
        }
    }
}

/// Builds the schema over a database, for a node that writes the rows of
/// `node.region` only, or every row when it is a national hub, and that
/// asks `peers` for their parts of live zone reads.
///
/// The schema keeps derived views (zone matrices) between requests; the
/// `watch` tells them of every commit, so they never outlive what they read,
/// and wakes the `changes` subscriptions.
pub fn build_schema(
    db: DatabaseConnection,
    node: concord_auth::Node,
    settings: &SchemaSettings,
    watch: &DataWatch,
    peers: Arc<concord_federation::Peers>,
) -> ConcordSchema {
    let mut builder = Schema::build(Query::default(), Mutation::default(), Subscription)
        .data(db)
        .data(peers)
        .data(watch.versions())
        .data(node)
        .enable_federation()
        .enable_subscription_in_federation()
        .limit_complexity(settings.limits.max_complexity)
        .limit_recursive_depth(64);
    if settings.keep_zone_matrices {
        let matrices = Arc::new(matrix::ZoneMatrices::default());
        watch.observe(matrices.clone());
        builder = builder.data(matrices);
    }
    if !settings.introspection {
        builder = builder.disable_introspection();
    }
    if !settings.suggestions {
        builder = builder.disable_suggestions();
    }
    builder.finish()
}

/// What requests share between them: the reference tables and the matters
/// read lately, kept in memory and dropped by the data watch when a commit
/// touches them, and the parsed documents of the query texts seen lately.
#[derive(Clone)]
pub struct Kept {
    reference: Arc<reference::KeptReference>,
    matters: Arc<matters::KeptMatters>,
    documents: Arc<documents::Documents>,
}

impl Kept {
    /// Views that `watch` keeps up to date.
    pub fn new(watch: &DataWatch) -> Self {
        let reference = Arc::new(reference::KeptReference::default());
        watch.observe(reference.clone());
        let matters = Arc::new(matters::KeptMatters::default());
        watch.observe(matters.clone());
        Self {
            reference,
            matters,
            documents: Arc::default(),
        }
    }

    /// The name (if it has one) and type of the operation `request` runs,
    /// read from the kept document of its text; `None` for a text that
    /// will be refused before it runs.
    pub fn operation(
        &self,
        limits: &Limits,
        request: &async_graphql::Request,
    ) -> Option<(Option<String>, async_graphql::parser::types::OperationType)> {
        self.documents.operation(limits, request)
    }
}

/// The federation SDL of the schema (Apollo Federation v2, with `@link`
/// and `@key`, and the Subscription root), as committed in
/// `schema/concord.graphql`.
pub fn sdl() -> String {
    Schema::build(Query::default(), Mutation::default(), Subscription)
        .enable_federation()
        .enable_subscription_in_federation()
        .finish()
        .sdl_with_options(async_graphql::SDLExportOptions::new().federation())
}

/// Prepares a request to run as `principal`: its scope, a fresh batch
/// loader and the execution marker.
pub async fn prepare(
    db: &DatabaseConnection,
    settings: &SchemaSettings,
    kept: &Kept,
    principal: Principal,
    mut request: async_graphql::Request,
) -> Result<(async_graphql::Request, Executed), async_graphql::ServerError> {
    let refuse = |error: error::ApiError| {
        let error = async_graphql::ErrorExtensions::extend(&error);
        error.into_server_error(async_graphql::Pos::default())
    };
    concord_auth::may_query(&principal).map_err(|denial| refuse(denial.into()))?;
    let scope = RequestScope::new(db, principal).await.map_err(refuse)?;
    kept.documents.attach(&settings.limits, &mut request);
    let executed = Executed::default();
    let reads = executed.reads_handle();
    // The scope reads zone memberships, which only seeding changes.
    reads.record(&Footprint::of(&[Topic::Reference]));
    let delay = std::time::Duration::from_micros(settings.batch_delay_us);
    let loader = loader::RowLoader::loader(
        db.clone(),
        kept,
        scope.visibility.clone(),
        reads.clone(),
        executed.stalls(),
        delay,
    );
    Ok((
        request
            .data(scope)
            .data(loader)
            .data(reads)
            .data(concord_federation::Fanout::default())
            .data(executed.clone()),
        executed,
    ))
}
