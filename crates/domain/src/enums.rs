//! Closed sets of values. Each has one spelling, SCREAMING_SNAKE_CASE, shared
//! by the database, the import files and the API.

/// A value outside an enumeration, with the allowed spellings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not one of {allowed}")]
pub struct ParseEnumError {
    pub(crate) value: String,
    pub(crate) allowed: String,
}

/// A closed set of values, each with one spelling: what storage needs to
/// keep a value as its text and to refuse any other text when reading it.
pub trait ClosedSet: Copy + Eq + std::str::FromStr<Err = ParseEnumError> + 'static {
    /// The set's name, as a refused value's error names it.
    const NAME: &'static str;

    /// The one spelling of this value.
    fn spelling(self) -> &'static str;
}

macro_rules! closed_set {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The one spelling of this value.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl $crate::enums::ClosedSet for $name {
            const NAME: &'static str = stringify!($name);

            fn spelling(self) -> &'static str {
                self.as_str()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::enums::ParseEnumError;
            fn from_str(value: &str) -> Result<Self, $crate::enums::ParseEnumError> {
                match value {
                    $($text => Ok($name::$variant),)+
                    _ => Err($crate::enums::ParseEnumError {
                        value: value.to_owned(),
                        allowed: [$($text),+].join(", "),
                    }),
                }
            }
        }
    };
}

pub(crate) use closed_set;

closed_set!(
    /// The kind of a provincial-level division.
    RegionKind {
        Province = "PROVINCE",
        Municipality = "MUNICIPALITY",
        AutonomousRegion = "AUTONOMOUS_REGION",
        Sar = "SAR",
    }
);

closed_set!(
    /// Where a standard sits in the standard system.
    StandardLevel {
        National = "NATIONAL",
        Industry = "INDUSTRY",
        Local = "LOCAL",
        /// A cross-regional collaborative standard of a zone.
        Regional = "REGIONAL",
        Group = "GROUP",
        Internal = "INTERNAL",
    }
);

closed_set!(
    /// The life cycle of a standard.
    StandardStatus {
        Draft = "DRAFT",
        InForce = "IN_FORCE",
        Superseded = "SUPERSEDED",
        Withdrawn = "WITHDRAWN",
    }
);

closed_set!(
    /// Whether a service guide is visible to the public.
    GuideStatus {
        Draft = "DRAFT",
        Published = "PUBLISHED",
    }
);

closed_set!(
    /// How a citizen can have a matter handled.
    Channel {
        /// At a service hall counter.
        Counter = "COUNTER",
        /// On a web portal.
        Online = "ONLINE",
        /// In a mobile app or mini-program.
        Mobile = "MOBILE",
        /// Handled in any province (跨省通办).
        CrossProvince = "CROSS_PROVINCE",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_round_trips() {
        for level in StandardLevel::ALL {
            assert_eq!(level.as_str().parse::<StandardLevel>().unwrap(), *level);
        }
        for channel in Channel::ALL {
            assert_eq!(channel.to_string().parse::<Channel>().unwrap(), *channel);
        }
    }

    #[test]
    fn unknown_values_list_the_allowed_ones() {
        let error = "FAX".parse::<Channel>().unwrap_err().to_string();
        assert_eq!(
            error,
            "`FAX` is not one of COUNTER, ONLINE, MOBILE, CROSS_PROVINCE"
        );
    }
}
