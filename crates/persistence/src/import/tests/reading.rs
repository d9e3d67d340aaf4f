//! Reading and checking files without a database.

use chrono::NaiveDate;
use concord_domain::{Channel, Fee, GuideStatus, RegionCode, StandardCode, StandardStatus};

use super::{CATALOGUE, GUIDES};
use crate::import::{Entry, Format, ImportKind, parse};

fn entries(kind: Option<ImportKind>, format: Format, text: &str) -> Vec<Entry> {
    parse(kind, format, text)
        .unwrap_or_else(|problems| panic!("{problems:#?}"))
        .into_iter()
        .map(|record| record.entry)
        .collect()
}

fn problems(kind: Option<ImportKind>, format: Format, text: &str) -> Vec<String> {
    match parse(kind, format, text) {
        Ok(records) => panic!("no problems in {records:#?}"),
        Err(problems) => problems.iter().map(ToString::to_string).collect(),
    }
}

fn csv(kind: ImportKind, text: &str) -> Vec<String> {
    problems(Some(kind), Format::Csv, text)
}

fn json(text: &str) -> Vec<String> {
    problems(None, Format::Json, text)
}

#[test]
fn a_guides_csv_is_read_with_its_defaults() {
    // Excel's "CSV UTF-8" starts with a byte-order mark.
    let text = format!("\u{feff}{GUIDES}");
    let entries = entries(Some(ImportKind::Guides), Format::Csv, &text);
    let [Entry::Guide(first), Entry::Guide(second)] = entries.as_slice() else {
        panic!("{entries:#?}");
    };
    assert_eq!(first.region.as_str(), "330000");
    assert_eq!(first.guide.fee, Fee::FREE);
    assert_eq!(first.guide.materials, ["居民身份证", "劳动合同"]);
    assert_eq!(first.guide.channels, [Channel::Counter, Channel::Online]);
    assert_eq!(first.status, GuideStatus::Published);
    assert!(!first.illustrative);
    assert_eq!(second.guide.fee.fen(), 1250);
    assert_eq!(second.status, GuideStatus::Draft);
}

#[test]
fn a_fee_follows_the_one_grammar_of_amounts() {
    let text = "\
region,matter,time_limit_days,fee,materials,channels
330000,EMP-A,5,12.,身份证,COUNTER
330000,EMP-B,5,12.345,身份证,COUNTER
330000,EMP-C,5,-1,身份证,COUNTER
330000,EMP-D,5,1e3,身份证,COUNTER
";
    let refused = csv(ImportKind::Guides, text);
    assert_eq!(refused.len(), 4, "{refused:#?}");
    for (problem, why) in refused.iter().zip([
        "`12.` is not an amount in yuan: a point must be followed by one or two digits",
        "`12.345` is not an amount in yuan: a fee has at most two decimals",
        "`-1` is not an amount in yuan: it may hold only digits",
        "`1e3` is not an amount in yuan: it may hold only digits",
    ]) {
        assert!(
            problem.contains("column fee") && problem.contains(why),
            "{problem}"
        );
    }
    // A JSON number is read from its text: exact, and under the same grammar.
    let number = |fee: &str| {
        format!(
            r#"{{ "guides": [{{ "region": "330000", "matter": "EMP-A", "timeLimitDays": 5,
                    "fee": {fee}, "materials": [], "channels": ["ONLINE"] }}] }}"#
        )
    };
    let entries = entries(None, Format::Json, &number("0.10"));
    let [Entry::Guide(guide)] = entries.as_slice() else {
        panic!("{entries:#?}");
    };
    assert_eq!(guide.guide.fee.to_string(), "0.10");
    for bad in ["12.345", "1e3", "-0", "\"12.\""] {
        let refused = json(&number(bad));
        assert!(
            refused.len() == 1 && refused[0].contains("is not an amount in yuan"),
            "{bad}: {refused:#?}"
        );
    }
}

#[test]
fn a_bad_guides_csv_names_each_line_and_column() {
    let text = "\
region,matter,time_limit_days,materials,channels
330000,EMP-A,5,身份证,COUNTER
330000,EMP-B,0,身份证,COUNTER
330000,EMP-C,5,身份证,COUNTER;FAX
";
    assert_eq!(
        csv(ImportKind::Guides, text),
        [
            "line 3, column time_limit_days: must be between 1 and 250 working days",
            "line 4, column channels: item 2: `FAX` is not one of COUNTER, ONLINE, MOBILE, CROSS_PROVINCE",
        ]
    );
}

#[test]
fn csv_headers_and_row_lengths_are_checked() {
    let text = "\
region,matter,time_limt_days,materials,channels
330000,EMP-A,5,身份证,COUNTER
330000,EMP-B,5,身份证
330000,EMP-C,5,身份证,COUNTER,
";
    assert_eq!(
        csv(ImportKind::Guides, text),
        [
            "line 1, column time_limt_days: unknown column (the columns of guides are region, matter, time_limit_days, fee, materials, channels, legal_basis, guarantee_level, status, illustrative)",
            "line 1: the required column `time_limit_days` is missing",
            "line 3: has 4 fields, but the header has 5",
            "line 4: has 6 fields, but the header has 5",
        ]
    );
    let unnamed = problems(None, Format::Csv, GUIDES);
    assert_eq!(unnamed.len(), 1);
    assert!(unnamed[0].starts_with("line 1: a CSV file holds one kind"));
}

#[test]
fn a_matters_csv_is_read_and_checked() {
    let text = "\
code,name_zh,name_en,category,national_edition,national_number,standards,illustrative
EMP-TEST-ONE,测试一,Test one,EMPLOYMENT,2023,2,GB/T 33532; GB/T 33527,false
EMP-TEST-TWO,测试二,Test two,EMPLOYMENT,,,,TRUE
";
    let entries = entries(Some(ImportKind::Matters), Format::Csv, text);
    let [Entry::Matter(one), Entry::Matter(two)] = entries.as_slice() else {
        panic!("{entries:#?}");
    };
    assert_eq!(one.national_item, Some((2023, 2)));
    let standards: Vec<&str> = one
        .standards
        .iter()
        .flatten()
        .map(StandardCode::as_str)
        .collect();
    assert_eq!(standards, ["GB/T 33532", "GB/T 33527"]);
    // A blank cell in a present column is an empty list: it clears the links.
    assert_eq!(
        (two.national_item, two.standards.as_deref()),
        (None, Some(&[][..]))
    );
    assert!(two.illustrative);

    let bad = "\
code,name_zh,name_en,category,national_edition,national_number,standards
EMP-TEST-ONE,测试一,Test one,EMPLOYMENT,2023,,
emp-bad,测试二,Test two,EMPLOYMENT,,,GB/T 33527;GB/T 33527
EMP-TEST-ONE,,Test three,EMPLOYMENT,,x,
";
    assert_eq!(
        csv(ImportKind::Matters, bad),
        [
            "line 2, column national_number: is required with the national edition: give both or neither",
            "line 3, column code: matter code `emp-bad` must be 2 to 40 capital letters, digits, `_` or `-`, starting with a letter (e.g. `SI-PENSION-TRANSFER`)",
            "line 3, column standards: item 2: `GB/T 33527` is listed twice",
            "line 4, column name_zh: must not be empty",
            "line 4, column national_number: `x` is not a whole number",
            "line 4, column code: matter `EMP-TEST-ONE` is already on line 2",
        ]
    );
}

#[test]
fn a_standards_csv_is_read_and_checked() {
    let text = "\
code,title_zh,title_en,level,status,issuing_region,issuing_zone,issued_on,effective_on,supersedes,note,matters
DB33/T 9999-2025,测试标准,,LOCAL,,,,2025-01-02,2025-02-01,,,EMP-TEST-ONE
T/TEST 1-2025,团体标准,Group,GROUP,DRAFT,,,,,,a note,
";
    let entries = entries(Some(ImportKind::Standards), Format::Csv, text);
    let [Entry::Standard(local), Entry::Standard(group)] = entries.as_slice() else {
        panic!("{entries:#?}");
    };
    // A local standard is issued in the province of its `DB` code.
    assert_eq!(
        local.issuing_region.as_ref().map(RegionCode::as_str),
        Some("330000")
    );
    assert_eq!(local.status, StandardStatus::InForce);
    assert_eq!(local.effective_on, NaiveDate::from_ymd_opt(2025, 2, 1));
    assert_eq!(
        (group.status, group.note.as_str()),
        (StandardStatus::Draft, "a note")
    );

    let bad = "\
code,title_zh,level,issuing_region,issuing_zone,issued_on,effective_on,supersedes
GB/T 1-2020,国标,LOCAL,,,,,
DB33/T 1-2020,地标,LOCAL,510000,,,,
DB33/T 2-2020,地标,LOCAL,,YRD,2020-05-01,2020-04-01,DB33/T 2-2020
DB33/T 3-2020,地标,REGIONAL,,YRD,2020-13-01,,
DB33/T 4-2020,地标,PROVINCIAL,,,,,
DB31/T 5-2020,区标,REGIONAL,,,,,
";
    let found = csv(ImportKind::Standards, bad);
    let places: Vec<&str> = found
        .iter()
        .map(|p| p.split(':').next().unwrap_or_default())
        .collect();
    assert_eq!(
        places,
        [
            "line 2, column level",
            "line 3, column issuing_region",
            "line 4, column issuing_zone",
            "line 4, column effective_on",
            "line 4, column supersedes",
            "line 5, column issued_on",
            "line 6, column level",
            "line 7, column issuing_zone",
        ]
    );
    assert!(found[0].contains("`GB/T 1-2020` cannot be the code of a LOCAL standard"));
    assert!(found[1].contains("`DB33/T 1-2020` is a standard of 330000, not of 510000"));
    assert!(found[3].ends_with(
        "a standard cannot come into force (2020-04-01) before it is published (2020-05-01)"
    ));
    assert!(found[5].ends_with("`2020-13-01` is not a date written YYYY-MM-DD"));
    assert!(found[6].ends_with(
        "`PROVINCIAL` is not one of NATIONAL, INDUSTRY, LOCAL, REGIONAL, GROUP, INTERNAL"
    ));
    assert!(found[7].ends_with("a regional standard needs the zone that issues it"));
}

#[test]
fn a_procedures_csv_groups_its_rows_by_region_and_matter() {
    let text = "\
region,matter,step,name,actor,time_limit_days
330000,EMP-TEST-ONE,2,审核,经办机构,2
330000,EMP-TEST-ONE,1,受理,窗口,1
320000,EMP-TEST-ONE,1,受理,窗口,1
";
    let entries = entries(Some(ImportKind::Procedures), Format::Csv, text);
    let [Entry::Procedure(zhejiang), Entry::Procedure(jiangsu)] = entries.as_slice() else {
        panic!("{entries:#?}");
    };
    assert_eq!(zhejiang.region.as_str(), "330000");
    let names: Vec<&str> = zhejiang.steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["受理", "审核"]);
    assert_eq!(jiangsu.steps.len(), 1);

    let bad = "\
region,matter,step,name,actor,time_limit_days
330000,EMP-TEST-ONE,1,受理,窗口,1
330000,EMP-TEST-ONE,3,审核,经办机构,2
320000,EMP-TEST-ONE,1,受理,窗口,1
320000,EMP-TEST-ONE,1,审核,,3
310000,EMP-TEST-ONE,1,受理,窗口,300
";
    assert_eq!(
        csv(ImportKind::Procedures, bad),
        [
            "line 2, column step: the steps of a procedure are numbered 1, 2, 3... without gaps; missing: 2",
            "line 5, column actor: must not be empty",
            "line 5, column step: step 1 of this procedure is already on line 4",
            "line 6, column time_limit_days: must be between 0 and 250 working days",
        ]
    );
}

/// Found by fuzzing: every position below a step's number was listed
/// as missing, so a step numbered in the billions took minutes and
/// gigabytes to refuse.
#[test]
fn a_step_number_past_the_most_steps_is_refused_at_once() {
    let text = "\
region,matter,step,name,actor,time_limit_days
330000,EMP-TEST-ONE,1,受理,窗口,1
330000,EMP-TEST-ONE,31,审核,经办机构,1
330000,EMP-TEST-ONE,9223372036854775807,办结,经办机构,1
";
    assert_eq!(
        csv(ImportKind::Procedures, text),
        [
            "line 3, column step: must be between 1 and 30 (a procedure has at most 30 steps)",
            "line 4, column step: must be between 1 and 30 (a procedure has at most 30 steps)",
        ]
    );
}

#[test]
fn a_json_file_carries_every_kind_in_the_order_they_apply() {
    let entries = entries(None, Format::Json, CATALOGUE);
    let kinds: Vec<ImportKind> = entries.iter().map(Entry::kind).collect();
    // The file carries every kind but national items.
    assert_eq!(kinds, ImportKind::ALL[1..]);
    let Entry::Guide(guide) = &entries[2] else {
        panic!("{entries:#?}");
    };
    assert_eq!(guide.guide.fee.fen(), 1250);
    assert_eq!(guide.guide.guarantee_level, None);

    let only = problems(Some(ImportKind::Guides), Format::Json, CATALOGUE);
    assert_eq!(
        only,
        [
            "line 2, column 14: matters: this import was asked for guides only (--kind guides)",
            "line 13, column 17: procedures: this import was asked for guides only (--kind guides)",
            "line 34, column 16: standards: this import was asked for guides only (--kind guides)",
        ]
    );
}

#[test]
fn a_json_problem_points_at_the_value() {
    let text = r#"{
  "guides": [
    {
      "region": "330000",
      "matter": "EMP-TEST-ONE",
      "timeLimitDays": 0,
      "materials": [],
      "channels": ["COUNTER", "FAX"]
    }
  ]
}"#;
    assert_eq!(
        json(text),
        [
            "line 6, column 24: guides[0].timeLimitDays: must be between 1 and 250 working days",
            "line 8, column 31: guides[0].channels[1]: `FAX` is not one of COUNTER, ONLINE, MOBILE, CROSS_PROVINCE",
        ]
    );

    // Columns count characters, not bytes.
    let text = r#"{"matters": [
    {"nameZh": "测试", "nameEn": 7, "code": "EMP-X", "category": "EMPLOYMENT", "nationalNumber": "2"}
]}"#;
    assert_eq!(
        json(text),
        [
            "line 2, column 32: matters[0].nameEn: must be a string",
            "line 2, column 96: matters[0].nationalNumber: must be a whole number",
        ]
    );
}

#[test]
fn json_structure_problems_are_reported() {
    let text = r#"{
  "guides": [
    { "region": "330000", "matterr": "EMP-TEST-ONE", "timeLimitDays": 5, "materials": [], "channels": ["ONLINE"] },
    [],
    { "region": "330000", "matter": "EMP-TEST-ONE", "timeLimitDays": 5, "materials": [], "channels": ["ONLINE"] },
    { "region": "330000", "matter": "EMP-TEST-ONE", "timeLimitDays": 5, "materials": [], "channels": ["ONLINE"] }
  ],
  "matter": []
}"#;
    assert_eq!(
        json(text),
        [
            "line 3, column 38: guides[0].matterr: unknown field (the fields are region, matter, timeLimitDays, fee, materials, channels, legalBasis, guaranteeLevel, status, illustrative)",
            "line 3, column 5: guides[0]: the required field `matter` is missing",
            "line 4, column 5: guides[1]: must be an object",
            "line 6, column 37: guides[3].matter: the guide of region 330000 for `EMP-TEST-ONE` is already on line 5",
            "line 8, column 13: matter: unknown key (a file may carry nationalItems, matters, standards, guides and procedures)",
        ]
    );

    let syntax = json("{\n  \"guides\": [\n    { \"region\": \"330000\", }\n  ]\n}");
    assert_eq!(syntax, ["line 3, column 27: key must be a string"]);
    let not_an_object = json("[]");
    assert_eq!(
        not_an_object,
        [
            "line 1, column 1: the file must be a JSON object with any of the keys nationalItems, matters, standards, guides and procedures"
        ]
    );
}

#[test]
fn steps_must_fit_a_guide_in_the_same_file() {
    let text = r#"{
  "guides": [
    { "region": "330000", "matter": "EMP-TEST-ONE", "timeLimitDays": 2, "materials": [], "channels": ["ONLINE"] }
  ],
  "procedures": [
    {
      "region": "330000",
      "matter": "EMP-TEST-ONE",
      "steps": [
        { "name": "受理", "actor": "窗口", "timeLimitDays": 1 },
        { "name": " ", "actor": "经办机构", "timeLimitDays": 2 }
      ]
    },
    {
      "region": "320000",
      "matter": "EMP-TEST-ONE",
      "steps": [
        { "name": "受理", "actor": "窗口", "timeLimitDays": 1 },
        { "name": "审核", "actor": "经办机构", "timeLimitDays": 2 }
      ]
    },
    {
      "region": "330000",
      "matter": "EMP-TEST-ONE",
      "steps": [
        { "name": "受理", "actor": "窗口", "timeLimitDays": 1 },
        { "name": "审核", "actor": "经办机构", "timeLimitDays": 2 }
      ]
    }
  ]
}"#;
    // The 320000 procedure has no guide in this file: it is checked
    // against the database on import.
    assert_eq!(
        json(text),
        [
            "line 11, column 19: procedures[0].steps[1].name: must not be empty",
            "line 24, column 17: procedures[2].matter: the procedure of region 330000 for `EMP-TEST-ONE` is already on line 8",
        ]
    );
    let over = r#"{
  "guides": [
    { "region": "330000", "matter": "EMP-TEST-ONE", "timeLimitDays": 2, "materials": [], "channels": ["ONLINE"] }
  ],
  "procedures": [
    {
      "region": "330000",
      "matter": "EMP-TEST-ONE",
      "steps": [{ "name": "受理", "actor": "窗口", "timeLimitDays": 1 }, { "name": "审核", "actor": "经办机构", "timeLimitDays": 2 }]
    }
  ]
}"#;
    assert_eq!(
        json(over),
        [
            "line 9, column 16: procedures[0].steps: the steps take 3 working days, more than the guide's 2"
        ]
    );
}

#[test]
fn links_listed_on_both_sides_must_agree() {
    let text = r#"{
  "matters": [
    { "code": "EMP-TEST-ONE", "nameZh": "测试一", "nameEn": "Test one", "category": "EMPLOYMENT", "standards": [] }
  ],
  "standards": [
    { "code": "GB/T 33527", "titleZh": "公共就业服务总则", "level": "NATIONAL", "matters": ["EMP-TEST-ONE"] }
  ]
}"#;
    assert_eq!(
        json(text),
        [
            "line 6, column 85: standards[0].matters[0]: matter `EMP-TEST-ONE` (line 3) does not list `GB/T 33527`: a file that lists links on both sides must agree"
        ]
    );
}
