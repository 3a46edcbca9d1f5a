//! Enums that are stored and sent by stable snake_case names.

/// An enum stored and sent by stable names (see [`stored_enum!`](crate::stored_enum)).
pub trait StoredName: Sized + Copy + 'static {
    /// The stable name.
    fn name(self) -> &'static str;
    /// The variant with this stable name, if any.
    fn from_name(s: &str) -> Option<Self>;
}

/// Declares an enum whose variants have one stable name each: the name stored in the
/// database, sent on the wire (serde) and shown in the OpenAPI schema. `parse` is the
/// inverse of `as_str`; a stored value it does not know is `None`, never a default.
#[macro_export]
macro_rules! stored_enum {
    (
        $(#[doc = $doc:literal])*
        $vis:vis enum $name:ident {
            $($(#[doc = $vdoc:literal])* $variant:ident => $text:literal),+ $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash,
            serde::Serialize, serde::Deserialize,
        )]
        $vis enum $name {
            $($(#[doc = $vdoc])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// The variant with this stable name, if any.
            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl $crate::StoredName for $name {
            fn name(self) -> &'static str {
                self.as_str()
            }
            fn from_name(s: &str) -> Option<Self> {
                Self::parse(s)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                let variants: &[(&str, &[&str])] = &[$(($text, &[$($vdoc),*])),+];
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::Type::String)
                    .enum_values(Some([$($text),+]))
                    .description(Some($crate::stored::describe_enum(&[$($doc),*], variants)))
                    .into()
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed(stringify!($name))
            }
        }
    };
}

/// The schema description of a stored enum: its doc comment, then each documented
/// variant by its stable name.
#[cfg(feature = "openapi")]
pub fn describe_enum(doc: &[&str], variants: &[(&str, &[&str])]) -> String {
    let text = |lines: &[&str]| lines.iter().map(|l| l.trim()).collect::<Vec<_>>().join(" ");
    let mut out = text(doc);
    for (name, lines) in variants.iter().filter(|(_, l)| !l.is_empty()) {
        out.push_str(&format!("\n- `{name}`: {}", text(lines)));
    }
    out
}

/// Sends an exact value type as a decimal string (`"1234.50"`, `"2.5"`): never a JSON
/// number, which clients would read as a float. `$decimal` renders the value.
#[macro_export]
macro_rules! decimal_string {
    ($ty:ty, $name:literal, $description:literal, $example:literal) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(&self.to_decimal())
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $ty {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::Type::String)
                    .description(Some($description))
                    .pattern(Some($crate::money::DECIMAL_PATTERN))
                    .max_length(Some($crate::money::DECIMAL_TEXT_MAX))
                    .examples([$example])
                    .into()
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $ty {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed($name)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    crate::stored_enum! {
        /// A test enum.
        pub enum Colour {
            Red => "red",
            DarkBlue => "dark_blue",
        }
    }

    #[test]
    fn names_round_trip_and_unknown_names_are_none() {
        for c in Colour::ALL {
            assert_eq!(Colour::parse(c.as_str()), Some(*c));
        }
        assert_eq!(Colour::DarkBlue.to_string(), "dark_blue");
        assert_eq!(Colour::parse("green"), None);
        assert_eq!(Colour::parse("Red"), None, "names are exact");
    }

    #[cfg(feature = "openapi")]
    #[test]
    fn the_schema_lists_the_stable_names() {
        let schema =
            serde_json::to_value(<Colour as utoipa::PartialSchema>::schema()).unwrap_or_default();
        assert_eq!(schema["enum"], serde_json::json!(["red", "dark_blue"]));
        assert_eq!(schema["description"], "A test enum.");
        assert_eq!(
            <Colour as utoipa::ToSchema>::name(),
            "Colour",
            "the component is named after the type"
        );
    }
}
