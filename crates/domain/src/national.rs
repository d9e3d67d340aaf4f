//! National items: the range of their keys, and the catalogue of served
//! groups (服务对象), who an item or a service matter is for. The groups are
//! one closed list, so that they can be compared, counted and filtered on,
//! while an item keeps the official wording of its 服务对象 as text.

use std::ops::RangeInclusive;

use crate::enums::closed_set;

/// The years an edition of the national standard may carry.
pub const EDITIONS: RangeInclusive<i32> = 2000..=2100;

/// The numbers an item may carry within its edition.
pub const ITEM_NUMBERS: RangeInclusive<i32> = 1..=999;

closed_set!(
    /// A group of people or organisations a basic public service serves.
    ServedGroup {
        /// Workers of working age who want a job or to start a business.
        Workers = "WORKERS",
        /// People registered as unemployed.
        RegisteredUnemployed = "REGISTERED_UNEMPLOYED",
        /// People with employment difficulties (就业困难人员).
        EmploymentDifficulties = "EMPLOYMENT_DIFFICULTIES",
        /// College graduates.
        CollegeGraduates = "COLLEGE_GRADUATES",
        /// Unemployed young people.
        UnemployedYouth = "UNEMPLOYED_YOUTH",
        /// Veterans.
        Veterans = "VETERANS",
        /// Migrant workers from rural areas.
        MigrantWorkers = "MIGRANT_WORKERS",
        /// People with disabilities.
        PeopleWithDisabilities = "PEOPLE_WITH_DISABILITIES",
        /// Mobile personnel whose files a public agency keeps.
        MobilePersonnel = "MOBILE_PERSONNEL",
        /// Employers.
        Employers = "EMPLOYERS",
        /// People insured by a social insurance scheme.
        InsuredPersons = "INSURED_PERSONS",
        /// Retirees drawing a pension.
        Retirees = "RETIREES",
        /// Urban and rural residents.
        Residents = "RESIDENTS",
        /// Workers injured at work or with an occupational disease.
        InjuredWorkers = "INJURED_WORKERS",
        /// Parties to a labour or personnel dispute.
        DisputeParties = "DISPUTE_PARTIES",
    }
);

impl ServedGroup {
    /// The group's Chinese name.
    pub fn name_zh(self) -> &'static str {
        match self {
            ServedGroup::Workers => "有就业创业需求的劳动者",
            ServedGroup::RegisteredUnemployed => "登记失业人员",
            ServedGroup::EmploymentDifficulties => "就业困难人员",
            ServedGroup::CollegeGraduates => "高校毕业生",
            ServedGroup::UnemployedYouth => "失业青年",
            ServedGroup::Veterans => "退役军人",
            ServedGroup::MigrantWorkers => "农民工",
            ServedGroup::PeopleWithDisabilities => "残疾人",
            ServedGroup::MobilePersonnel => "流动人员",
            ServedGroup::Employers => "用人单位",
            ServedGroup::InsuredPersons => "参保人员",
            ServedGroup::Retirees => "退休人员",
            ServedGroup::Residents => "城乡居民",
            ServedGroup::InjuredWorkers => "工伤职工",
            ServedGroup::DisputeParties => "劳动人事争议当事人",
        }
    }

    /// The group's English name.
    pub fn name_en(self) -> &'static str {
        match self {
            ServedGroup::Workers => "Workers seeking a job or to start a business",
            ServedGroup::RegisteredUnemployed => "Registered unemployed people",
            ServedGroup::EmploymentDifficulties => "People with employment difficulties",
            ServedGroup::CollegeGraduates => "College graduates",
            ServedGroup::UnemployedYouth => "Unemployed young people",
            ServedGroup::Veterans => "Veterans",
            ServedGroup::MigrantWorkers => "Migrant workers",
            ServedGroup::PeopleWithDisabilities => "People with disabilities",
            ServedGroup::MobilePersonnel => "Mobile personnel",
            ServedGroup::Employers => "Employers",
            ServedGroup::InsuredPersons => "Insured persons",
            ServedGroup::Retirees => "Retirees",
            ServedGroup::Residents => "Urban and rural residents",
            ServedGroup::InjuredWorkers => "Injured workers",
            ServedGroup::DisputeParties => "Parties to labour and personnel disputes",
        }
    }
}

/// The groups a matter serves: its own list where it sets one, else its
/// national item's (none when it has no item).
pub fn served_groups<'g>(
    own: Option<&'g [ServedGroup]>,
    item: Option<&'g [ServedGroup]>,
) -> &'g [ServedGroup] {
    own.or(item).unwrap_or(&[])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_group_has_one_spelling_and_two_names() {
        for group in ServedGroup::ALL {
            assert_eq!(group.as_str().parse::<ServedGroup>().unwrap(), *group);
            assert!(!group.name_zh().is_empty() && !group.name_en().is_empty());
        }
        let error = "PENSIONERS".parse::<ServedGroup>().unwrap_err().to_string();
        assert!(
            error.starts_with("`PENSIONERS` is not one of WORKERS, "),
            "{error}"
        );
    }

    #[test]
    fn a_matter_inherits_its_items_groups_unless_it_sets_its_own() {
        let item = [ServedGroup::Employers, ServedGroup::InsuredPersons];
        let own = [ServedGroup::Retirees];
        assert_eq!(served_groups(None, Some(&item)), &item);
        assert_eq!(served_groups(Some(&own), Some(&item)), &own);
        // An empty list of its own says the matter serves no listed group.
        assert_eq!(served_groups(Some(&[]), Some(&item)), &[]);
        assert_eq!(served_groups(None, None), &[]);
    }
}
