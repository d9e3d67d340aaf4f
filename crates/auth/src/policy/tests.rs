use super::*;

/// The policy's answer without the proof.
fn allowed(
    principal: &Principal,
    action: Action,
    target: &Target<'_>,
    node: &Node,
) -> Result<(), Denial> {
    authorize(principal, action, target, node).map(|_| ())
}

fn region(code: &str) -> RegionCode {
    RegionCode::try_from(code).unwrap()
}

fn zone(code: &str) -> ZoneCode {
    ZoneCode::try_from(code).unwrap()
}

fn principal(role: Role, region_code: Option<&str>, zone_code: Option<&str>) -> Principal {
    Principal {
        subject: Some("test".into()),
        role: Some(role),
        region: region_code.map(region),
        zone: zone_code.map(zone),
    }
}

/// The callers of the table, in the order of its expectation strings.
fn callers() -> [(&'static str, Principal); 8] {
    [
        ("anonymous", Principal::anonymous()),
        ("VIEWER", principal(Role::Viewer, None, None)),
        (
            "PROVINCE_ADMIN 330000",
            principal(Role::ProvinceAdmin, Some("330000"), None),
        ),
        (
            "PROVINCE_ADMIN 320000",
            principal(Role::ProvinceAdmin, Some("320000"), None),
        ),
        (
            "ZONE_COORDINATOR YRD",
            principal(Role::ZoneCoordinator, None, Some("YRD")),
        ),
        ("NATIONAL_ADMIN", principal(Role::NationalAdmin, None, None)),
        ("SYNC_AGENT", principal(Role::SyncAgent, None, None)),
        (
            "FEDERATION 320000",
            principal(Role::Federation, Some("320000"), None),
        ),
    ]
}

/// `A` allowed, `U` Unauthenticated, `F` Forbidden.
fn outcome(result: &Result<(), Denial>) -> char {
    match result {
        Ok(()) => 'A',
        Err(Denial::Unauthenticated) => 'U',
        Err(Denial::Forbidden(_)) => 'F',
    }
}

#[test]
fn every_action_as_every_role_on_the_national_hub() {
    let zhejiang = region("330000");
    let yrd = zone("YRD");
    let regional_row = Target {
        region: Some(&zhejiang),
        ..Target::default()
    };
    let local_standard = Target {
        region: Some(&zhejiang),
        level: Some(StandardLevel::Local),
        zone: None,
    };
    let regional_standard = Target {
        region: None,
        level: Some(StandardLevel::Regional),
        zone: Some(&yrd),
    };
    let national_standard = Target {
        level: Some(StandardLevel::National),
        ..Target::default()
    };
    let industry_standard = Target {
        level: Some(StandardLevel::Industry),
        ..Target::default()
    };
    let national_row = Target::default();

    //                       anon VIEWER PA-own PA-other ZC NA SYNC
    let mut table = vec![
        (
            Action::SaveGuide,
            "guide of 330000",
            regional_row,
            "UFAFFAFF",
        ),
        (
            Action::PublishGuide,
            "guide of 330000",
            regional_row,
            "UFAFFAFF",
        ),
        (
            Action::UnpublishGuide,
            "guide of 330000",
            regional_row,
            "UFAFFAFF",
        ),
        (
            Action::SaveProcedure,
            "procedure of 330000",
            regional_row,
            "UFAFFAFF",
        ),
        (
            Action::PublishProcedure,
            "procedure of 330000",
            regional_row,
            "UFAFFAFF",
        ),
        (
            Action::GrantBaselineExemption,
            "national row",
            national_row,
            "UFFFFAFF",
        ),
        (
            Action::RevokeBaselineExemption,
            "national row",
            national_row,
            "UFFFFAFF",
        ),
        (
            Action::RecordEvaluation,
            "evaluation of 330000",
            regional_row,
            "UFAFFAFF",
        ),
        (Action::SaveMatter, "national row", national_row, "UFFFFAFF"),
        (
            Action::SaveNationalItem,
            "national row",
            national_row,
            "UFFFFAFF",
        ),
        (
            Action::DecideAdoption,
            "adoption of 330000",
            regional_row,
            "UFAFFAFF",
        ),
        (
            Action::ResolveSyncConflict,
            "sync conflict on a row of 330000",
            regional_row,
            "UFAFFAFF",
        ),
        (
            Action::DecideElevation,
            "elevation proposal",
            national_row,
            "UFFFFAFF",
        ),
        (Action::ReadAuditLog, "audit log", national_row, "UFAAFAFF"),
    ];
    for action in [
        Action::CreateStandard,
        Action::ReviseStandard,
        Action::SetStandardStatus,
        Action::SupersedeStandard,
        Action::ProposeCollaborativeStandard,
        Action::WithdrawCollaborativeStandard,
        Action::ProposeElevation,
    ] {
        table.extend([
            (
                action,
                "LOCAL standard of 330000",
                local_standard,
                "UFAFFAFF",
            ),
            (
                action,
                "REGIONAL standard of YRD",
                regional_standard,
                "UFFFAAFF",
            ),
            (action, "NATIONAL standard", national_standard, "UFFFFAFF"),
            (action, "INDUSTRY standard", industry_standard, "UFFFFAFF"),
        ]);
    }
    for action in Action::ALL {
        assert!(
            table.iter().any(|(a, ..)| a == action),
            "{action:?} is missing from the table"
        );
    }

    let hub = Node::default();
    for (action, what, target, expected) in &table {
        for ((who, caller), want) in callers().iter().zip(expected.chars()) {
            let result = allowed(caller, *action, target, &hub);
            assert_eq!(
                outcome(&result),
                want,
                "{who} {action:?} on {what}: {result:?}"
            );
            // The early check refuses only what every row would refuse.
            if let Err(early) = may_attempt(caller, *action) {
                assert_eq!(
                    result,
                    Err(early),
                    "{who} {action:?} on {what}: refused early, so refused alike"
                );
            }
        }
    }
    for action in Action::ALL {
        for (who, caller) in callers() {
            let somewhere = table
                .iter()
                .filter(|(a, ..)| a == action)
                .any(|(_, _, target, _)| allowed(&caller, *action, target, &hub).is_ok());
            if somewhere {
                assert_eq!(
                    may_attempt(&caller, *action),
                    Ok(()),
                    "{who} may {action:?} some row, so may attempt it"
                );
            }
        }
    }
}

#[test]
fn denials_say_why() {
    let hub = Node::default();
    let zhejiang = region("330000");
    let row = Target {
        region: Some(&zhejiang),
        ..Target::default()
    };
    let deny = |caller: &Principal, action, target: &Target<'_>| {
        allowed(caller, action, target, &hub)
            .unwrap_err()
            .to_string()
    };

    assert_eq!(
        deny(
            &principal(Role::Viewer, None, None),
            Action::SaveGuide,
            &row
        ),
        "role VIEWER may not save a service guide"
    );
    assert_eq!(
        deny(
            &principal(Role::ProvinceAdmin, Some("320000"), None),
            Action::PublishGuide,
            &row
        ),
        "a PROVINCE_ADMIN of 320000 may publish a service guide only for region 320000, \
         not for region 330000"
    );
    assert_eq!(
        deny(
            &principal(Role::ProvinceAdmin, Some("330000"), None),
            Action::ReviseStandard,
            &Target {
                level: Some(StandardLevel::National),
                ..Target::default()
            }
        ),
        "a PROVINCE_ADMIN may revise a standard only at LOCAL level; this one is NATIONAL"
    );
    assert_eq!(
        deny(&Principal::anonymous(), Action::SaveGuide, &row),
        "this action needs a token: send `Authorization: Bearer <token>`"
    );
}

#[test]
fn a_zone_coordinator_writes_only_its_own_zones_regional_standards() {
    let hub = Node::default();
    let yrd = zone("YRD");
    let jjj = zone("JJJ");
    let coordinator = principal(Role::ZoneCoordinator, None, Some("JJJ"));
    let standard_of = |zone| Target {
        level: Some(StandardLevel::Regional),
        zone: Some(zone),
        ..Target::default()
    };

    assert_eq!(
        allowed(
            &coordinator,
            Action::ReviseStandard,
            &standard_of(&jjj),
            &hub
        ),
        Ok(())
    );
    assert_eq!(
        allowed(&coordinator, Action::ReviseStandard, &standard_of(&yrd), &hub),
        Err(Denial::Forbidden(
            "a ZONE_COORDINATOR of JJJ may revise a standard only for REGIONAL standards of zone JJJ"
                .into()
        ))
    );
}

#[test]
fn tokens_missing_their_scope_may_change_nothing() {
    let hub = Node::default();
    let zhejiang = region("330000");
    let row = Target {
        region: Some(&zhejiang),
        level: Some(StandardLevel::Local),
        zone: None,
    };
    for caller in [
        principal(Role::ProvinceAdmin, None, None),
        principal(Role::ZoneCoordinator, None, None),
    ] {
        for action in Action::ALL {
            assert!(
                matches!(
                    allowed(&caller, *action, &row, &hub),
                    Err(Denial::Forbidden(_))
                ),
                "{caller:?} {action:?}"
            );
        }
    }
}

#[test]
fn a_province_node_writes_only_its_own_rows_whoever_asks() {
    let node = Node {
        region: Some(region("330000")),
    };
    let zhejiang = region("330000");
    let jiangsu = region("320000");
    let yrd = zone("YRD");
    let own = Target {
        region: Some(&zhejiang),
        ..Target::default()
    };
    let peer = Target {
        region: Some(&jiangsu),
        ..Target::default()
    };
    let national = Target::default();
    let own_local_standard = Target {
        region: Some(&zhejiang),
        level: Some(StandardLevel::Local),
        zone: None,
    };
    let regional_standard = Target {
        level: Some(StandardLevel::Regional),
        zone: Some(&yrd),
        ..Target::default()
    };
    let national_admin = principal(Role::NationalAdmin, None, None);
    let province_admin = principal(Role::ProvinceAdmin, Some("330000"), None);
    let coordinator = principal(Role::ZoneCoordinator, None, Some("YRD"));

    assert_eq!(
        allowed(&national_admin, Action::SaveGuide, &own, &node),
        Ok(())
    );
    assert_eq!(
        allowed(&province_admin, Action::SaveGuide, &own, &node),
        Ok(())
    );
    assert_eq!(
        allowed(
            &province_admin,
            Action::CreateStandard,
            &own_local_standard,
            &node
        ),
        Ok(())
    );
    assert_eq!(
        allowed(&national_admin, Action::SaveGuide, &peer, &node),
        Err(Denial::Forbidden(
            "this node writes only rows of region 330000; this row belongs to region 320000".into()
        ))
    );
    assert_eq!(
        allowed(&national_admin, Action::SaveMatter, &national, &node),
        Err(Denial::Forbidden(
            "this node writes only rows of region 330000; this row is national".into()
        ))
    );
    assert!(matches!(
        allowed(
            &coordinator,
            Action::ReviseStandard,
            &regional_standard,
            &node
        ),
        Err(Denial::Forbidden(_))
    ));
    // Reading is not writing: the audit log stays readable on a province node.
    assert_eq!(
        allowed(&national_admin, Action::ReadAuditLog, &national, &node),
        Ok(())
    );
    // The node rule never lets in what the role rule keeps out.
    assert_eq!(
        allowed(&Principal::anonymous(), Action::SaveGuide, &own, &node),
        Err(Denial::Unauthenticated)
    );
}

#[test]
fn audit_entries_are_scoped_by_role() {
    assert_eq!(
        audit_scope(&principal(Role::NationalAdmin, None, None)),
        Ok(AuditScope::All)
    );
    assert_eq!(
        audit_scope(&principal(Role::ProvinceAdmin, Some("330000"), None)),
        Ok(AuditScope::Region(region("330000")))
    );
    assert_eq!(
        audit_scope(&Principal::anonymous()),
        Err(Denial::Unauthenticated)
    );
    for role in [Role::Viewer, Role::SyncAgent] {
        assert!(matches!(
            audit_scope(&principal(role, None, None)),
            Err(Denial::Forbidden(_))
        ));
    }
    assert!(matches!(
        audit_scope(&principal(Role::ZoneCoordinator, None, Some("YRD"))),
        Err(Denial::Forbidden(_))
    ));
    assert!(matches!(
        audit_scope(&principal(Role::ProvinceAdmin, None, None)),
        Err(Denial::Forbidden(_))
    ));
}

#[test]
fn drafts_are_visible_by_role_and_scope() {
    assert_eq!(draft_scope(&Principal::anonymous()), DraftScope::None);
    assert_eq!(
        draft_scope(&principal(Role::Viewer, None, None)),
        DraftScope::None
    );
    assert_eq!(
        draft_scope(&principal(Role::SyncAgent, None, None)),
        DraftScope::None
    );
    assert_eq!(
        draft_scope(&principal(Role::ProvinceAdmin, Some("330000"), None)),
        DraftScope::Region(region("330000"))
    );
    assert_eq!(
        draft_scope(&principal(Role::ProvinceAdmin, None, None)),
        DraftScope::None
    );
    assert_eq!(
        draft_scope(&principal(Role::ZoneCoordinator, None, Some("YRD"))),
        DraftScope::ZoneMembers(zone("YRD"))
    );
    assert_eq!(
        draft_scope(&principal(Role::NationalAdmin, None, None)),
        DraftScope::All
    );
}

#[test]
fn only_sync_agents_and_national_admins_read_the_change_feed() {
    let outcomes: String = callers()
        .iter()
        .map(|(_, caller)| outcome(&may_read_changes(caller)))
        .collect();
    //                   anon VIEWER PA-own PA-other ZC NA SYNC FED
    assert_eq!(outcomes, "UFFFFAAF");
}

#[test]
fn the_proof_names_the_caller_it_was_given_for() {
    let zhejiang = region("330000");
    let admin = principal(Role::ProvinceAdmin, Some("330000"), None);
    let proof = authorize(
        &admin,
        Action::SaveGuide,
        &Target {
            region: Some(&zhejiang),
            level: None,
            zone: None,
        },
        &Node::default(),
    )
    .expect("its own region's guide");
    assert_eq!(proof.subject(), "test");
    assert_eq!(proof.role(), Role::ProvinceAdmin);
    assert_eq!(proof.region(), Some(&zhejiang));
    assert_eq!(proof.zone(), None);
}

#[test]
fn a_federation_token_reads_only_the_serving_nodes_published_part() {
    let jiangsu_node = Node {
        region: Some(region("320000")),
    };
    let outcomes: String = callers()
        .iter()
        .map(|(_, caller)| outcome(&federation_part(caller, &jiangsu_node).map(|_| ())))
        .collect();
    //                   anon VIEWER PA-own PA-other ZC NA SYNC FED
    assert_eq!(outcomes, "UFFFFFFA");
    let caller = principal(Role::Federation, Some("330000"), None);
    assert_eq!(
        federation_part(&caller, &jiangsu_node),
        Ok(region("320000")),
        "the serving node's own region, whoever calls"
    );
    assert!(matches!(
        federation_part(&caller, &Node::default()),
        Err(Denial::Forbidden(_))
    ));
    // Nothing else: no drafts, no GraphQL reads (which would show every
    // region's replicas), no change feed, no writes.
    assert_eq!(draft_scope(&caller), DraftScope::None);
    assert!(matches!(may_query(&caller), Err(Denial::Forbidden(_))));
    assert!(matches!(
        may_read_changes(&caller),
        Err(Denial::Forbidden(_))
    ));
    for action in Action::ALL {
        assert!(may_attempt(&caller, *action).is_err(), "{action:?}");
    }
    let outcomes: String = callers()
        .iter()
        .map(|(_, caller)| outcome(&may_query(caller)))
        .collect();
    assert_eq!(outcomes, "AAAAAAAF");
}
