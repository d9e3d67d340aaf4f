//! Tests of the import as a whole: reading files, then loading them into a
//! database.

use std::path::Path;

use super::{Format, ImportKind};

mod loading;
mod national;
mod reading;

#[test]
fn the_kind_and_format_come_from_the_file_name() {
    let kind = |name: &str| ImportKind::of_file(Path::new(name));
    assert_eq!(kind("guides.csv"), Some(ImportKind::Guides));
    assert_eq!(kind("data/Guides-330000.CSV"), Some(ImportKind::Guides));
    assert_eq!(kind("procedures_zj.csv"), Some(ImportKind::Procedures));
    assert_eq!(kind("matters.2025.csv"), Some(ImportKind::Matters));
    assert_eq!(
        kind("national-items-2023.csv"),
        Some(ImportKind::NationalItems)
    );
    assert_eq!(kind("National_Items.csv"), Some(ImportKind::NationalItems));
    assert_eq!(kind("standardsx.csv"), None);
    assert_eq!(kind("catalogue.csv"), None);
    assert_eq!(Format::of(Path::new("a.JSON")), Some(Format::Json));
    assert_eq!(Format::of(Path::new("a.csv")), Some(Format::Csv));
    assert_eq!(Format::of(Path::new("a.xlsx")), None);
    assert_eq!("guides".parse::<ImportKind>(), Ok(ImportKind::Guides));
    assert!("guide".parse::<ImportKind>().is_err());
    assert_eq!(
        "national-items".parse::<ImportKind>(),
        Ok(ImportKind::NationalItems)
    );
}

const GUIDES: &str = "\
region,matter,time_limit_days,fee,materials,channels,legal_basis,status
330000,EMP-EMPLOYMENT-REGISTRATION,5,,居民身份证;劳动合同,ONLINE;COUNTER,《就业促进法》,
320000,EMP-EMPLOYMENT-REGISTRATION,3,12.50,居民身份证,ONLINE,,DRAFT
";

const CATALOGUE: &str = r#"{
  "matters": [
    {
      "code": "EMP-TEST-ONE",
      "nameZh": "测试一",
      "nameEn": "Test one",
      "category": "EMPLOYMENT",
      "nationalEdition": 2023,
      "nationalNumber": 2,
      "standards": ["GB/T 33527", "DB33/T 9999-2025"]
    }
  ],
  "procedures": [
    {
      "region": "330000",
      "matter": "EMP-TEST-ONE",
      "steps": [
        { "name": "受理", "actor": "窗口", "timeLimitDays": 1 },
        { "name": "审核", "actor": "经办机构", "timeLimitDays": 2 }
      ]
    }
  ],
  "guides": [
    {
      "region": "330000",
      "matter": "EMP-TEST-ONE",
      "timeLimitDays": 5,
      "fee": 12.5,
      "materials": ["居民身份证"],
      "channels": ["ONLINE", "COUNTER"],
      "guaranteeLevel": null
    }
  ],
  "standards": [
    {
      "code": "DB33/T 9999-2025",
      "titleZh": "测试标准",
      "level": "LOCAL",
      "matters": ["EMP-TEST-ONE"]
    }
  ]
}"#;
