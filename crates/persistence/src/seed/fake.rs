//! Believable fakes drawn from the word tables: people, companies, phone numbers in the
//! formats people type them, addresses, and the small random helpers the generator uses.

use rand::Rng;
use rand::rngs::StdRng;

use super::names::*;

/// One item of a slice, uniformly. The slices are the constant tables, never empty.
pub(crate) fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// One item by weight.
pub(crate) fn weighted<'a, T>(rng: &mut StdRng, items: &'a [(T, u32)]) -> &'a T {
    let total: u32 = items.iter().map(|(_, w)| *w).sum();
    let mut r = rng.random_range(0..total.max(1));
    for (item, w) in items {
        if r < *w {
            return item;
        }
        r -= w;
    }
    &items[items.len().saturating_sub(1)].0
}

/// An index `0..weights.len()` by weight.
pub(crate) fn weighted_index(rng: &mut StdRng, weights: &[u32]) -> usize {
    let total: u64 = weights.iter().map(|w| u64::from(*w)).sum();
    let mut r = rng.random_range(0..total.max(1));
    for (i, w) in weights.iter().enumerate() {
        if r < u64::from(*w) {
            return i;
        }
        r -= u64::from(*w);
    }
    weights.len().saturating_sub(1)
}

/// True with probability `p`.
pub(crate) fn chance(rng: &mut StdRng, p: f64) -> bool {
    rng.random_bool(p.clamp(0.0, 1.0))
}

/// A Poisson-distributed count with mean `lambda` (Knuth's method; small means only).
pub(crate) fn poisson(rng: &mut StdRng, lambda: f64) -> usize {
    if lambda <= 0.0 {
        return 0;
    }
    let limit = (-lambda).exp();
    let mut k = 0;
    let mut p = 1.0;
    loop {
        p *= rng.random::<f64>();
        if p <= limit || k > 60 {
            return k;
        }
        k += 1;
    }
}

/// A person: the name as written, and a latin form for email addresses.
#[derive(Debug, Clone)]
pub(crate) struct Person {
    pub name: String,
    pub latin: String,
}

/// A person with a Chinese name: `张伟`, email form `wei.zhang`.
pub(crate) fn chinese_person(rng: &mut StdRng) -> Person {
    let (surname, s_latin) = *pick(rng, SURNAMES);
    let (given, g_latin) = *pick(rng, GIVEN_NAMES);
    Person {
        name: format!("{surname}{given}"),
        latin: format!("{g_latin}.{s_latin}"),
    }
}

/// A person with an English name: `Emily Chen`, email form `emily.chen`.
pub(crate) fn english_person(rng: &mut StdRng) -> Person {
    let given = *pick(rng, EN_GIVEN);
    let family = *pick(rng, EN_FAMILY);
    Person {
        name: format!("{given} {family}"),
        latin: format!("{}.{}", given.to_lowercase(), family.to_lowercase()),
    }
}

/// A mainland mobile number as people type it: `+86 138 0013 8000`, `138 0013 8000`
/// or `13800138000`.
pub(crate) fn mobile(rng: &mut StdRng) -> String {
    let prefix = *pick(rng, MOBILE_PREFIXES);
    let a: u32 = rng.random_range(0..10_000);
    let b: u32 = rng.random_range(0..10_000);
    match rng.random_range(0..10) {
        0..=3 => format!("+86 {prefix} {a:04} {b:04}"),
        4..=6 => format!("{prefix} {a:04} {b:04}"),
        _ => format!("{prefix}{a:04}{b:04}"),
    }
}

/// An office number of a place: `021-6234 5678`, `+1 415 555 0134`, `+44 20 7946 0123`.
pub(crate) fn office_phone(rng: &mut StdRng, place: &Place) -> String {
    match place.dialing {
        Dialing::China(code) => {
            let a: u32 = rng.random_range(2_000..9_000);
            let b: u32 = rng.random_range(0..10_000);
            format!("{code}-{a:04} {b:04}")
        }
        Dialing::NorthAmerica(area) => {
            format!("+1 {area} 555 01{:02}", rng.random_range(0..100))
        }
        Dialing::London => format!("+44 20 7946 0{:03}", rng.random_range(0..1000)),
        Dialing::Sydney => format!("+61 2 5550 {:04}", rng.random_range(0..10_000)),
        Dialing::Singapore => format!(
            "+65 6{:03} {:04}",
            rng.random_range(0..1000),
            rng.random_range(0..10_000)
        ),
        Dialing::HongKong => format!(
            "+852 2{:03} {:04}",
            rng.random_range(0..1000),
            rng.random_range(0..10_000)
        ),
    }
}

/// A personal phone of someone at a place: a mobile in China, else an office line.
pub(crate) fn personal_phone(rng: &mut StdRng, place: &Place) -> String {
    match place.dialing {
        Dialing::China(_) => mobile(rng),
        _ => office_phone(rng, place),
    }
}

/// A company: its name, a domain under a reserved one, and its industry.
#[derive(Debug, Clone)]
pub(crate) struct Company {
    pub name: String,
    pub domain: String,
    pub industry: &'static str,
}

/// A Chinese company in `place`: `上海恒通电子科技有限公司`, domain
/// `hengtong-tech.example.com`.
pub(crate) fn chinese_company(rng: &mut StdRng, place: &Place) -> Company {
    let (head, h_latin) = *pick(rng, BRAND_HEADS);
    let (tail, t_latin) = *pick(rng, BRAND_TAILS);
    let (words, code, industry) = *pick(rng, INDUSTRIES);
    let suffix = *weighted(rng, CN_SUFFIXES);
    let name = if rng.random_range(0..10) < 8 {
        format!("{}{head}{tail}{words}{suffix}", place.city)
    } else {
        format!("{head}{tail}{words}（{}）{suffix}", place.city)
    };
    Company {
        name,
        domain: format!("{h_latin}{t_latin}-{code}.{}", pick(rng, EXAMPLE_DOMAINS)),
        industry,
    }
}

/// An English-named company: `Summit Precision Components Ltd`; in China, with its city:
/// `Summit Components (Shanghai) Co., Ltd.`.
pub(crate) fn english_company(rng: &mut StdRng, place: &Place, in_china: bool) -> Company {
    let prefix = *pick(rng, EN_PREFIXES);
    let middle = *pick(rng, EN_MIDDLES);
    let (trade, code, industry) = *pick(rng, EN_TRADES);
    let words = if middle.is_empty() {
        format!("{prefix} {trade}")
    } else {
        format!("{prefix} {middle} {trade}")
    };
    let name = if in_china {
        format!("{words} ({}) Co., Ltd.", place.latin)
    } else {
        format!("{words} {}", pick(rng, EN_SUFFIXES))
    };
    let slug: String = prefix
        .to_lowercase()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    Company {
        name,
        domain: format!("{slug}-{code}.{}", pick(rng, EXAMPLE_DOMAINS)),
        industry,
    }
}

const ROADS: &[&str] = &[
    "人民", "建设", "解放", "中山", "新华", "科技", "工业", "创业", "滨江", "长江", "黄河", "和平",
    "文化", "世纪", "高新", "金桥",
];
const ROAD_KINDS: &[&str] = &["路", "大道", "街", "东路", "西路"];
const STREETS: &[&str] = &[
    "Market", "Mission", "Main", "Oak", "Pine", "Harbour", "Queen", "King", "Park", "Lake",
];
const STREET_KINDS: &[&str] = &["Street", "Avenue", "Road", "Boulevard"];

/// A street address in the style of its place.
pub(crate) fn address(rng: &mut StdRng, place: &Place) -> String {
    match place.dialing {
        Dialing::China(_) => {
            let zone = if rng.random_range(0..4) == 0 {
                "经济技术开发区"
            } else {
                ""
            };
            format!(
                "{zone}{}{}{}号{}栋{}室",
                pick(rng, ROADS),
                pick(rng, ROAD_KINDS),
                rng.random_range(1..999),
                rng.random_range(1..20),
                rng.random_range(101..2999)
            )
        }
        _ => format!(
            "{} {} {}, Suite {}",
            rng.random_range(1..2500),
            pick(rng, STREETS),
            pick(rng, STREET_KINDS),
            rng.random_range(100..1900)
        ),
    }
}

/// Customer notes, now and then.
pub(crate) const CUSTOMER_NOTES: &[&str] = &[
    "月结30天，需开增值税专用发票",
    "年度框架协议客户，价格按季度调整",
    "收货时间：工作日 9:00-17:00",
    "Net 30 terms; invoices to accounts payable",
    "Prefers consolidated monthly shipments",
    "对价格敏感，注意竞争对手报价",
];
