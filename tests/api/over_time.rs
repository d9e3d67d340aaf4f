//! The policy over time: the equalization index period by period, from
//! the guides' revision history, and standards falling due for review.

use serde_json::{Value, json};

use crate::helpers::{As, TestApp, code, storage_test};

const MATTER: &str = "SI-TREND-TEST";

/// The README's worked example: Jing-Jin-Ji members' time limits (working
/// days) and since when each stood (09:00 UTC that day).
const HISTORY: [(&str, &[(i64, &str)]); 3] = [
    ("110000", &[(10, "2025-01-15"), (6, "2025-08-10")]),
    (
        "120000",
        &[(20, "2025-02-01"), (12, "2025-05-20"), (6, "2025-07-02")],
    ),
    (
        "130000",
        &[(30, "2025-03-03"), (14, "2025-06-30"), (9, "2025-09-30")],
    ),
];

const TREND: &str = "query($m: EqualizationMetric!, $from: NaiveDate!, $to: NaiveDate!, $g: TrendGranularity!) {
    equalizationTrend(metric: $m, zone: \"JJJ\", matter: \"SI-TREND-TEST\", from: $from, to: $to, granularity: $g) {
        scope matter points { period start end coefficientOfVariation mean regions noData reason } } }";

/// Publishes each version of the example through the API, then dates its
/// kept versions as if each had been made on its day.
async fn revise_over_three_quarters(app: &TestApp) {
    app.data_as(
        As::National,
        "mutation($m: String!) { saveMatter(input: { code: $m, nameZh: \"趋势测试事项\", category: \"SOCIAL_INSURANCE\" }) { code } }",
        json!({ "m": MATTER }),
    )
    .await;
    let mut dated = Vec::new();
    for (region, versions) in HISTORY {
        let mut revision: Option<i64> = None;
        for (days, day) in versions {
            let saved = app
                .data_as(
                    As::Province(region),
                    "mutation($r: String!, $m: String!, $d: Int!, $e: Int) { saveGuide(input: { region: $r, matter: $m, timeLimitDays: $d, fee: \"0\", materials: [\"居民身份证\"], channels: [ONLINE], expectedRevision: $e }) { revision } }",
                    json!({ "r": region, "m": MATTER, "d": days, "e": revision }),
                )
                .await;
            let draft = saved["saveGuide"]["revision"].as_i64().unwrap();
            let published = app
                .data_as(
                    As::Province(region),
                    "mutation($r: String!, $m: String!, $e: Int!) { publishGuide(region: $r, matter: $m, expectedRevision: $e) { revision } }",
                    json!({ "r": region, "m": MATTER, "e": draft }),
                )
                .await;
            let published = published["publishGuide"]["revision"].as_i64().unwrap();
            dated.push((region, vec![draft, published], *day));
            revision = Some(published);
        }
    }
    use concord_persistence::entity::row_revision;
    use sea_orm::prelude::DateTimeUtc;
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let db = sea_orm::Database::connect(&app.database_url).await.unwrap();
    for (region, revisions, day) in dated {
        let at: DateTimeUtc = format!("{day}T09:00:00Z").parse().unwrap();
        row_revision::Entity::update_many()
            .col_expr(row_revision::Column::ChangedAt, Expr::value(at))
            .filter(row_revision::Column::Kind.eq("GUIDE"))
            .filter(row_revision::Column::RowKey.eq(format!("{region}/{MATTER}")))
            .filter(row_revision::Column::Revision.is_in(revisions))
            .exec(&db)
            .await
            .unwrap();
    }
}

fn assert_close(actual: &Value, expected: f64, what: &str) {
    let actual = actual
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: {actual}"));
    assert!(
        (actual - expected).abs() < 5e-5,
        "{what}: {actual} ≠ {expected}"
    );
}

storage_test!(the_equalization_trend_follows_the_revision_history, |app| {
    revise_over_three_quarters(&app).await;
    let trend = app
        .data(
            TREND,
            json!({ "m": "TIME_LIMIT", "from": "2024-10-01", "to": "2025-10-01", "g": "QUARTER" }),
        )
        .await["equalizationTrend"]
        .clone();
    assert_eq!(trend["scope"], "JJJ");
    let points = trend["points"].as_array().unwrap();
    let periods: Vec<&str> = points
        .iter()
        .map(|p| p["period"].as_str().unwrap())
        .collect();
    assert_eq!(periods, ["2024-Q4", "2025-Q1", "2025-Q2", "2025-Q3"]);

    // Before any guide: no data, not an index of zero.
    assert_eq!(points[0]["noData"], true);
    assert!(points[0]["coefficientOfVariation"].is_null());
    assert!(points[0]["mean"].is_null());
    assert_eq!(points[0]["regions"], 0);
    assert!(
        points[0]["reason"]
            .as_str()
            .unwrap()
            .contains("no published guide")
    );

    // The README's worked example: 10, 20, 30; then 10, 12, 14; then 6, 6, 9.
    for (point, mean, cv) in [
        (&points[1], 20.0, 0.408248),
        (&points[2], 12.0, 0.136083),
        (&points[3], 7.0, 0.202031),
    ] {
        assert_eq!(point["noData"], false, "{point}");
        assert!(point["reason"].is_null());
        assert_eq!(point["regions"], 3);
        assert_close(&point["mean"], mean, "mean");
        assert_close(
            &point["coefficientOfVariation"],
            cv,
            "coefficient of variation",
        );
    }
    assert_eq!(points[3]["start"], "2025-07-01");
    assert_eq!(points[3]["end"], "2025-10-01");

    // Evaluated metrics take evaluations; there are none for this matter.
    let evaluated = app
        .data(
            TREND,
            json!({ "m": "SATISFACTION", "from": "2025-01-01", "to": "2025-07-01", "g": "QUARTER" }),
        )
        .await;
    for point in evaluated["equalizationTrend"]["points"].as_array().unwrap() {
        assert_eq!(point["noData"], true, "{point}");
        assert!(point["coefficientOfVariation"].is_null());
        assert_eq!(point["reason"], "no evaluation falls in the period");
    }

    // The history is read once for the range: 3 months cost what 120 do.
    let mut counts = Vec::new();
    for (from, to) in [("2025-01-01", "2025-04-01"), ("2016-01-01", "2026-01-01")] {
        let before = app.statements().await;
        let points = app
            .data(
                TREND,
                json!({ "m": "FEE", "from": from, "to": to, "g": "MONTH" }),
            )
            .await["equalizationTrend"]["points"]
            .as_array()
            .unwrap()
            .len();
        counts.push((points, app.statements().await - before));
    }
    assert_eq!((counts[0].0, counts[1].0), (3, 120));
    assert_eq!(
        counts[0].1, counts[1].1,
        "statements for 3 vs 120 periods: {counts:?}"
    );

    for (from, to, g) in [
        ("2025-01-01", "2025-01-01", "MONTH"),
        ("2025-06-01", "2025-01-01", "YEAR"),
        ("2010-01-01", "2025-01-02", "MONTH"),
    ] {
        let refused = app
            .graphql(
                TREND,
                json!({ "m": "TIME_LIMIT", "from": from, "to": to, "g": g }),
            )
            .await;
        assert_eq!(code(&refused), "BAD_USER_INPUT", "{from}..{to}: {refused}");
    }
});

const DUE: &str = "query($due: Boolean) { standards(filter: { dueForReview: $due, region: \"330000\" }, first: 100) {
    edges { node { code reviewOn } } } }";

async fn due(app: &TestApp, flag: bool) -> Vec<String> {
    app.data_as(As::National, DUE, json!({ "due": flag })).await["standards"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["code"].as_str().unwrap().to_owned())
        .collect()
}

storage_test!(
    standards_fall_due_for_review_five_years_after_they_come_into_force,
    |app| {
        let create = "mutation($c: String!, $e: NaiveDate, $r: NaiveDate) { createStandard(input: { code: $c, titleZh: \"复审测试标准\", level: LOCAL, effectiveOn: $e, reviewOn: $r }) { reviewOn revision } }";
        // Five years on from 2019 has passed; from 2024, not yet.
        let old = app
            .data_as(
                As::Province("330000"),
                create,
                json!({ "c": "DB33/T 9401-2019", "e": "2019-03-01" }),
            )
            .await;
        assert_eq!(old["createStandard"]["reviewOn"], "2024-03-01");
        let recent = app
            .data_as(
                As::Province("330000"),
                create,
                json!({ "c": "DB33/T 9402-2024", "e": "2024-03-01" }),
            )
            .await;
        assert_eq!(recent["createStandard"]["reviewOn"], "2029-03-01");
        // A date set explicitly stands.
        let set = app
            .data_as(
                As::Province("330000"),
                create,
                json!({ "c": "DB33/T 9403-2024", "e": "2024-03-01", "r": "2025-01-01" }),
            )
            .await;
        assert_eq!(set["createStandard"]["reviewOn"], "2025-01-01");
        let before = app
            .graphql_as(
                As::Province("330000"),
                create,
                json!({ "c": "DB33/T 9404-2024", "e": "2024-03-01", "r": "2023-01-01" }),
            )
            .await;
        assert_eq!(code(&before), "BAD_USER_INPUT", "{before}");

        let listed = due(&app, true).await;
        assert!(
            listed.contains(&"DB33/T 9401-2019".to_owned()),
            "{listed:?}"
        );
        assert!(
            listed.contains(&"DB33/T 9403-2024".to_owned()),
            "{listed:?}"
        );
        assert!(
            !listed.contains(&"DB33/T 9402-2024".to_owned()),
            "{listed:?}"
        );
        let not_due = due(&app, false).await;
        assert!(
            not_due.contains(&"DB33/T 9402-2024".to_owned()),
            "{not_due:?}"
        );
        assert!(
            !not_due.contains(&"DB33/T 9401-2019".to_owned()),
            "{not_due:?}"
        );

        // A save that changes nothing keeps the date; a revision starts the
        // five years again from its new effective date.
        let revise = "mutation($c: String!, $e: NaiveDate, $r: Int!) { reviseStandard(code: $c, input: { titleZh: \"复审测试标准\", effectiveOn: $e }, expectedRevision: $r) { reviewOn revision } }";
        let same = app
            .data_as(
                As::Province("330000"),
                revise,
                json!({ "c": "DB33/T 9403-2024", "e": "2024-03-01", "r": 1 }),
            )
            .await;
        assert_eq!(same["reviseStandard"]["revision"], 1);
        assert_eq!(same["reviseStandard"]["reviewOn"], "2025-01-01");
        let revised = app
            .data_as(
                As::Province("330000"),
                revise,
                json!({ "c": "DB33/T 9401-2019", "e": "2026-01-01", "r": 1 }),
            )
            .await;
        assert_eq!(revised["reviseStandard"]["revision"], 2);
        assert_eq!(revised["reviseStandard"]["reviewOn"], "2031-01-01");
        assert!(
            !due(&app, true)
                .await
                .contains(&"DB33/T 9401-2019".to_owned())
        );
    }
);
