//! Customers (客户) and their contacts (联系人): what a valid one holds and how a change
//! to one is applied.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::{DomainError, FieldViolation, Violations};
use crate::values::{
    ADDRESS_MAX, NAME_MAX, NOTES_MAX, Name, SHORT_TEXT_MAX, bounded_text, optional_email,
    optional_phone, optional_text, parse_tag,
};

crate::stored_enum! {
    /// Whether a customer is a company or a private person.
    pub enum CustomerKind {
        Company => "company",
        Individual => "individual",
    }
}

crate::stored_enum! {
    /// Customer grade, `A` the most valuable.
    pub enum CustomerLevel {
        A => "A",
        B => "B",
        C => "C",
        D => "D",
    }
}

/// A customer as stored and sent.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = CustomerView))]
pub struct CustomerRecord {
    pub id: Uuid,
    pub name: String,
    pub kind: CustomerKind,
    pub level: Option<CustomerLevel>,
    pub industry: Option<String>,
    pub source: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub province: Option<String>,
    pub city: Option<String>,
    /// Street address line.
    pub address: Option<String>,
    pub tags: Vec<String>,
    pub notes: Option<String>,
    /// `null` when the customer is in the pool (公海).
    pub owner_id: Option<Uuid>,
    pub last_follow_up_at: Option<DateTime<Utc>>,
    pub next_follow_up_at: Option<DateTime<Utc>>,
    pub created_by: Uuid,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A contact person as stored and sent.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = ContactView))]
pub struct ContactRecord {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub name: String,
    pub title: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// At most one contact per customer is primary.
    pub is_primary: bool,
    pub created_by: Uuid,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A nullable text field's change: field name, the change, its limit, where it goes.
type TextChange<'a> = (
    &'a str,
    Option<Option<String>>,
    usize,
    &'a mut Option<String>,
);

/// Whether a customer may be deleted: not while it has orders or opportunities (they are
/// someone's records, often another rep's). Its contacts, follow-ups and tags go with it.
pub fn check_removal(orders: u64, opportunities: u64) -> Result<(), DomainError> {
    if orders > 0 || opportunities > 0 {
        return Err(crate::error::Refusal::CustomerInUse {
            orders,
            opportunities,
        }
        .into());
    }
    Ok(())
}

/// Most matching customers a duplicate check (查重) names.
pub const MAX_MATCHES: usize = 20;

/// Most tags one customer may carry.
pub const MAX_TAGS: usize = 20;

/// A customer's attributes as the client sent them, before validation.
#[derive(Debug, Clone, Default)]
pub struct CustomerInput {
    pub name: Option<String>,
    pub kind: Option<CustomerKind>,
    pub level: Option<CustomerLevel>,
    pub industry: Option<String>,
    pub source: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub province: Option<String>,
    pub city: Option<String>,
    pub address: Option<String>,
    pub tags: Option<Vec<String>>,
    pub notes: Option<String>,
}

/// A change to a customer: `None` leaves a field alone, `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct CustomerPatch {
    pub name: Option<String>,
    pub kind: Option<CustomerKind>,
    pub level: Option<Option<CustomerLevel>>,
    pub industry: Option<Option<String>>,
    pub source: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub email: Option<Option<String>>,
    pub province: Option<Option<String>>,
    pub city: Option<Option<String>>,
    pub address: Option<Option<String>>,
    pub tags: Option<Vec<String>>,
    pub notes: Option<Option<String>>,
}

/// A valid customer's attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    pub name: String,
    pub kind: CustomerKind,
    pub level: Option<CustomerLevel>,
    pub industry: Option<String>,
    pub source: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub province: Option<String>,
    pub city: Option<String>,
    pub address: Option<String>,
    pub tags: Vec<String>,
    pub notes: Option<String>,
}

/// The keys a customer is compared on for duplicates (查重) and searched by.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DuplicateKeys {
    /// Normalised name (always present for a customer).
    pub name: Option<String>,
    /// Normalised phone digits.
    pub phone: Option<String>,
    /// Lower-cased email.
    pub email: Option<String>,
}

fn tags(field: &str, input: &[String], v: &mut Violations) -> Vec<String> {
    if input.len() > MAX_TAGS {
        v.push(FieldViolation::new(
            field,
            "too_many",
            format!("at most {MAX_TAGS} tags"),
        ));
        return vec![];
    }
    let mut out: Vec<String> = Vec::new();
    for (i, t) in input.iter().enumerate() {
        if let Some(t) = v.check(parse_tag(&format!("{field}[{i}]"), t))
            && !out.contains(&t)
        {
            out.push(t);
        }
    }
    out
}

impl Customer {
    /// Validates a new customer, naming every broken field at once.
    pub fn create(input: CustomerInput) -> Result<Self, DomainError> {
        let mut v = Violations::new();
        let name = match input.name.as_deref() {
            None => {
                v.push(FieldViolation::new("name", "required", "name is required"));
                None
            }
            Some(n) => v.check(Name::parse("name", n)),
        };
        let kind = input.kind.unwrap_or(CustomerKind::Company);
        let industry = v.check(optional_text(
            "industry",
            input.industry.as_deref(),
            SHORT_TEXT_MAX,
        ));
        let source = v.check(optional_text(
            "source",
            input.source.as_deref(),
            SHORT_TEXT_MAX,
        ));
        let phone = v.check(optional_phone("phone", input.phone.as_deref()));
        let email = v.check(optional_email("email", input.email.as_deref()));
        let province = v.check(optional_text(
            "province",
            input.province.as_deref(),
            SHORT_TEXT_MAX,
        ));
        let city = v.check(optional_text("city", input.city.as_deref(), SHORT_TEXT_MAX));
        let address = v.check(optional_text(
            "address",
            input.address.as_deref(),
            ADDRESS_MAX,
        ));
        let notes = v.check(optional_text("notes", input.notes.as_deref(), NOTES_MAX));
        let tags = tags("tags", input.tags.as_deref().unwrap_or_default(), &mut v);
        v.finish()?;
        match (
            name, industry, source, phone, email, province, city, address, notes,
        ) {
            (
                Some(name),
                Some(industry),
                Some(source),
                Some(phone),
                Some(email),
                Some(province),
                Some(city),
                Some(address),
                Some(notes),
            ) => Ok(Self {
                name: name.into_inner(),
                kind,
                level: input.level,
                industry,
                source,
                phone,
                email,
                province,
                city,
                address,
                tags,
                notes,
            }),
            _ => Err(DomainError::Validation(vec![])),
        }
    }

    /// Applies a change, validating only the fields it touches.
    pub fn apply(mut self, patch: CustomerPatch) -> Result<Self, DomainError> {
        let mut v = Violations::new();
        if let Some(n) = patch.name.as_deref()
            && let Some(n) = v.check(Name::parse("name", n))
        {
            self.name = n.into_inner();
        }
        if let Some(k) = patch.kind {
            self.kind = k;
        }
        if let Some(l) = patch.level {
            self.level = l;
        }
        let texts: [TextChange<'_>; 6] = [
            (
                "industry",
                patch.industry,
                SHORT_TEXT_MAX,
                &mut self.industry,
            ),
            ("source", patch.source, SHORT_TEXT_MAX, &mut self.source),
            (
                "province",
                patch.province,
                SHORT_TEXT_MAX,
                &mut self.province,
            ),
            ("city", patch.city, SHORT_TEXT_MAX, &mut self.city),
            ("address", patch.address, ADDRESS_MAX, &mut self.address),
            ("notes", patch.notes, NOTES_MAX, &mut self.notes),
        ];
        for (field, change, max, slot) in texts {
            if let Some(change) = change
                && let Some(val) = v.check(optional_text(field, change.as_deref(), max))
            {
                *slot = val;
            }
        }
        v.patch(&mut self.phone, patch.phone, |p| {
            optional_phone("phone", p.as_deref())
        });
        v.patch(&mut self.email, patch.email, |e| {
            optional_email("email", e.as_deref())
        });
        if let Some(t) = patch.tags {
            self.tags = tags("tags", &t, &mut v);
        }
        v.finish()?;
        Ok(self)
    }

    /// The customer with `tags` added (each validated; ones it has are kept once).
    pub fn with_tags_added(mut self, tags: &[String]) -> Result<Self, DomainError> {
        let mut v = Violations::new();
        let mut all = self.tags.clone();
        all.extend(tags.iter().cloned());
        let checked = self::tags("tags", &all, &mut v);
        if tags.is_empty() {
            v.push(FieldViolation::new(
                "tags",
                "required",
                "name at least one tag",
            ));
        }
        v.finish()?;
        self.tags = checked;
        Ok(self)
    }

    /// The customer without `tag` (unchanged when it does not carry it).
    pub fn without_tag(mut self, tag: &str) -> Self {
        self.tags.retain(|t| t != tag.trim());
        self
    }

    /// The normalised name, phone and email this customer is compared on.
    pub fn duplicate_keys(&self) -> DuplicateKeys {
        duplicate_keys(
            Some(&self.name),
            self.phone.as_deref(),
            self.email.as_deref(),
        )
    }
}

/// Normalises the name, phone and email of a duplicate check. Blank inputs are ignored.
pub fn duplicate_keys(
    name: Option<&str>,
    phone: Option<&str>,
    email: Option<&str>,
) -> DuplicateKeys {
    fn nonblank(s: Option<&str>) -> Option<&str> {
        s.map(str::trim).filter(|s| !s.is_empty())
    }
    DuplicateKeys {
        name: nonblank(name).map(crate::values::normalize_name),
        phone: nonblank(phone)
            .map(crate::values::phone_digits)
            .filter(|d| !d.is_empty())
            .map(|d| crate::values::normalize_phone_digits(&d)),
        email: nonblank(email).map(str::to_lowercase),
    }
}

/// A contact's attributes as the client sent them.
#[derive(Debug, Clone, Default)]
pub struct ContactInput {
    pub name: Option<String>,
    pub title: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub is_primary: Option<bool>,
}

/// A change to a contact: `None` leaves a field alone, `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct ContactPatch {
    pub name: Option<String>,
    pub title: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub email: Option<Option<String>>,
    pub is_primary: Option<bool>,
}

/// A valid contact person at a customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub name: String,
    pub title: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub is_primary: bool,
}

impl Contact {
    /// Validates a new contact.
    pub fn create(input: ContactInput) -> Result<Self, DomainError> {
        let mut v = Violations::new();
        let name = match input.name.as_deref() {
            None => {
                v.push(FieldViolation::new("name", "required", "name is required"));
                None
            }
            Some(n) => v.check(bounded_text("name", n, NAME_MAX)),
        };
        let title = v.check(optional_text(
            "title",
            input.title.as_deref(),
            SHORT_TEXT_MAX,
        ));
        let phone = v.check(optional_phone("phone", input.phone.as_deref()));
        let email = v.check(optional_email("email", input.email.as_deref()));
        v.finish()?;
        match (name, title, phone, email) {
            (Some(name), Some(title), Some(phone), Some(email)) => Ok(Self {
                name,
                title,
                phone,
                email,
                is_primary: input.is_primary.unwrap_or(false),
            }),
            _ => Err(DomainError::Validation(vec![])),
        }
    }

    /// Applies a change, validating only the fields it touches.
    pub fn apply(mut self, patch: ContactPatch) -> Result<Self, DomainError> {
        let mut v = Violations::new();
        v.patch(&mut self.name, patch.name.as_deref(), |n| {
            bounded_text("name", n, NAME_MAX)
        });
        v.patch(&mut self.title, patch.title, |t| {
            optional_text("title", t.as_deref(), SHORT_TEXT_MAX)
        });
        v.patch(&mut self.phone, patch.phone, |p| {
            optional_phone("phone", p.as_deref())
        });
        v.patch(&mut self.email, patch.email, |e| {
            optional_email("email", e.as_deref())
        });
        if let Some(p) = patch.is_primary {
            self.is_primary = p;
        }
        v.finish()?;
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_customer_with_orders_or_opportunities_stays() {
        assert!(check_removal(0, 0).is_ok());
        for (orders, opportunities) in [(1, 0), (0, 1), (3, 2)] {
            assert_eq!(
                check_removal(orders, opportunities),
                Err(crate::error::Refusal::CustomerInUse {
                    orders,
                    opportunities
                }
                .into())
            );
        }
    }

    fn codes(e: DomainError) -> Vec<(String, String)> {
        match e {
            DomainError::Validation(v) => v.into_iter().map(|f| (f.field, f.code)).collect(),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn a_minimal_customer_is_a_company() {
        let c = Customer::create(CustomerInput {
            name: Some(" 杭州西湖科技有限公司 ".into()),
            ..Default::default()
        });
        let c = c.unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(c.name, "杭州西湖科技有限公司");
        assert_eq!(c.kind, CustomerKind::Company);
        assert!(c.tags.is_empty());
    }

    #[test]
    fn every_broken_field_is_named_at_once() {
        let e = Customer::create(CustomerInput {
            name: Some("  ".into()),
            email: Some("not-an-email".into()),
            phone: Some("call me".into()),
            city: Some("x".repeat(101)),
            notes: Some("n".repeat(10_001)),
            tags: Some(vec!["ok".into(), "".into()]),
            ..Default::default()
        });
        let got = codes(e.err().unwrap_or_else(|| panic!("should fail")));
        for want in [
            ("name", "required"),
            ("email", "invalid_email"),
            ("phone", "invalid_phone"),
            ("city", "too_long"),
            ("notes", "too_long"),
            ("tags[1]", "required"),
        ] {
            assert!(
                got.contains(&(want.0.into(), want.1.into())),
                "missing {want:?} in {got:?}"
            );
        }
    }

    #[test]
    fn missing_name_is_required() {
        let got = codes(
            Customer::create(CustomerInput::default())
                .err()
                .unwrap_or_else(|| panic!("should fail")),
        );
        assert_eq!(got, vec![("name".into(), "required".into())]);
    }

    #[test]
    fn notes_at_the_limit_are_kept() {
        let c = Customer::create(CustomerInput {
            name: Some("A".into()),
            notes: Some("n".repeat(10_000)),
            ..Default::default()
        });
        assert!(c.is_ok());
    }

    #[test]
    fn patch_touches_only_named_fields_and_clears_with_null() {
        let c = Customer::create(CustomerInput {
            name: Some("Acme".into()),
            city: Some("杭州".into()),
            email: Some("a@acme.com".into()),
            tags: Some(vec!["vip".into(), "vip".into()]),
            ..Default::default()
        })
        .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(c.tags, vec!["vip".to_string()], "duplicate tags collapse");
        let c2 = c
            .clone()
            .apply(CustomerPatch {
                city: Some(None),
                level: Some(Some(CustomerLevel::A)),
                ..Default::default()
            })
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(c2.city, None);
        assert_eq!(c2.level, Some(CustomerLevel::A));
        assert_eq!(c2.email, c.email);
        let e = c.apply(CustomerPatch {
            name: Some("".into()),
            email: Some(Some("bad".into())),
            ..Default::default()
        });
        assert_eq!(
            codes(e.err().unwrap_or_else(|| panic!("should fail"))).len(),
            2
        );
    }

    #[test]
    fn tags_are_added_once_and_removed() {
        let c = Customer::create(CustomerInput {
            name: Some("T".into()),
            tags: Some(vec!["a".into()]),
            ..Default::default()
        })
        .unwrap_or_else(|e| panic!("{e:?}"));
        let c = c
            .with_tags_added(&["a".into(), " b ".into()])
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(c.tags, vec!["a".to_string(), "b".to_string()]);
        assert_eq!(c.clone().without_tag("a").tags, vec!["b".to_string()]);
        assert!(c.clone().with_tags_added(&[]).is_err());
        let many: Vec<String> = (0..20).map(|i| format!("t{i}")).collect();
        assert!(c.with_tags_added(&many).is_err(), "at most 20 tags in all");
    }

    #[test]
    fn duplicate_keys_normalise() {
        let k = duplicate_keys(
            Some(" ACME  Ltd "),
            Some("+86 138-0013-8000"),
            Some("Sales@Acme.COM"),
        );
        assert_eq!(k.name.as_deref(), Some("acme ltd"));
        assert_eq!(k.phone.as_deref(), Some("13800138000"));
        assert_eq!(k.email.as_deref(), Some("sales@acme.com"));
        assert_eq!(
            duplicate_keys(None, Some("  "), None),
            DuplicateKeys::default()
        );
    }

    #[test]
    fn contacts_validate() {
        let c = Contact::create(ContactInput {
            name: Some("李雷".into()),
            is_primary: Some(true),
            ..Default::default()
        });
        assert!(c.as_ref().is_ok_and(|c| c.is_primary));
        let e = Contact::create(ContactInput {
            name: None,
            email: Some("x".into()),
            ..Default::default()
        });
        let got = codes(e.err().unwrap_or_else(|| panic!("should fail")));
        assert_eq!(
            got,
            vec![
                ("name".into(), "required".into()),
                ("email".into(), "invalid_email".into())
            ]
        );
    }

    #[test]
    fn enums_round_trip() {
        for k in [CustomerKind::Company, CustomerKind::Individual] {
            assert_eq!(CustomerKind::parse(k.as_str()), Some(k));
        }
        for l in [
            CustomerLevel::A,
            CustomerLevel::B,
            CustomerLevel::C,
            CustomerLevel::D,
        ] {
            assert_eq!(CustomerLevel::parse(l.as_str()), Some(l));
        }
    }
}
