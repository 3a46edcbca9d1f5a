//! Webhooks: the events subscribers receive, which targets they may name, and how failed
//! deliveries are retried.

use std::net::IpAddr;

use chrono::Duration;

use crate::error::{DomainError, FieldViolation, Violations};

crate::stored_enum! {
    /// What happened: the type of an event.
    pub enum EventType {
        CustomerCreated => "customer.created",
        CustomerUpdated => "customer.updated",
        CustomerDeleted => "customer.deleted",
        CustomerOwnerChanged => "customer.owner_changed",
        CustomerMerged => "customer.merged",
        LeadConverted => "lead.converted",
        OpportunityStageChanged => "opportunity.stage_changed",
        OpportunityWon => "opportunity.won",
        OpportunityLost => "opportunity.lost",
        OrderConfirmed => "order.confirmed",
        OrderShipped => "order.shipped",
        OrderCancelled => "order.cancelled",
        OrderCompleted => "order.completed",
        PaymentReceived => "payment.received",
    }
}

crate::stored_enum! {
    /// Where a delivery stands.
    pub enum DeliveryStatus {
        /// Not tried yet, or replayed.
        Pending => "pending",
        /// A 2xx answer arrived in time.
        Delivered => "delivered",
        /// The last try failed; another follows at `next_attempt_at`.
        Failed => "failed",
        /// Every try failed; only a replay sends it again.
        Dead => "dead",
    }
}

/// What a subscription receives: every event, or the types it lists.
pub const ALL_EVENTS: &str = "*";

/// Tries a delivery gets before it is dead.
pub const MAX_ATTEMPTS: i32 = 10;

/// The longest wait between two tries.
pub const MAX_RETRY_WAIT: Duration = Duration::hours(12);

/// Most event types one subscription lists.
pub const MAX_EVENT_TYPES: usize = 20;

/// Longest target URL.
pub const URL_MAX: usize = 2048;

/// Checks a subscription's event list: `["*"]`, or one to twenty known types, each once.
pub fn check_events(events: &[String]) -> Result<(), DomainError> {
    let mut v = Violations::new();
    if events.is_empty() {
        v.push(FieldViolation::new(
            "events",
            "required",
            "name at least one event type, or \"*\" for all",
        ));
    }
    if events.len() > MAX_EVENT_TYPES {
        v.push(FieldViolation::new(
            "events",
            "too_many",
            format!("at most {MAX_EVENT_TYPES} event types"),
        ));
    }
    for (i, e) in events.iter().enumerate() {
        let field = format!("events[{i}]");
        if e == ALL_EVENTS {
            if events.len() > 1 {
                v.push(FieldViolation::new(
                    field,
                    "invalid_choice",
                    "\"*\" stands alone: it already means every event",
                ));
            }
        } else if EventType::parse(e).is_none() {
            v.push(FieldViolation::new(
                field,
                "invalid_choice",
                format!("unknown event type {e:?}"),
            ));
        } else if events[..i].contains(e) {
            v.push(FieldViolation::new(field, "duplicate", "named twice"));
        }
    }
    v.finish()
}

/// Whether a subscription to `events` receives an event of type `t`.
pub fn subscribes(events: &[String], t: EventType) -> bool {
    events.iter().any(|e| e == ALL_EVENTS || e == t.as_str())
}

/// How long to wait after the `failures`-th failed try before the next one, or `None`
/// when that was the last try: `base_secs × 2^(failures − 1)`, at most 12 hours.
pub fn retry_wait(failures: i32, base_secs: u64) -> Option<Duration> {
    if failures >= MAX_ATTEMPTS {
        return None;
    }
    let exponent = u32::try_from(failures.max(1) - 1).unwrap_or(0).min(30);
    let secs = i64::try_from(base_secs.saturating_mul(1u64 << exponent)).unwrap_or(i64::MAX);
    Some(Duration::seconds(secs.min(MAX_RETRY_WAIT.num_seconds())))
}

/// Whether an address is on the public internet: not loopback, private, link-local,
/// unspecified, multicast, broadcast, shared (CGNAT) or documentation space, nor an IPv6
/// address that maps or translates one of those.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || a == 0
                || a >= 240
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (b == 18 || b == 19))
                || (a == 192 && b == 0 && c == 0))
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            // `::ffff:a.b.c.d`, `::a.b.c.d` and `::ffff:0:a.b.c.d` carry an IPv4 address;
            // `2002:AABB:CCDD::/48` (6to4) routes to the IPv4 address AA.BB.CC.DD.
            if let Some(v4) = v6.to_ipv4() {
                return !v6.is_loopback() && !v6.is_unspecified() && is_public(IpAddr::V4(v4));
            }
            if s[..4] == [0, 0, 0, 0] && s[4] == 0xffff && s[5] == 0 {
                let v4 = std::net::Ipv4Addr::new(
                    (s[6] >> 8) as u8,
                    s[6] as u8,
                    (s[7] >> 8) as u8,
                    s[7] as u8,
                );
                return is_public(IpAddr::V4(v4));
            }
            if s[0] == 0x2002 {
                let v4 = std::net::Ipv4Addr::new(
                    (s[1] >> 8) as u8,
                    s[1] as u8,
                    (s[2] >> 8) as u8,
                    s[2] as u8,
                );
                return is_public(IpAddr::V4(v4));
            }
            let first = s[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || (first & 0xffc0) == 0xfec0
                || first == 0x64
                || (first == 0x2001 && s[1] == 0xdb8))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(r: Result<(), DomainError>) -> Vec<(String, String)> {
        match r {
            Ok(()) => vec![],
            Err(DomainError::Validation(v)) => v.into_iter().map(|v| (v.field, v.code)).collect(),
            Err(other) => panic!("{other:?}"),
        }
    }

    #[test]
    fn event_lists_are_all_or_known_types() {
        let s = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(codes(check_events(&s(&["*"]))), vec![]);
        assert_eq!(
            codes(check_events(&s(&["order.confirmed", "payment.received"]))),
            vec![]
        );
        assert_eq!(
            codes(check_events(&[])),
            vec![("events".into(), "required".into())]
        );
        assert_eq!(
            codes(check_events(&s(&["order.confirmd", "*", "order.confirmd"]))),
            vec![
                ("events[0]".into(), "invalid_choice".into()),
                ("events[1]".into(), "invalid_choice".into()),
                ("events[2]".into(), "invalid_choice".into()),
            ]
        );
        assert_eq!(
            codes(check_events(&s(&["order.shipped", "order.shipped"]))),
            vec![("events[1]".into(), "duplicate".into())]
        );
        assert!(subscribes(&s(&["*"]), EventType::PaymentReceived));
        assert!(subscribes(
            &s(&["payment.received"]),
            EventType::PaymentReceived
        ));
        assert!(!subscribes(
            &s(&["order.shipped"]),
            EventType::PaymentReceived
        ));
    }

    #[test]
    fn retries_back_off_to_twelve_hours_then_stop() {
        assert_eq!(retry_wait(1, 60), Some(Duration::seconds(60)));
        assert_eq!(retry_wait(2, 60), Some(Duration::seconds(120)));
        assert_eq!(retry_wait(9, 60), Some(Duration::seconds(60 * 256)));
        assert_eq!(retry_wait(9, 600), Some(MAX_RETRY_WAIT), "capped");
        assert_eq!(retry_wait(10, 60), None, "the tenth failure is the last");
        assert_eq!(retry_wait(3, 0), Some(Duration::zero()));
    }

    #[test]
    fn only_public_addresses_are_targets() {
        let public = [
            "93.184.216.34",
            "8.8.8.8",
            "2606:4700:4700::1111",
            "2002:5db8:d822::1",
        ];
        let private = [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "::ffff:0:10.0.0.1",
            "2002:7f00:1::1",
            "2002:a9fe:a9fe::1",
            "fec0::1",
            "198.18.0.1",
            "240.0.0.1",
            "192.0.0.8",
            "2001:db8::1",
        ];
        for ip in public {
            assert!(
                is_public(ip.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))),
                "{ip}"
            );
        }
        for ip in private {
            assert!(
                !is_public(ip.parse().unwrap_or(IpAddr::from([8, 8, 8, 8]))),
                "{ip}"
            );
        }
    }
}
