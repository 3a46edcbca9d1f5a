//! The word tables synthetic data is drawn from: Chinese and English names of people and
//! companies, provinces and cities with their telephone area codes, product families,
//! follow-up notes and the reasons deals are lost.
//!
//! Email domains are all under the reserved `example.com`/`example.net`/`example.org`
//! (RFC 2606), so that no seeded address belongs to anybody. US numbers use the fictional
//! 555-01xx range, UK numbers Ofcom's drama range (020 7946 0xxx), Australian ones
//! ACMA's (02 5550 xxxx).

/// Chinese surnames with their pinyin.
#[rustfmt::skip]
pub(crate) const SURNAMES: &[(&str, &str)] = &[
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"),
    ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"), ("徐", "xu"), ("孙", "sun"),
    ("马", "ma"), ("朱", "zhu"), ("胡", "hu"), ("郭", "guo"), ("何", "he"), ("林", "lin"),
    ("罗", "luo"), ("高", "gao"), ("郑", "zheng"), ("梁", "liang"), ("谢", "xie"), ("宋", "song"),
    ("唐", "tang"), ("韩", "han"), ("冯", "feng"), ("邓", "deng"), ("曹", "cao"), ("彭", "peng"),
    ("曾", "zeng"), ("肖", "xiao"), ("田", "tian"), ("董", "dong"), ("袁", "yuan"), ("潘", "pan"),
    ("蒋", "jiang"), ("蔡", "cai"), ("杜", "du"), ("叶", "ye"), ("程", "cheng"), ("魏", "wei"),
    ("苏", "su"), ("丁", "ding"), ("任", "ren"), ("沈", "shen"), ("欧阳", "ouyang"), ("司马", "sima"),
];

/// Chinese given names with their pinyin.
#[rustfmt::skip]
pub(crate) const GIVEN_NAMES: &[(&str, &str)] = &[
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("秀英", "xiuying"), ("敏", "min"), ("静", "jing"),
    ("丽", "li"), ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"), ("勇", "yong"),
    ("艳", "yan"), ("杰", "jie"), ("娟", "juan"), ("涛", "tao"), ("明", "ming"), ("超", "chao"),
    ("霞", "xia"), ("平", "ping"), ("刚", "gang"), ("文", "wen"), ("辉", "hui"), ("建华", "jianhua"),
    ("晓明", "xiaoming"), ("海燕", "haiyan"), ("志强", "zhiqiang"), ("丹", "dan"), ("欣怡", "xinyi"), ("子涵", "zihan"),
    ("浩然", "haoran"), ("雨桐", "yutong"), ("俊杰", "junjie"), ("思远", "siyuan"), ("佳琪", "jiaqi"), ("宇航", "yuhang"),
    ("梦琪", "mengqi"), ("嘉怡", "jiayi"), ("国栋", "guodong"), ("立新", "lixin"),
];

/// English given names.
#[rustfmt::skip]
pub(crate) const EN_GIVEN: &[&str] = &[
    "James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
    "William", "Susan", "Richard", "Jessica", "Thomas", "Sarah", "Daniel", "Karen", "Emily", "Kevin",
    "Laura", "Brian", "Olivia", "Jason", "Sophie", "Oliver", "Grace", "Ethan", "Chloe", "Lucas",
    "Hannah", "Noah", "Priya", "Raj", "Mei", "Ken",
];

/// English family names.
#[rustfmt::skip]
pub(crate) const EN_FAMILY: &[&str] = &[
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson", "Taylor",
    "Moore", "Martin", "Jackson", "Thompson", "White", "Harris", "Clark", "Lewis", "Walker", "Hall",
    "Young", "King", "Wright", "Scott", "Green", "Baker", "Adams", "Nelson", "Carter", "Chen",
    "Wong", "Lee", "Tan", "Patel", "Nguyen", "Kim",
];

/// A sales region; teams and warehouses serve regions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Region {
    East,
    South,
    North,
    West,
    Overseas,
}

impl Region {
    /// Every region, in the order teams are assigned to them.
    pub(crate) const ALL: [Region; 5] = [
        Region::East,
        Region::South,
        Region::North,
        Region::West,
        Region::Overseas,
    ];

    /// A team name for the region.
    pub(crate) fn team_name(self) -> &'static str {
        match self {
            Region::East => "华东区 East China",
            Region::South => "华南区 South China",
            Region::North => "华北区 North China",
            Region::West => "中西部 Central & West",
            Region::Overseas => "海外业务 International",
        }
    }
}

/// How a place's phone numbers are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialing {
    /// Mainland China with this area code (`021`, `0755`).
    China(&'static str),
    /// North America with this area code: `+1 415 555 0134`.
    NorthAmerica(&'static str),
    /// London's drama range: `+44 20 7946 0123`.
    London,
    /// Sydney's drama range: `+61 2 5550 1234`.
    Sydney,
    /// Singapore: `+65 6123 4567`.
    Singapore,
    /// Hong Kong: `+852 2123 4567`.
    HongKong,
}

/// A province (or state) and city, with its weight among customers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Place {
    pub province: &'static str,
    pub city: &'static str,
    /// The city in pinyin or English, for addresses and domains.
    pub latin: &'static str,
    pub region: Region,
    pub dialing: Dialing,
    pub weight: u32,
}

const fn cn(
    province: &'static str,
    city: &'static str,
    latin: &'static str,
    region: Region,
    code: &'static str,
    weight: u32,
) -> Place {
    Place {
        province,
        city,
        latin,
        region,
        dialing: Dialing::China(code),
        weight,
    }
}

/// Mainland cities, weighted roughly by business activity.
#[rustfmt::skip]
pub(crate) const CHINA: &[Place] = &[
    cn("上海市", "上海", "Shanghai", Region::East, "021", 30),
    cn("北京市", "北京", "Beijing", Region::North, "010", 26),
    cn("广东省", "深圳", "Shenzhen", Region::South, "0755", 24),
    cn("广东省", "广州", "Guangzhou", Region::South, "020", 20),
    cn("浙江省", "杭州", "Hangzhou", Region::East, "0571", 16),
    cn("江苏省", "苏州", "Suzhou", Region::East, "0512", 14),
    cn("江苏省", "南京", "Nanjing", Region::East, "025", 10),
    cn("四川省", "成都", "Chengdu", Region::West, "028", 12),
    cn("湖北省", "武汉", "Wuhan", Region::West, "027", 10),
    cn("天津市", "天津", "Tianjin", Region::North, "022", 8),
    cn("重庆市", "重庆", "Chongqing", Region::West, "023", 9),
    cn("广东省", "东莞", "Dongguan", Region::South, "0769", 9),
    cn("广东省", "佛山", "Foshan", Region::South, "0757", 8),
    cn("浙江省", "宁波", "Ningbo", Region::East, "0574", 8),
    cn("浙江省", "温州", "Wenzhou", Region::East, "0577", 5),
    cn("江苏省", "无锡", "Wuxi", Region::East, "0510", 6),
    cn("山东省", "青岛", "Qingdao", Region::North, "0532", 7),
    cn("山东省", "济南", "Jinan", Region::North, "0531", 5),
    cn("福建省", "厦门", "Xiamen", Region::South, "0592", 6),
    cn("福建省", "福州", "Fuzhou", Region::South, "0591", 4),
    cn("湖南省", "长沙", "Changsha", Region::West, "0731", 6),
    cn("河南省", "郑州", "Zhengzhou", Region::West, "0371", 6),
    cn("陕西省", "西安", "Xi'an", Region::West, "029", 6),
    cn("安徽省", "合肥", "Hefei", Region::East, "0551", 5),
    cn("辽宁省", "沈阳", "Shenyang", Region::North, "024", 4),
    cn("辽宁省", "大连", "Dalian", Region::North, "0411", 4),
    cn("河北省", "石家庄", "Shijiazhuang", Region::North, "0311", 3),
    cn("山西省", "太原", "Taiyuan", Region::North, "0351", 2),
    cn("黑龙江省", "哈尔滨", "Harbin", Region::North, "0451", 2),
    cn("吉林省", "长春", "Changchun", Region::North, "0431", 2),
    cn("江西省", "南昌", "Nanchang", Region::East, "0791", 3),
    cn("云南省", "昆明", "Kunming", Region::West, "0871", 3),
    cn("广西壮族自治区", "南宁", "Nanning", Region::South, "0771", 3,),
    cn("贵州省", "贵阳", "Guiyang", Region::West, "0851", 2),
    cn("海南省", "海口", "Haikou", Region::South, "0898", 2),
    cn("内蒙古自治区", "呼和浩特", "Hohhot", Region::North, "0471", 1,),
    cn("新疆维吾尔自治区", "乌鲁木齐", "Urumqi", Region::West, "0991", 1,),
    cn("甘肃省", "兰州", "Lanzhou", Region::West, "0931", 1),
];

/// Cities abroad, for English-named customers.
pub(crate) const ABROAD: &[Place] = &[
    Place {
        province: "California",
        city: "San Francisco",
        latin: "San Francisco",
        region: Region::Overseas,
        dialing: Dialing::NorthAmerica("415"),
        weight: 6,
    },
    Place {
        province: "California",
        city: "Los Angeles",
        latin: "Los Angeles",
        region: Region::Overseas,
        dialing: Dialing::NorthAmerica("213"),
        weight: 5,
    },
    Place {
        province: "New York",
        city: "New York",
        latin: "New York",
        region: Region::Overseas,
        dialing: Dialing::NorthAmerica("212"),
        weight: 5,
    },
    Place {
        province: "Washington",
        city: "Seattle",
        latin: "Seattle",
        region: Region::Overseas,
        dialing: Dialing::NorthAmerica("206"),
        weight: 3,
    },
    Place {
        province: "Texas",
        city: "Houston",
        latin: "Houston",
        region: Region::Overseas,
        dialing: Dialing::NorthAmerica("713"),
        weight: 3,
    },
    Place {
        province: "Ontario",
        city: "Toronto",
        latin: "Toronto",
        region: Region::Overseas,
        dialing: Dialing::NorthAmerica("416"),
        weight: 3,
    },
    Place {
        province: "England",
        city: "London",
        latin: "London",
        region: Region::Overseas,
        dialing: Dialing::London,
        weight: 4,
    },
    Place {
        province: "New South Wales",
        city: "Sydney",
        latin: "Sydney",
        region: Region::Overseas,
        dialing: Dialing::Sydney,
        weight: 3,
    },
    Place {
        province: "Singapore",
        city: "Singapore",
        latin: "Singapore",
        region: Region::Overseas,
        dialing: Dialing::Singapore,
        weight: 5,
    },
    Place {
        province: "香港特别行政区",
        city: "香港",
        latin: "Hong Kong",
        region: Region::Overseas,
        dialing: Dialing::HongKong,
        weight: 5,
    },
];

/// Mainland mobile prefixes.
#[rustfmt::skip]
pub(crate) const MOBILE_PREFIXES: &[&str] = &[
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155", "156", "157",
    "158", "159", "166", "176", "177", "180", "181", "185", "186", "187", "188", "189", "198", "199",
];

/// First syllables of Chinese company brands, with pinyin.
#[rustfmt::skip]
pub(crate) const BRAND_HEADS: &[(&str, &str)] = &[
    ("恒", "heng"), ("华", "hua"), ("金", "jin"), ("宏", "hong"), ("鑫", "xin"), ("博", "bo"), ("中", "zhong"), ("天", "tian"),
    ("瑞", "rui"), ("永", "yong"), ("汇", "hui"), ("新", "xin"), ("联", "lian"), ("东", "dong"), ("嘉", "jia"), ("立", "li"),
    ("德", "de"), ("海", "hai"), ("卓", "zhuo"), ("众", "zhong"), ("长", "chang"), ("泰", "tai"), ("科", "ke"), ("润", "run"),
    ("同", "tong"), ("佳", "jia"), ("明", "ming"), ("安", "an"), ("星", "xing"), ("盛", "sheng"), ("凯", "kai"), ("诺", "nuo"),
];

/// Second syllables of Chinese company brands, with pinyin.
#[rustfmt::skip]
pub(crate) const BRAND_TAILS: &[(&str, &str)] = &[
    ("通", "tong"), ("信", "xin"), ("达", "da"), ("源", "yuan"), ("远", "yuan"), ("诚", "cheng"), ("丰", "feng"), ("峰", "feng"),
    ("创", "chuang"), ("方", "fang"), ("禾", "he"), ("拓", "tuo"), ("纳", "na"), ("越", "yue"), ("合", "he"), ("青", "qing"),
    ("和", "he"), ("美", "mei"), ("辉", "hui"), ("世", "shi"), ("航", "hang"), ("宇", "yu"), ("成", "cheng"), ("邦", "bang"),
    ("利", "li"), ("晟", "sheng"), ("川", "chuan"), ("隆", "long"),
];

/// What a company does: the words in its Chinese name, a short code for its domain, and
/// the industry stored on the customer.
#[rustfmt::skip]
pub(crate) const INDUSTRIES: &[(&str, &str, &str)] = &[
    ("电子科技", "tech", "电子 Electronics"), ("机械设备", "machinery", "机械 Machinery"),
    ("五金制品", "hardware", "五金 Hardware"), ("建材", "build", "建材 Building materials"),
    ("化工", "chem", "化工 Chemicals"), ("国际贸易", "trading", "贸易 Trading"),
    ("物流", "logistics", "物流 Logistics"), ("食品", "foods", "食品 Food"),
    ("医疗器械", "medical", "医疗 Medical devices"), ("汽车配件", "auto", "汽车 Automotive"),
    ("纺织", "textile", "纺织 Textiles"), ("包装材料", "pack", "包装 Packaging"),
    ("新能源", "energy", "能源 New energy"), ("信息技术", "it", "信息技术 IT services"),
    ("家具", "furniture", "家具 Furniture"), ("环保科技", "eco", "环保 Environmental"),
    ("精密制造", "precision", "制造 Manufacturing"),
];

/// Legal suffixes of Chinese companies, weighted.
#[rustfmt::skip]
pub(crate) const CN_SUFFIXES: &[(&str, u32)] = &[
    ("有限公司", 60), ("股份有限公司", 15), ("集团有限公司", 6), ("实业有限公司", 10), ("工贸有限公司", 9),
];

/// First words of English company names.
#[rustfmt::skip]
pub(crate) const EN_PREFIXES: &[&str] = &[
    "Northwind", "Blue Ridge", "Pacific", "Summit", "Evergreen", "Silverline", "Harbor", "Redwood",
    "Lakeside", "Pioneer", "Crescent", "Atlas", "Meridian", "Keystone", "Oakridge", "Sterling",
    "Horizon", "Brightwater", "Cascade", "Ironwood", "Granite", "Bluebird", "Westbrook", "Eastgate",
    "Highland", "Riverside", "Silver Oak", "Maple", "Falcon", "Orchid",
];

/// Middle words of English company names (empty: none).
#[rustfmt::skip]
pub(crate) const EN_MIDDLES: &[&str] = &[
    "", "", "", "Global", "Precision", "United", "Coastal", "Advanced", "Allied", "Prime",
];

/// What an English-named company does: its name word, the domain word and the industry.
#[rustfmt::skip]
pub(crate) const EN_TRADES: &[(&str, &str, &str)] = &[
    ("Trading", "trading", "贸易 Trading"), ("Supply", "supply", "贸易 Trading"),
    ("Industries", "industries", "制造 Manufacturing"), ("Components", "components", "电子 Electronics"),
    ("Logistics", "logistics", "物流 Logistics"), ("Electronics", "electronics", "电子 Electronics"),
    ("Manufacturing", "mfg", "制造 Manufacturing"), ("Foods", "foods", "食品 Food"),
    ("Medical", "medical", "医疗 Medical devices"), ("Packaging", "packaging", "包装 Packaging"),
    ("Systems", "systems", "信息技术 IT services"), ("Tools", "tools", "五金 Hardware"),
    ("Materials", "materials", "建材 Building materials"), ("Energy", "energy", "能源 New energy"),
];

/// Legal suffixes of English company names.
pub(crate) const EN_SUFFIXES: &[&str] = &["Ltd", "Inc.", "LLC", "Co.", "Limited", "Pte Ltd"];

/// The reserved domains every seeded address lives under.
pub(crate) const EXAMPLE_DOMAINS: &[&str] = &["example.com", "example.net", "example.org"];

/// Mail services of private people (all under reserved domains).
#[rustfmt::skip]
pub(crate) const MAIL_SERVICES: &[&str] = &[
    "qq.example.com", "163.example.com", "126.example.net", "mail.example.org", "gmail.example.com",
];

/// Where customers come from (the customer's and lead's `source`).
#[rustfmt::skip]
pub(crate) const SOURCES: &[(&str, u32)] = &[
    ("展会 Trade show", 20), ("官网 Website", 22), ("转介绍 Referral", 18), ("电话营销 Cold call", 12),
    ("广告 Advertising", 8), ("阿里巴巴 Alibaba", 10), ("老客户 Existing customer", 10),
];

/// Customer tags, weighted.
#[rustfmt::skip]
pub(crate) const TAGS: &[(&str, u32)] = &[
    ("重点客户", 10), ("VIP", 6), ("经销商", 8), ("OEM", 5), ("展会", 8), ("老客户", 9),
    ("高潜力", 7), ("政府采购", 3), ("出口", 4), ("价格敏感", 6), ("年度框架", 4),
];

/// Job titles of contacts, Chinese and English.
#[rustfmt::skip]
pub(crate) const CN_TITLES: &[&str] = &[
    "总经理", "副总经理", "采购经理", "采购专员", "财务经理",
    "技术总监", "项目经理", "行政主管", "生产经理", "仓储主管",
];

/// Job titles of contacts at English-named customers.
#[rustfmt::skip]
pub(crate) const EN_TITLES: &[&str] = &[
    "CEO", "Purchasing Manager", "Procurement Lead", "Finance Manager",
    "CTO", "Operations Manager", "Office Manager", "Supply Chain Director",
];

/// Follow-up notes in Chinese by kind (`{cat}` is a product family, `{who}` a contact).
#[rustfmt::skip]
pub(crate) const CN_NOTES: &[(&str, &str)] = &[
    ("call", "电话沟通{cat}采购计划，客户预计下月下单"),
    ("call", "电话回访，上批货物已收到，客户反馈质量稳定"),
    ("call", "{who}来电询问{cat}交期，已确认可在两周内发货"),
    ("call", "电话催收上月货款，财务答应本周内安排付款"),
    ("visit", "上门拜访{who}，参观生产线，洽谈年度框架协议"),
    ("visit", "拜访客户仓库，了解{cat}库存和月用量"),
    ("email", "发送{cat}报价单及最新产品目录"),
    ("email", "邮件确认订单明细和开票信息"),
    ("meeting", "与{who}视频会议，讨论付款方式和交货周期"),
    ("meeting", "参加客户供应商评审会，提交资质文件"),
    ("note", "客户年底预算紧张，建议明年一季度再跟进"),
    ("note", "竞争对手报价低5%，需申请特价"),
    ("note", "客户习惯用微信沟通，重要事项需邮件确认"),
];

/// Follow-up notes in English by kind.
#[rustfmt::skip]
pub(crate) const EN_NOTES: &[(&str, &str)] = &[
    ("call", "Called {who} about the {cat} order planned for next month",),
    ("call", "Follow-up call: last shipment arrived in good condition",),
    ("call", "Reminded accounts payable of the open invoice; payment promised this week",),
    ("visit", "Visited the site with {who}; reviewed {cat} requirements with engineering",),
    ("email", "Sent the {cat} quotation and the updated price list",),
    ("email", "Confirmed delivery address and invoicing details by email",),
    ("meeting", "Video call with {who}: payment terms and lead times",),
    ("meeting", "Quarterly business review; volumes expected to grow 10%",),
    ("note", "Budget frozen until next quarter; check back in January",),
    ("note", "A competitor quoted 5% lower; asked for a special price",),
];

/// Why deals are lost.
#[rustfmt::skip]
pub(crate) const LOST_REASONS: &[&str] = &[
    "价格太高 Price too high", "选择了竞争对手 Chose a competitor", "预算取消 Budget cancelled",
    "需求变更 Requirements changed", "交期无法满足 Lead time too long", "客户无响应 No response",
];

/// A product family: its SKU prefix, names, unit, price range (whole CNY) and the
/// specifications its variants take.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Family {
    pub code: &'static str,
    pub category: &'static str,
    pub cn: &'static str,
    pub en: &'static str,
    pub unit: &'static str,
    /// Whether quantities may be fractional (kg, metres).
    pub fractional: bool,
    pub price_yuan: (i64, i64),
    pub specs: &'static [&'static str],
}

const fn family(
    code: &'static str,
    category: &'static str,
    (cn, en): (&'static str, &'static str),
    (unit, fractional): (&'static str, bool),
    price_yuan: (i64, i64),
    specs: &'static [&'static str],
) -> Family {
    Family {
        code,
        category,
        cn,
        en,
        unit,
        fractional,
        price_yuan,
        specs,
    }
}

#[rustfmt::skip]
const BOLT_SIZES: &[&str] = &[
    "M4×10", "M5×16", "M6×20", "M6×30", "M8×25", "M8×40", "M10×30", "M10×50", "M12×40", "M12×60", "M16×50", "M20×80",
];
const VOLTAGES: &[&str] = &["5V", "12V", "24V", "36V", "48V", "220V"];
const GRADES: &[&str] = &["标准型", "加强型", "经济型", "进口", "工业级", "Pro"];
const LENGTHS: &[&str] = &["3m", "5m", "7.5m", "10m", "30cm", "50cm", "60cm"];
const SIZES: &[&str] = &["S", "M", "L", "XL", "均码"];
const CAPACITIES: &[&str] = &["1L", "4L", "5kg", "18L", "20kg", "200L"];
const CURRENTS: &[&str] = &["1P 16A", "1P 32A", "2P 32A", "3P 63A", "3P 100A", "4P 125A"];
const CARTONS: &[&str] = &["300×200×150", "400×300×250", "500×400×300", "600×400×400"];

/// The product families products are drawn from.
#[rustfmt::skip]
pub(crate) const FAMILIES: &[Family] = &[
    family("EL", "电子元件 Electronics", ("开关电源", "Switching power supply"), ("台", false), (60, 900), VOLTAGES,),
    family("EL", "电子元件 Electronics", ("贴片电阻", "SMD resistor reel"), ("盘", false), (15, 80), GRADES,),
    family("EL", "电子元件 Electronics", ("中间继电器", "Relay"), ("个", false), (12, 160), VOLTAGES,),
    family("EL", "电子元件 Electronics", ("接近传感器", "Proximity sensor"), ("个", false), (45, 680), VOLTAGES,),
    family("HW", "五金 Hardware", ("不锈钢六角螺栓", "Stainless hex bolt, box of 100"), ("盒", false), (18, 260), BOLT_SIZES,),
    family("HW", "五金 Hardware", ("膨胀螺丝", "Expansion anchor, box of 50"), ("盒", false), (15, 120), BOLT_SIZES,),
    family("HW", "五金 Hardware", ("不锈钢合页", "Stainless hinge"), ("个", false), (4, 45), GRADES,),
    family("EQ", "电气 Electrical", ("小型断路器", "Miniature circuit breaker"), ("个", false), (18, 420), CURRENTS,),
    family("EQ", "电气 Electrical", ("护套电缆", "Sheathed cable RVV"), ("米", true), (3, 38), GRADES,),
    family("EQ", "电气 Electrical", ("LED工矿灯", "LED high-bay light"), ("套", false), (160, 1500), GRADES,),
    family("TL", "工具 Tools", ("锂电冲击钻", "Cordless impact drill"), ("台", false), (280, 2600), VOLTAGES,),
    family("TL", "工具 Tools", ("组合扳手套装", "Combination wrench set"), ("套", false), (60, 900), GRADES,),
    family("TL", "工具 Tools", ("钢卷尺", "Steel tape measure"), ("把", false), (8, 60), LENGTHS,),
    family("OF", "办公用品 Office", ("A4复印纸", "A4 copy paper, 5 reams"), ("箱", false), (120, 260), GRADES,),
    family("OF", "办公用品 Office", ("中性笔", "Gel pen, box of 12"), ("盒", false), (12, 48), GRADES,),
    family("PK", "包装材料 Packaging", ("五层瓦楞纸箱", "5-ply carton"), ("个", false), (2, 16), CARTONS,),
    family("PK", "包装材料 Packaging", ("缠绕膜", "Stretch film"), ("卷", false), (18, 75), LENGTHS,),
    family("PK", "包装材料 Packaging", ("封箱胶带", "Packing tape"), ("卷", false), (3, 12), LENGTHS,),
    family("CH", "化工原料 Chemicals", ("抗磨液压油46#", "Hydraulic oil ISO 46"), ("桶", false), (90, 2400), CAPACITIES,),
    family("CH", "化工原料 Chemicals", ("环氧树脂", "Epoxy resin"), ("kg", true), (28, 120), GRADES,),
    family("CH", "化工原料 Chemicals", ("工业酒精95%", "Industrial ethanol 95%"), ("kg", true), (6, 25), CAPACITIES,),
    family("SF", "劳保用品 Safety", ("丁腈防护手套", "Nitrile safety gloves"), ("双", false), (3, 28), SIZES,),
    family("SF", "劳保用品 Safety", ("ABS安全帽", "ABS safety helmet"), ("顶", false), (18, 120), GRADES,),
    family("SF", "劳保用品 Safety", ("反光背心", "High-visibility vest"), ("件", false), (8, 45), SIZES,),
];

/// Warehouses: code, name and the region they serve, in the order profiles open them.
#[rustfmt::skip]
pub(crate) const WAREHOUSES: &[(&str, &str, Region)] = &[
    ("WH-SH", "上海仓 Shanghai DC", Region::East), ("WH-SZ", "深圳仓 Shenzhen DC", Region::South), ("WH-BJ", "北京仓 Beijing DC", Region::North),
    ("WH-CD", "成都仓 Chengdu DC", Region::West), ("WH-HK", "香港仓 Hong Kong DC", Region::Overseas), ("WH-WH", "武汉仓 Wuhan DC", Region::West),
    ("WH-GZ", "广州仓 Guangzhou DC", Region::South), ("WH-HZ", "杭州仓 Hangzhou DC", Region::East), ("WH-TJ", "天津仓 Tianjin DC", Region::North),
    ("WH-XA", "西安仓 Xi'an DC", Region::West), ("WH-NJ", "南京仓 Nanjing DC", Region::East), ("WH-QD", "青岛仓 Qingdao DC", Region::North),
    ("WH-XM", "厦门仓 Xiamen DC", Region::South), ("WH-CQ", "重庆仓 Chongqing DC", Region::West), ("WH-SY", "沈阳仓 Shenyang DC", Region::North),
    ("WH-SU", "苏州仓 Suzhou DC", Region::East), ("WH-CS", "长沙仓 Changsha DC", Region::West), ("WH-ZZ", "郑州仓 Zhengzhou DC", Region::West),
    ("WH-NB", "宁波仓 Ningbo DC", Region::East), ("WH-DG", "东莞仓 Dongguan DC", Region::South), ("WH-KM", "昆明仓 Kunming DC", Region::West),
    ("WH-DL", "大连仓 Dalian DC", Region::North), ("WH-HF", "合肥仓 Hefei DC", Region::East), ("WH-FZ", "福州仓 Fuzhou DC", Region::South),
    ("WH-JN", "济南仓 Jinan DC", Region::North), ("WH-NN", "南宁仓 Nanning DC", Region::South), ("WH-GY", "贵阳仓 Guiyang DC", Region::West),
    ("WH-NC", "南昌仓 Nanchang DC", Region::East), ("WH-TY", "太原仓 Taiyuan DC", Region::North), ("WH-SG", "新加坡仓 Singapore DC", Region::Overseas),
];

/// Chinese New Year's day, by year: orders and follow-ups thin out around it.
#[rustfmt::skip]
pub(crate) const CHINESE_NEW_YEAR: &[(i32, u32, u32)] = &[
    (2022, 2, 1), (2023, 1, 22), (2024, 2, 10), (2025, 1, 29), (2026, 2, 17), (2027, 2, 6), (2028, 1, 26),
    (2029, 2, 13), (2030, 2, 3), (2031, 1, 23), (2032, 2, 11), (2033, 1, 31), (2034, 2, 19), (2035, 2, 8),
];
