//! The Subscription root: the dashboard reads, live, and the change feed as
//! a stream.
//!
//! Each live field resolves to the same answer as the query of the same name
//! and arguments, once: its stream holds the answer at the current data
//! version. The server's live engine runs a subscription again whenever a
//! commit touches what its last answer read, shares that evaluation between
//! every subscriber with the same key, and sends an answer only when it
//! differs from the last one (see `concord_server::live`). Keeping the
//! re-evaluation out of the resolvers is what lets one evaluation serve any
//! number of subscribers.
//!
//! `changes` is the exception: it is a stream of its own, one page per
//! commit that adds changes, for the sync job of a peer.

use async_graphql::{Context, Subscription};
use concord_persistence::queries::Visibility;
use futures::Stream;
use futures::stream;

use crate::alignment::{
    Alignment, AlignmentQuery, BaselineViolation, Coverage, Equalization, EqualizationMetric,
    PolicyQuery, ZoneAlignment,
};
use crate::context::visibility;
use crate::direct::{Direct, DirectPage};
use crate::error::{ApiError, OrApiError};
use crate::pagination::Paged;
use crate::query::{CatalogueQuery, GuideFilterInput, StandardFilterInput};
use crate::sync::{Change, PeerStatus, SyncQuery};
use crate::types::{GuideStatus, Region, ServiceGuide, Standard, StandardStatus};

/// The root fields whose subscriptions are streams of their own rather than
/// live reads; see the module's documentation.
pub const STREAMED_FIELDS: &[&str] = &["changes"];

/// The answer at the current data version, as a stream of one.
fn now<T>(answer: T) -> impl Stream<Item = T> {
    stream::once(async move { answer })
}

/// Refuses a subscription that names drafts to a caller who sees none: it
/// could only ever hold an empty list, and whether that list changes must
/// not tell an anonymous caller anything.
fn may_watch_drafts(ctx: &Context<'_>, asks_for_drafts: bool) -> Result<(), ApiError> {
    if asks_for_drafts && matches!(visibility(ctx)?, Visibility::Public) {
        return Err(ApiError::Forbidden(
            "drafts are visible only to the admins who may edit them; subscribe with their token"
                .into(),
        ));
    }
    Ok(())
}

/// Live reads, and the change feed.
#[derive(Default)]
pub struct Subscription;

/// Live reads: each sends its answer at once, then a new answer after every
/// commit that changes it, and nothing after a commit that does not.
#[Subscription]
impl Subscription {
    /// One region by its GB/T 2260 code, live.
    async fn region(
        &self,
        ctx: &Context<'_>,
        code: String,
    ) -> async_graphql::Result<impl Stream<Item = Option<Direct<Region>>>> {
        Ok(now(CatalogueQuery.region(ctx, code).await?))
    }

    /// A region's guide for a matter, live. Drafts only for those who may edit them.
    async fn guide(
        &self,
        ctx: &Context<'_>,
        region: String,
        matter: String,
    ) -> async_graphql::Result<impl Stream<Item = Option<Direct<ServiceGuide>>>> {
        Ok(now(CatalogueQuery.guide(ctx, region, matter).await?))
    }

    /// Service guides, filtered and paginated, live. Subscribing to drafts
    /// needs a token that may see them.
    #[graphql(complexity = "crate::pagination::cost(first, child_complexity)")]
    async fn guides(
        &self,
        ctx: &Context<'_>,
        filter: Option<GuideFilterInput>,
        #[graphql(desc = "How many guides to return: 20 unless given, at most 100.")] first: Option<
            i32,
        >,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
    ) -> async_graphql::Result<impl Stream<Item = DirectPage<ServiceGuide>>> {
        let drafts = filter
            .as_ref()
            .is_some_and(|filter| filter.status == Some(GuideStatus::Draft));
        may_watch_drafts(ctx, drafts).or_api()?;
        // A subscription follows this node's commits, so it reads replicas.
        let source = filter
            .as_ref()
            .is_some_and(GuideFilterInput::names_zone)
            .then_some(crate::zone_parts::ZoneSource::Replica);
        Ok(now(CatalogueQuery
            .guides(ctx, filter, first, after, source)
            .await?))
    }

    /// Standards, filtered and paginated, live. Subscribing to drafts needs
    /// a token that may see them.
    #[graphql(complexity = "crate::pagination::cost(first, child_complexity)")]
    async fn standards(
        &self,
        ctx: &Context<'_>,
        filter: Option<StandardFilterInput>,
        #[graphql(desc = "How many standards to return: 20 unless given, at most 100.")]
        first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
    ) -> async_graphql::Result<impl Stream<Item = DirectPage<Standard>>> {
        let drafts = filter
            .as_ref()
            .is_some_and(|filter| filter.status == Some(StandardStatus::Draft));
        may_watch_drafts(ctx, drafts).or_api()?;
        Ok(now(CatalogueQuery
            .standards(ctx, filter, first, after)
            .await?))
    }

    /// A zone's members side by side on one matter, live. It reads the
    /// replicas (source REPLICA), since only local commits push a new answer.
    async fn alignment(
        &self,
        ctx: &Context<'_>,
        zone: String,
        matter: String,
    ) -> async_graphql::Result<impl Stream<Item = Alignment>> {
        Ok(now(AlignmentQuery
            .alignment(
                ctx,
                zone,
                matter,
                Some(crate::zone_parts::ZoneSource::Replica),
            )
            .await?))
    }

    /// A zone's whole alignment matrix, live: the heatmap of a dashboard.
    /// It reads the replicas (source REPLICA), since only local commits
    /// push a new answer.
    async fn zone_alignment(
        &self,
        ctx: &Context<'_>,
        zone: String,
    ) -> async_graphql::Result<impl Stream<Item = Direct<ZoneAlignment>>> {
        Ok(now(AlignmentQuery
            .zone_alignment(ctx, zone, Some(crate::zone_parts::ZoneSource::Replica))
            .await?))
    }

    /// Published guides that break their national item's baseline, live.
    async fn baseline_violations(
        &self,
        ctx: &Context<'_>,
        region: Option<String>,
        zone: Option<String>,
    ) -> async_graphql::Result<impl Stream<Item = Vec<BaselineViolation>>> {
        // A subscription follows this node's commits, so it reads replicas.
        let source = zone
            .is_some()
            .then_some(crate::zone_parts::ZoneSource::Replica);
        Ok(now(PolicyQuery
            .baseline_violations(ctx, region, zone, source)
            .await?))
    }

    /// Business coverage of a region, or region coverage of a matter, or a
    /// served group's coverage, live. The arguments are the query's.
    async fn coverage(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A region's code, for its business coverage.")] region: Option<String>,
        #[graphql(desc = "A matter's code, for its region coverage.")] matter: Option<String>,
        #[graphql(
            desc = "A served group's code (`servedGroups` query): only the matters that serve it."
        )]
        served_group: Option<String>,
    ) -> async_graphql::Result<impl Stream<Item = Coverage>> {
        Ok(now(PolicyQuery
            .coverage(ctx, region, matter, served_group)
            .await?))
    }

    /// How equal regions are on a metric, live.
    async fn equalization(
        &self,
        ctx: &Context<'_>,
        metric: EqualizationMetric,
        #[graphql(desc = "A zone's code; the nation when omitted.")] zone: Option<String>,
        #[graphql(desc = "The evaluation period, e.g. `2025-Q3`.")] period: Option<String>,
        #[graphql(desc = "One matter only; else each region's mean over its matters.")]
        matter: Option<String>,
        #[graphql(
            desc = "A served group's code (`servedGroups` query): only the matters that serve it."
        )]
        served_group: Option<String>,
    ) -> async_graphql::Result<impl Stream<Item = Equalization>> {
        Ok(now(PolicyQuery
            .equalization(ctx, metric, zone, period, matter, served_group)
            .await?))
    }

    /// Each peer this node syncs from, live. Needs SYNC_AGENT or NATIONAL_ADMIN.
    async fn sync_status(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = Vec<PeerStatus>>> {
        Ok(now(SyncQuery.sync_status(ctx).await?))
    }

    /// This node's committed changes after `after`, as they commit: a page
    /// at once when there are changes to send, then one page of at most
    /// `first` changes whenever more commit. Pages are never empty. Needs
    /// SYNC_AGENT or NATIONAL_ADMIN.
    async fn changes<'a>(
        &self,
        ctx: &'a Context<'_>,
        #[graphql(desc = "The `endCursor` of the last page applied; from the start when omitted.")]
        after: Option<String>,
        #[graphql(desc = "How many changes a page holds at most, up to 1000.")] first: i32,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<Paged<Change>>> + 'a> {
        let mut versions = ctx
            .data::<tokio::sync::watch::Receiver<i64>>()
            .map_err(|_| ApiError::Internal("the schema was built without a data watch".into()))
            .or_api()?
            .clone();
        // Marked before each read, so that a commit landing during the read
        // is waited for rather than missed.
        versions.mark_unchanged();
        // The first page is read here, so that a refusal (no right to the
        // feed, a bad cursor) refuses the subscription itself.
        let page = SyncQuery.changes(ctx, after.clone(), first).await?;
        let feed = Feed {
            first_page: Some(page),
            cursor: after,
            versions,
            wait: false,
        };
        Ok(stream::unfold(feed, move |mut feed| async move {
            loop {
                let page = match feed.first_page.take() {
                    Some(page) => page,
                    None => {
                        if feed.wait {
                            // `changed` marks the version seen, so a commit
                            // during the read below wakes the next wait.
                            feed.versions.changed().await.ok()?;
                        }
                        match SyncQuery.changes(ctx, feed.cursor.clone(), first).await {
                            Ok(page) => page,
                            Err(error) => {
                                feed.wait = true;
                                return Some((Err(error), feed));
                            }
                        }
                    }
                };
                feed.wait = !page.has_next_page;
                let Some(last) = page.edges.last() else {
                    continue;
                };
                feed.cursor = Some(last.cursor.clone());
                return Some((Ok(page), feed));
            }
        }))
    }
}

/// Where a `changes` subscription is in the feed.
struct Feed {
    /// The page read when the subscription started, not yet sent.
    first_page: Option<Paged<Change>>,
    /// The cursor of the last change sent.
    cursor: Option<String>,
    /// The data version, which moves with every commit.
    versions: tokio::sync::watch::Receiver<i64>,
    /// Whether the feed was read to its end: the next read waits for a commit.
    wait: bool,
}

/// What a document asks for, as far as a transport must know before it runs
/// it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperationKind {
    Query,
    Mutation,
    /// A subscription to a live read: one answer per data version.
    Live,
    /// A subscription that is a stream of its own (see [`STREAMED_FIELDS`]).
    Streamed,
}

/// The kind of the operation `request` would run, or why it cannot run: a
/// document past the `limits` on its text, that does not parse, names no
/// operation among several, or subscribes to other than exactly one root
/// field.
pub fn operation_kind(
    limits: &crate::Limits,
    request: &mut async_graphql::Request,
) -> Result<OperationKind, async_graphql::ServerError> {
    use async_graphql::parser::types::{DocumentOperations, OperationType};
    crate::check_text(limits, &request.query)?;
    let wanted = request.operation_name.clone();
    let document = request.parsed_query()?.clone();
    let operation = match (&document.operations, wanted.as_deref()) {
        (DocumentOperations::Single(operation), _) => Some(operation),
        (DocumentOperations::Multiple(operations), Some(name)) => operations.get(name),
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => {
            operations.values().next()
        }
        (DocumentOperations::Multiple(_), None) => {
            return Err(client_error(
                "the document holds several operations: name one in `operationName`",
            ));
        }
    };
    let Some(operation) = operation else {
        return Err(client_error("the document has no operation of that name"));
    };
    match operation.node.ty {
        OperationType::Query => Ok(OperationKind::Query),
        OperationType::Mutation => Ok(OperationKind::Mutation),
        OperationType::Subscription => {
            let mut fields = Vec::new();
            let mut seen = std::collections::HashSet::new();
            root_fields(
                &document,
                &operation.node.selection_set.node,
                &mut seen,
                &mut fields,
            );
            match fields.as_slice() {
                [field] if STREAMED_FIELDS.contains(&field.as_str()) => Ok(OperationKind::Streamed),
                [_] => Ok(OperationKind::Live),
                _ => Err(client_error(
                    "a subscription must select exactly one root field",
                )),
            }
        }
    }
}

/// The names of the fields of a selection set, through its fragments; each
/// fragment is followed once, so a cycle ends.
fn root_fields<'a>(
    document: &'a async_graphql::parser::types::ExecutableDocument,
    set: &'a async_graphql::parser::types::SelectionSet,
    seen: &mut std::collections::HashSet<&'a str>,
    names: &mut Vec<String>,
) {
    use async_graphql::parser::types::Selection;
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) => names.push(field.node.name.node.to_string()),
            Selection::InlineFragment(fragment) => {
                root_fields(document, &fragment.node.selection_set.node, seen, names)
            }
            Selection::FragmentSpread(spread) => {
                let name = spread.node.fragment_name.node.as_str();
                if seen.insert(name)
                    && let Some(fragment) = document.fragments.get(name)
                {
                    root_fields(document, &fragment.node.selection_set.node, seen, names);
                }
            }
        }
    }
}

fn client_error(message: &str) -> async_graphql::ServerError {
    let mut error = async_graphql::ServerError::new(message, None);
    let mut extensions = async_graphql::ErrorExtensionValues::default();
    extensions.set("code", "BAD_USER_INPUT");
    error.extensions = Some(extensions);
    error
}
