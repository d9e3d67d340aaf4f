//! Loading the national standard's items, and the matters mapped to them:
//! official rows over illustrative ones, history, served groups, and the
//! same file twice.

use concord_domain::RowKind;
use sea_orm::{EntityTrait, PaginatorTrait};
use tempfile::TempDir;

use super::loading::{counts, write_file};
use concord_domain::{Channel, ServedGroup};

use crate::entity::{change_log, national_item, row_revision, service_matter};
use crate::import::{ImportError, ImportKind, import_file};
use crate::test_support::seeded_database;

/// Two items of the 2023 edition: number 8 is an illustrative seed row
/// (劳动人事争议调解仲裁), number 90 is new.
const ITEMS_CSV: &str = "\
edition,number,name_zh,name_en,category,area_zh,served_group,served_groups,content,baseline_standard,funding_responsibility,lead_department,max_time_limit_days,max_fee,required_channels
2023,8,劳动人事争议调解仲裁,Labour and personnel dispute mediation and arbitration,LABOUR_RELATIONS,劳有所得,劳动人事争议当事人,DISPUTE_PARTIES;EMPLOYERS,调解与仲裁服务,\"依法受理，按期结案\",地方人民政府,人力资源社会保障部,45,0,ONLINE;COUNTER
2023,90,测试项目,Test item,EMPLOYMENT,劳有所得,高校毕业生,COLLEGE_GRADUATES,,,,,,,
";

async fn item(db: &sea_orm::DatabaseConnection, number: i32) -> national_item::Model {
    national_item::Entity::find_by_id((2023, number))
        .one(db)
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn an_official_item_replaces_the_illustrative_one_and_keeps_it_in_history() {
    let db = seeded_database().await;
    let dir = TempDir::new().unwrap();
    let seeded = item(&db, 8).await;
    assert!(seeded.illustrative);
    let path = write_file(&dir, "national-items-2023.csv", ITEMS_CSV);

    let report = import_file(&db, &path, None).await.unwrap();
    assert_eq!(report.national_items, counts(1, 1, 0));
    assert_eq!(
        report.to_string(),
        "national-items: 1 inserted, 1 updated, 0 unchanged"
    );

    let official = item(&db, 8).await;
    assert!(
        !official.illustrative,
        "an official row is not illustrative"
    );
    assert_eq!(official.revision, seeded.revision + 1);
    assert_eq!(official.created_at, seeded.created_at);
    assert_eq!(official.served_group, "劳动人事争议当事人");
    assert_eq!(
        official.served_groups.as_ref().map(|g| g.0.clone()),
        Some(vec![ServedGroup::DisputeParties, ServedGroup::Employers])
    );
    assert_eq!(official.baseline_standard, "依法受理，按期结案");
    assert_eq!(official.funding_responsibility, "地方人民政府");
    assert_eq!(official.lead_department, "人力资源社会保障部");
    assert_eq!(official.max_time_limit_days, Some(45));
    assert_eq!(official.max_fee_fen, Some(0));
    assert_eq!(
        official.required_channels.as_ref().map(|c| c.0.clone()),
        Some(vec![Channel::Counter, Channel::Online]),
        "channels are stored in one order, so that the same file compares equal"
    );

    // The illustrative version is kept, and the official one names the import.
    let kept = row_revision::Entity::find()
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .filter(|row| row.kind == "NATIONAL_ITEM" && row.row_key == "2023/8")
        .collect::<Vec<_>>();
    assert_eq!(kept.len(), 2, "{kept:?}");
    assert_eq!(kept[0].revision, seeded.revision);
    assert_eq!(kept[0].snapshot["illustrative"], true);
    assert_eq!(kept[1].snapshot["illustrative"], false);
    assert_eq!(kept[1].snapshot["servedGroups"][0], "DISPUTE_PARTIES");
    assert_eq!(kept[1].changed_by.as_deref(), Some("concord import"));

    // Both rows replicate, the official one with its served groups.
    let logged: Vec<(String, i32)> = change_log::Entity::find()
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .filter(|row| row.kind == RowKind::NationalItem.as_str())
        .filter(|row| {
            row.record
                .as_ref()
                .is_some_and(|record| record["row"]["served_groups"].is_array())
        })
        .map(|row| (row.row_key, row.revision))
        .collect();
    assert!(
        logged.contains(&("2023/8".to_owned(), official.revision)),
        "{logged:?}"
    );
    assert!(logged.contains(&("2023/90".to_owned(), 1)), "{logged:?}");

    // The same file again changes nothing and leaves the data version.
    let version = crate::version::current(&db).await.unwrap();
    let again = import_file(&db, &path, None).await.unwrap();
    assert_eq!(again.national_items, counts(0, 0, 2));
    assert!(!again.changed());
    assert_eq!(crate::version::current(&db).await.unwrap(), version);
    assert_eq!(item(&db, 8).await.revision, official.revision);
}

#[tokio::test]
async fn bad_item_rows_are_reported_by_line_and_nothing_loads() {
    let db = seeded_database().await;
    let dir = TempDir::new().unwrap();
    let text = "\
edition,number,name_zh,category,served_groups,max_time_limit_days,max_fee,required_channels
2023,8,劳动人事争议调解仲裁,LABOUR_RELATIONS,DISPUTE_PARTIES,,,
1999,1,旧项目,EMPLOYMENT,,,,
2023,1000,过大,EMPLOYMENT,,,,
2023,91,未知群体,EMPLOYMENT,WORKERS;PENSIONERS,,,
2023,92,重复群体,EMPLOYMENT,WORKERS;WORKERS,0,-1,FAX
2024,93,未知版本,NOPE,,,,
2023,8,再次出现,LABOUR_RELATIONS,,,,
";
    let path = write_file(&dir, "national_items.csv", text);
    let before = item(&db, 8).await;
    let Err(ImportError::Invalid(problems)) = import_file(&db, &path, None).await else {
        panic!("a bad file was loaded");
    };
    let problems: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        problems,
        [
            "line 3, column edition: must be between 2000 and 2100",
            "line 4, column number: must be between 1 and 999",
            "line 5, column served_groups: item 2: `PENSIONERS` is not one of WORKERS, REGISTERED_UNEMPLOYED, EMPLOYMENT_DIFFICULTIES, COLLEGE_GRADUATES, UNEMPLOYED_YOUTH, VETERANS, MIGRANT_WORKERS, PEOPLE_WITH_DISABILITIES, MOBILE_PERSONNEL, EMPLOYERS, INSURED_PERSONS, RETIREES, RESIDENTS, INJURED_WORKERS, DISPUTE_PARTIES",
            "line 6, column max_fee: `-1` is not an amount in yuan: it may hold only digits and one point (no sign, exponent, space or separator) (write e.g. `0`, `20` or `12.50`)",
            "line 6, column required_channels: item 1: `FAX` is not one of COUNTER, ONLINE, MOBILE, CROSS_PROVINCE",
            "line 6, column served_groups: item 2: `WORKERS` is listed twice",
            "line 6, column max_time_limit_days: must be between 1 and 250 working days",
            "line 7, column edition: edition 2024 is not in the database",
            "line 7, column category: category `NOPE` is not in the database",
            "line 8, column number: national item 8 of the 2023 edition is already on line 2",
        ]
    );
    assert_eq!(item(&db, 8).await, before, "nothing was loaded");
}

/// Items and the matters mapped to them in one JSON file: a ministry's
/// matter list names each matter's item, its standards and, where a matter
/// serves other groups than its item, its own.
const MAPPED_JSON: &str = r#"{
  "nationalItems": [
    {
      "edition": 2023,
      "number": 95,
      "nameZh": "测试就业服务",
      "category": "EMPLOYMENT",
      "servedGroup": "登记失业人员、退役军人",
      "servedGroups": ["REGISTERED_UNEMPLOYED", "VETERANS"],
      "maxTimeLimitDays": 10,
      "maxFee": "0",
      "requiredChannels": ["ONLINE"]
    }
  ],
  "matters": [
    {
      "code": "EMP-TEST-MAPPED",
      "nameZh": "测试事项",
      "category": "EMPLOYMENT",
      "nationalEdition": 2023,
      "nationalNumber": 95,
      "standards": ["GB/T 33527"]
    },
    {
      "code": "EMP-TEST-OWN-GROUPS",
      "nameZh": "测试事项二",
      "category": "EMPLOYMENT",
      "nationalEdition": 2023,
      "nationalNumber": 95,
      "servedGroups": ["VETERANS"]
    }
  ]
}"#;

#[tokio::test]
async fn matters_map_to_items_of_the_same_file_and_may_set_their_own_groups() {
    let db = seeded_database().await;
    let dir = TempDir::new().unwrap();
    let path = write_file(&dir, "catalogue.json", MAPPED_JSON);
    let report = import_file(&db, &path, None).await.unwrap();
    assert_eq!(report.national_items, counts(1, 0, 0));
    assert_eq!(report.matters, counts(2, 0, 0));

    let mapped = service_matter::Entity::find_by_id("EMP-TEST-MAPPED")
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (mapped.national_edition, mapped.national_number),
        (Some(2023), Some(95))
    );
    assert_eq!(mapped.served_groups, None, "it takes its item's groups");
    let own = service_matter::Entity::find_by_id("EMP-TEST-OWN-GROUPS")
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        own.served_groups.map(|g| g.0),
        Some(vec![ServedGroup::Veterans])
    );
    let serving = |group| {
        let db = db.clone();
        async move {
            crate::queries::matters_serving(&db, group)
                .await
                .unwrap()
                .into_iter()
                .map(|m| String::from(m.code))
                .filter(|code| code.starts_with("EMP-TEST-"))
                .collect::<Vec<_>>()
        }
    };
    use concord_domain::ServedGroup;
    assert_eq!(
        serving(ServedGroup::RegisteredUnemployed).await,
        ["EMP-TEST-MAPPED"]
    );
    assert_eq!(
        serving(ServedGroup::Veterans).await,
        ["EMP-TEST-MAPPED", "EMP-TEST-OWN-GROUPS"]
    );

    let again = import_file(&db, &path, None).await.unwrap();
    assert!(!again.changed(), "{again}");

    // A matter whose item is neither in the file nor stored, or in another
    // category, is refused with the file's place.
    let wrong = MAPPED_JSON
        .replace(
            "\"nationalNumber\": 95,\n      \"standards\"",
            "\"nationalNumber\": 96,\n      \"standards\"",
        )
        .replace("\"VETERANS\"]\n    }\n  ]", "\"VETERAN\"]\n    }\n  ]");
    let path = write_file(&dir, "wrong.json", &wrong);
    let Err(ImportError::Invalid(problems)) = import_file(&db, &path, None).await else {
        panic!("a wrong mapping was loaded");
    };
    let problems: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems[0].ends_with(
            "matters[0].nationalNumber: national item 96 of the 2023 edition is neither in this file nor in the database"
        ),
        "{problems:?}"
    );
    assert!(
        problems[1].contains("matters[1].servedGroups[0]: `VETERAN` is not one of"),
        "{problems:?}"
    );
}

#[tokio::test]
async fn a_csv_of_items_needs_its_kind_and_a_json_key_its_camel_case() {
    let db = seeded_database().await;
    let dir = TempDir::new().unwrap();
    let path = write_file(&dir, "items.csv", ITEMS_CSV);
    let report = import_file(&db, &path, Some(ImportKind::NationalItems))
        .await
        .unwrap();
    assert_eq!(report.national_items.total(), 2);
    let path = write_file(&dir, "items.json", r#"{ "national-items": [] }"#);
    let Err(ImportError::Invalid(problems)) = import_file(&db, &path, None).await else {
        panic!("a misspelled key was accepted");
    };
    assert!(problems[0].message.contains("unknown key"), "{problems:?}");
    assert_eq!(
        national_item::Entity::find().count(&db).await.unwrap(),
        27,
        "13 illustrative items in each of two editions, and the one inserted"
    );
}

#[tokio::test]
async fn a_table_with_the_official_headings_loads_as_national_items() {
    let db = seeded_database().await;
    let dir = TempDir::new().unwrap();
    let table = "\
版本,序号,服务项目,类别,服务对象,服务内容,服务标准,支出责任,牵头负责单位,max_time_limit_days
2023,91,职业技能提升补贴,SKILLS,企业职工,按规定给予补贴,符合条件的按标准发放,地方人民政府负责,人力资源社会保障部,20
";
    let path = write_file(&dir, "official.csv", table);
    let report = import_file(&db, &path, Some(ImportKind::NationalItems))
        .await
        .unwrap();
    assert_eq!(report.national_items.total(), 1);
    let loaded = item(&db, 91).await;
    assert_eq!(loaded.name_zh, "职业技能提升补贴");
    assert_eq!(loaded.served_group, "企业职工");
    assert_eq!(loaded.content, "按规定给予补贴");
    assert_eq!(loaded.baseline_standard, "符合条件的按标准发放");
    assert_eq!(loaded.funding_responsibility, "地方人民政府负责");
    assert_eq!(loaded.lead_department, "人力资源社会保障部");
    assert_eq!(loaded.max_time_limit_days, Some(20));

    // A heading that is neither a column nor an official one is refused.
    let path = write_file(
        &dir,
        "odd.csv",
        "版本,序号,服务项目,类别,备注\n2023,92,某项目,SKILLS,无\n",
    );
    let Err(ImportError::Invalid(problems)) =
        import_file(&db, &path, Some(ImportKind::NationalItems)).await
    else {
        panic!("an unknown heading was accepted");
    };
    assert!(
        problems[0].message.contains("unknown column"),
        "{problems:?}"
    );
}
