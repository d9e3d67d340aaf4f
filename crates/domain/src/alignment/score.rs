//! The alignment score of a zone on a matter, and what goes into comparing
//! its members' guides: spreads, shared materials, the best practice.

use std::collections::{BTreeSet, HashMap};

use super::GuideValues;

/// The range and middle of a set of values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    /// The smallest value.
    pub min: f64,
    /// The largest value.
    pub max: f64,
    /// The middle value, or the mean of the two middle values for an even count.
    pub median: f64,
}

/// min, max and median (mean of the two middle values for an even count);
/// None for no values.
pub fn spread(values: &[f64]) -> Option<Spread> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let (&min, &max) = (sorted.first()?, sorted.last()?);
    let middle = sorted.len() / 2;
    let median = if sorted.len() % 2 == 1 {
        sorted[middle]
    } else {
        (sorted[middle - 1] + sorted[middle]) / 2.0
    };
    Some(Spread { min, max, median })
}

/// A material only some guides ask for, and the regions whose guides do.
#[derive(Debug, Clone, PartialEq)]
pub struct MaterialUse {
    /// The material's name as the guides state it.
    pub material: String,
    /// The regions whose guides ask for it, sorted, without repeats.
    pub regions: Vec<String>,
}

/// Which materials a set of guides share and which they do not.
#[derive(Debug, Clone, PartialEq)]
pub struct MaterialsComparison {
    /// Materials every guide asks for.
    pub common: Vec<String>,
    /// Materials some but not all guides ask for.
    pub partial: Vec<MaterialUse>,
}

/// `common`: materials every guide asks for; `partial`: those only some ask
/// for, each with the regions that do (sorted). Order: first appearance
/// across guides in the given order. With no guides both are empty.
pub fn compare_materials(guides: &[GuideValues]) -> MaterialsComparison {
    // For each material in order of first appearance, the guides asking for
    // it; counting guides rather than occurrences so a material listed twice
    // in one guide does not pass for a shared one.
    let mut seen: Vec<(&str, BTreeSet<usize>)> = Vec::new();
    let mut position: HashMap<&str, usize> = HashMap::new();
    for (index, guide) in guides.iter().enumerate() {
        for material in &guide.materials {
            let at = *position.entry(material.as_str()).or_insert_with(|| {
                seen.push((material.as_str(), BTreeSet::new()));
                seen.len() - 1
            });
            seen[at].1.insert(index);
        }
    }
    let mut comparison = MaterialsComparison {
        common: Vec::new(),
        partial: Vec::new(),
    };
    for (material, asking) in seen {
        if asking.len() == guides.len() {
            comparison.common.push(material.to_owned());
        } else {
            let regions: BTreeSet<&str> = asking
                .iter()
                .map(|&index| guides[index].region.as_str())
                .collect();
            comparison.partial.push(MaterialUse {
                material: material.to_owned(),
                regions: regions.into_iter().map(str::to_owned).collect(),
            });
        }
    }
    comparison
}

/// The best practice: shortest time limit, then fewest materials, then
/// lowest fee, then lowest region code. None for no guides.
pub fn best_practice(guides: &[GuideValues]) -> Option<&GuideValues> {
    guides.iter().min_by(|a, b| {
        (a.time_limit_days, a.materials.len(), a.fee, &a.region).cmp(&(
            b.time_limit_days,
            b.materials.len(),
            b.fee,
            &b.region,
        ))
    })
}

/// The five parts of an alignment score, each in [0, 1].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreParts {
    /// Members with a published guide / members.
    pub coverage: f64,
    /// 1 − (max − min) / max over the time limits.
    pub time_limit: f64,
    /// 1 − (max − min) / max over the fees.
    pub fee: f64,
    /// Jaccard index of the guides' material sets.
    pub materials: f64,
    /// Jaccard index of the guides' channel sets.
    pub channels: f64,
}

/// An alignment score and the parts it is made of.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlignmentScore {
    /// coverage × the mean of the four agreement parts.
    pub score: f64,
    /// What the score is made of.
    pub parts: ScoreParts,
}

/// The alignment score of a zone on a matter, in [0, 1]:
///
/// - `coverage` = members with a published guide / members (0 when
///   members == 0; `guides` holds one guide per member that has one)
/// - `time_limit` = 1 − (max − min) / max over the guides' time limits (1 when
///   max == 0 or fewer than 2 guides)
/// - `fee` = the same formula over fees in fen
/// - `materials` = |materials every guide asks for| / |materials any guide
///   asks for| (Jaccard; 1 when the union is empty)
/// - `channels` = the same Jaccard over channel sets
/// - `score` = coverage × (time_limit + fee + materials + channels) / 4
///
/// With no guide at all the score is 0. So the score is 1 exactly when every
/// member has a guide and all guides agree on time limit, fee, the set of
/// materials and the set of channels.
///
/// Worked example: 4 members, all with a guide; time limits 10, 15, 20, 20
/// working days; fees 0, 0, 0, 0; materials {A, B}, {A, B}, {A, B, C}, {A};
/// channels {COUNTER, ONLINE} three times and {COUNTER} once.
///
/// - coverage = 4 / 4 = 1
/// - time_limit = 1 − (20 − 10) / 20 = 0.5
/// - fee = 1 (every fee is 0)
/// - materials = |{A}| / |{A, B, C}| = 1/3
/// - channels = |{COUNTER}| / |{COUNTER, ONLINE}| = 1/2
/// - score = 1 × (0.5 + 1 + 1/3 + 0.5) / 4 = 0.583333…
pub fn alignment_score(members: usize, guides: &[GuideValues]) -> AlignmentScore {
    let coverage = if members == 0 {
        0.0
    } else {
        // Capped so that a caller passing a guide per region it did not count
        // as a member cannot push the score above 1.
        (guides.len() as f64 / members as f64).min(1.0)
    };
    let time_limits: Vec<i64> = guides
        .iter()
        .map(|g| i64::from(g.time_limit_days))
        .collect();
    let fees: Vec<i64> = guides.iter().map(|g| g.fee.fen()).collect();
    let parts = ScoreParts {
        coverage,
        time_limit: agreement(&time_limits),
        fee: agreement(&fees),
        materials: jaccard(guides.iter().map(|g| g.materials.as_slice())),
        channels: jaccard(guides.iter().map(|g| g.channels.as_slice())),
    };
    let score = coverage * (parts.time_limit + parts.fee + parts.materials + parts.channels) / 4.0;
    AlignmentScore { score, parts }
}

/// 1 − (max − min) / max; 1 for fewer than two values or a zero maximum.
fn agreement(values: &[i64]) -> f64 {
    let (Some(&min), Some(&max)) = (values.iter().min(), values.iter().max()) else {
        return 1.0;
    };
    // Values are non-negative, so a maximum of 0 means every value is 0.
    if values.len() < 2 || max <= 0 {
        return 1.0;
    }
    // A negative value is invalid input; clamping keeps the part in [0, 1].
    (1.0 - (max - min) as f64 / max as f64).clamp(0.0, 1.0)
}

/// |intersection| / |union| of the lists taken as sets; 1 when the union is empty.
fn jaccard<'a, T: Ord + 'a>(lists: impl Iterator<Item = &'a [T]>) -> f64 {
    let mut union: BTreeSet<&T> = BTreeSet::new();
    let mut common: Option<BTreeSet<&T>> = None;
    for list in lists {
        let set: BTreeSet<&T> = list.iter().collect();
        union.extend(set.iter().copied());
        common = Some(match common {
            None => set,
            Some(common) => common.intersection(&set).copied().collect(),
        });
    }
    if union.is_empty() {
        return 1.0;
    }
    common.map_or(0, |common| common.len()) as f64 / union.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Channel::{Counter, Online};
    use crate::alignment::testing::*;
    use crate::{Channel, Fee};
    use proptest::prelude::*;

    #[test]
    fn spread_of_no_values_is_none() {
        assert_eq!(spread(&[]), None);
    }

    #[test]
    fn spread_of_one_value() {
        assert_eq!(
            spread(&[4.5]),
            Some(Spread {
                min: 4.5,
                max: 4.5,
                median: 4.5
            })
        );
    }

    #[test]
    fn spread_of_an_odd_count_takes_the_middle_value() {
        let s = spread(&[20.0, 10.0, 15.0]).unwrap();
        assert_close(s.min, 10.0);
        assert_close(s.max, 20.0);
        assert_close(s.median, 15.0);
    }

    #[test]
    fn spread_of_an_even_count_averages_the_two_middle_values() {
        let s = spread(&[20.0, 10.0, 15.0, 20.0]).unwrap();
        assert_close(s.min, 10.0);
        assert_close(s.max, 20.0);
        assert_close(s.median, 17.5);
    }

    #[test]
    fn spread_sorts_unsorted_input() {
        let s = spread(&[9.0, 1.0, 5.0, 3.0, 7.0, 2.0]).unwrap();
        assert_close(s.min, 1.0);
        assert_close(s.max, 9.0);
        assert_close(s.median, 4.0);
    }

    #[test]
    fn identical_material_lists_are_all_common() {
        let guides = [
            guide("310000", 10, 0, &["A", "B"], &[]),
            guide("320000", 10, 0, &["A", "B"], &[]),
        ];
        let comparison = compare_materials(&guides);
        assert_eq!(comparison.common, ["A", "B"]);
        assert_eq!(comparison.partial, []);
    }

    #[test]
    fn disjoint_material_lists_are_all_partial() {
        let guides = [
            guide("320000", 10, 0, &["A"], &[]),
            guide("310000", 10, 0, &["B"], &[]),
        ];
        let comparison = compare_materials(&guides);
        assert_eq!(comparison.common, Vec::<String>::new());
        assert_eq!(
            comparison.partial,
            [
                MaterialUse {
                    material: "A".into(),
                    regions: vec!["320000".into()]
                },
                MaterialUse {
                    material: "B".into(),
                    regions: vec!["310000".into()]
                },
            ]
        );
    }

    #[test]
    fn one_guide_has_only_common_materials() {
        let comparison = compare_materials(&[guide("310000", 10, 0, &["B", "A"], &[])]);
        assert_eq!(comparison.common, ["B", "A"]);
        assert_eq!(comparison.partial, []);
    }

    #[test]
    fn no_guides_have_no_materials() {
        assert_eq!(
            compare_materials(&[]),
            MaterialsComparison {
                common: vec![],
                partial: vec![]
            }
        );
    }

    #[test]
    fn materials_keep_their_first_appearance_and_partial_regions_are_sorted() {
        let guides = [
            guide("340000", 10, 0, &["C", "A"], &[]),
            guide("310000", 10, 0, &["A", "D", "B"], &[]),
            guide("320000", 10, 0, &["B", "A", "C", "C"], &[]),
        ];
        let comparison = compare_materials(&guides);
        assert_eq!(comparison.common, ["A"]);
        let partial: Vec<(&str, Vec<&str>)> = comparison
            .partial
            .iter()
            .map(|u| {
                (
                    u.material.as_str(),
                    u.regions.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        assert_eq!(
            partial,
            [
                ("C", vec!["320000", "340000"]),
                ("D", vec!["310000"]),
                ("B", vec!["310000", "320000"]),
            ]
        );
    }

    #[test]
    fn best_practice_of_no_guides_is_none() {
        assert_eq!(best_practice(&[]), None);
    }

    #[test]
    fn best_practice_takes_the_shortest_time_limit_first() {
        let guides = [
            guide("310000", 10, 0, &["A"], &[]),
            guide("320000", 5, 9900, &["A", "B", "C"], &[]),
        ];
        assert_eq!(best_practice(&guides).unwrap().region, "320000");
    }

    #[test]
    fn best_practice_breaks_a_time_limit_tie_by_fewest_materials() {
        let guides = [
            guide("310000", 5, 0, &["A", "B"], &[]),
            guide("320000", 5, 9900, &["A"], &[]),
            guide("330000", 9, 0, &[], &[]),
        ];
        assert_eq!(best_practice(&guides).unwrap().region, "320000");
    }

    #[test]
    fn best_practice_then_breaks_ties_by_lowest_fee() {
        let guides = [
            guide("310000", 5, 2000, &["A"], &[]),
            guide("320000", 5, 1000, &["B"], &[]),
        ];
        assert_eq!(best_practice(&guides).unwrap().region, "320000");
    }

    #[test]
    fn best_practice_then_breaks_ties_by_lowest_region_code() {
        let guides = [
            guide("330000", 5, 1000, &["A"], &[]),
            guide("310000", 5, 1000, &["B"], &[Online]),
            guide("320000", 5, 1000, &["C"], &[]),
        ];
        assert_eq!(best_practice(&guides).unwrap().region, "310000");
    }

    #[test]
    fn one_member_with_a_guide_scores_one() {
        let score = alignment_score(1, &[guide("310000", 20, 500, &["A", "B"], &[Counter])]);
        assert_eq!(score.score, 1.0);
        assert_eq!(
            score.parts,
            ScoreParts {
                coverage: 1.0,
                time_limit: 1.0,
                fee: 1.0,
                materials: 1.0,
                channels: 1.0
            }
        );
    }

    #[test]
    fn members_that_all_agree_score_exactly_one() {
        let guides = [
            guide("310000", 15, 2000, &["A", "B"], &[Counter, Online]),
            guide("320000", 15, 2000, &["B", "A"], &[Online, Counter]),
            guide("330000", 15, 2000, &["A", "B", "A"], &[Counter, Online]),
            guide("340000", 15, 2000, &["A", "B"], &[Online, Counter]),
        ];
        assert_eq!(alignment_score(4, &guides).score, 1.0);
    }

    #[test]
    fn a_missing_guide_scales_the_score_by_coverage() {
        let guides = [plain("310000"), plain("320000")];
        let score = alignment_score(3, &guides);
        assert_close(score.parts.coverage, 2.0 / 3.0);
        assert_close(score.score, 2.0 / 3.0);
    }

    #[test]
    fn no_guides_or_no_members_score_zero() {
        assert_eq!(alignment_score(4, &[]).score, 0.0);
        assert_eq!(alignment_score(0, &[]).score, 0.0);
        assert_eq!(alignment_score(0, &[plain("310000")]).score, 0.0);
    }

    #[test]
    fn zero_fees_everywhere_agree_on_fee() {
        let guides = [
            guide("310000", 10, 0, &["A"], &[Counter]),
            guide("320000", 20, 0, &["A"], &[Counter]),
        ];
        let score = alignment_score(2, &guides);
        assert_eq!(score.parts.fee, 1.0);
        assert_close(score.parts.time_limit, 0.5);
        assert_close(score.score, 3.5 / 4.0);
    }

    #[test]
    fn fees_disagreeing_are_scored_like_time_limits() {
        let guides = [
            guide("310000", 10, 500, &["A"], &[Counter]),
            guide("320000", 10, 2000, &["A"], &[Counter]),
        ];
        assert_close(alignment_score(2, &guides).parts.fee, 0.25);
    }

    #[test]
    fn no_materials_and_no_channels_anywhere_agree() {
        let guides = [
            guide("310000", 10, 0, &[], &[]),
            guide("320000", 10, 0, &[], &[]),
        ];
        assert_eq!(alignment_score(2, &guides).score, 1.0);
    }

    #[test]
    fn the_worked_example_of_the_documentation() {
        let both = [Counter, Online];
        let guides = [
            guide("310000", 10, 0, &["A", "B"], &both),
            guide("320000", 15, 0, &["A", "B"], &both),
            guide("330000", 20, 0, &["A", "B", "C"], &both),
            guide("340000", 20, 0, &["A"], &[Counter]),
        ];
        let score = alignment_score(4, &guides);
        assert_close(score.parts.coverage, 1.0);
        assert_close(score.parts.time_limit, 0.5);
        assert_close(score.parts.fee, 1.0);
        assert_close(score.parts.materials, 1.0 / 3.0);
        assert_close(score.parts.channels, 0.5);
        assert_close(score.score, (0.5 + 1.0 + 1.0 / 3.0 + 0.5) / 4.0);
        assert_close(score.score, 0.583_333_333_333_333_3);
    }

    const REGIONS: [&str; 6] = ["110000", "120000", "130000", "310000", "320000", "330000"];

    prop_compose! {
        fn any_guide()(
            days in 1i32..60,
            fee in 0i64..5000,
            materials in proptest::sample::subsequence(vec!["A", "B", "C", "D"], 0..=4),
            channels in proptest::sample::subsequence(Channel::ALL.to_vec(), 0..=4),
        ) -> GuideValues {
            guide("", days, fee, &materials, &channels)
        }
    }

    /// Gives each guide its own region, as one guide per member.
    fn with_regions(mut guides: Vec<GuideValues>) -> Vec<GuideValues> {
        for (guide, region) in guides.iter_mut().zip(REGIONS) {
            guide.region = region.to_owned();
        }
        guides
    }

    fn all_agree(guides: &[GuideValues]) -> bool {
        fn key(g: &GuideValues) -> (i32, Fee, BTreeSet<&String>, BTreeSet<&Channel>) {
            (
                g.time_limit_days,
                g.fee,
                g.materials.iter().collect(),
                g.channels.iter().collect(),
            )
        }
        guides.windows(2).all(|pair| key(&pair[0]) == key(&pair[1]))
    }

    /// One guide repeated for every member, with its lists reordered, so the
    /// score-is-one branch is reached far more often than by chance.
    fn agreeing_guides() -> impl Strategy<Value = Vec<GuideValues>> {
        (any_guide(), 1usize..=6).prop_flat_map(|(template, count)| {
            let copy = (
                Just(template.materials.clone()).prop_shuffle(),
                Just(template.channels.clone()).prop_shuffle(),
            )
                .prop_map(move |(materials, channels)| GuideValues {
                    materials,
                    channels,
                    ..template.clone()
                });
            proptest::collection::vec(copy, count)
        })
    }

    fn check_score(guides: &[GuideValues], extra: usize) -> Result<(), TestCaseError> {
        let members = guides.len() + extra;
        let AlignmentScore { score, parts } = alignment_score(members, guides);
        for part in [
            score,
            parts.coverage,
            parts.time_limit,
            parts.fee,
            parts.materials,
            parts.channels,
        ] {
            prop_assert!((0.0..=1.0).contains(&part), "{part} out of [0, 1]");
        }
        prop_assert_eq!(score == 1.0, extra == 0 && all_agree(guides));
        Ok(())
    }

    proptest! {
        #[test]
        fn any_score_is_in_range_and_one_only_when_members_agree(
            guides in proptest::collection::vec(any_guide(), 1..=6).prop_map(with_regions),
            extra in 0usize..=2,
        ) {
            check_score(&guides, extra)?;
        }

        #[test]
        fn agreeing_members_score_one_unless_one_has_no_guide(
            guides in agreeing_guides().prop_map(with_regions),
            extra in 0usize..=2,
        ) {
            prop_assert!(all_agree(&guides));
            check_score(&guides, extra)?;
        }
    }
}
