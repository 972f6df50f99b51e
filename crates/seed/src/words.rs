//! Word lists the generator draws names from.

pub const FIRST: &[&str] = &[
    "Ava", "Liam", "Maria", "Noah", "Olivia", "Ethan", "Sofia", "Lucas", "Mia", "Mateo", "Amara", "Kenji",
    "Priya", "Diego", "Chloe", "Omar", "Grace", "Wei", "Fatima", "Jonas", "Elena", "Samuel", "Hana",
    "Carlos", "Nadia", "Isaac", "Leah", "Tomas", "Zara", "Arjun", "Ruth", "Felix", "Ines", "Marcus", "Yuki",
    "Bianca",
];

pub const LAST: &[&str] = &[
    "Okafor", "Nguyen", "Garcia", "Smith", "Patel", "Kim", "Johnson", "Rossi", "Müller", "Cohen", "Silva",
    "Tanaka", "Brown", "Haddad", "Kowalski", "Andersen", "Dubois", "Reyes", "Osei", "Walsh", "Ivanova",
    "Chen", "Moreau", "Fischer", "Mendes", "O'Neill", "Larsen", "Abbott", "Ferreira", "Nakamura", "Romero",
    "Singh",
];

pub const NAME_A: &[&str] = &[
    "Blue",
    "Riverside",
    "Summit",
    "Oak",
    "Harbor",
    "Granite",
    "Maple",
    "Northstar",
    "Cedar",
    "Golden",
    "Silver",
    "Prairie",
    "Coastal",
    "Redwood",
    "Hillcrest",
    "Lakeside",
    "Pioneer",
    "Evergreen",
    "Sterling",
    "Canyon",
    "Meadow",
    "Ironwood",
    "Bright",
    "Willow",
    "Falcon",
    "Aspen",
    "Crescent",
    "Union",
    "Liberty",
    "Keystone",
];

pub const NAME_B: &[&str] = &[
    "Fern",
    "Dental",
    "Bakery",
    "Logistics",
    "Builders",
    "Analytics",
    "Roofing",
    "Bistro",
    "Motors",
    "Studio",
    "Clinic",
    "Farms",
    "Outfitters",
    "Labs",
    "Florist",
    "Brewing",
    "Consulting",
    "Plumbing",
    "Fitness",
    "Media",
    "Realty",
    "Pharmacy",
    "Design",
    "Printing",
    "Landscaping",
    "Vineyards",
    "Optics",
    "Hardware",
    "Catering",
    "Tech",
];

pub const SUFFIX: &[&str] =
    &["LLC", "Inc.", "Co.", "LLP", "Group", "Partners", "Corp.", "& Sons", "Holdings"];

pub const INDUSTRY: &[&str] = &[
    "construction",
    "healthcare",
    "retail",
    "restaurants",
    "real_estate",
    "professional_services",
    "manufacturing",
    "technology",
    "agriculture",
    "transportation",
    "nonprofit",
    "hospitality",
    "dental",
    "legal",
    "education",
];

pub const TAGS: &[&str] = &[
    "vip",
    "quarterly",
    "payroll",
    "sales-tax",
    "1099-filer",
    "multi-state",
    "s-corp-election",
    "new",
    "referral",
    "audit-risk",
    "extension",
    "cash-basis",
];

pub const STREETS: &[&str] =
    &["Main St", "Oak Ave", "Market St", "2nd Ave", "Elm St", "Park Blvd", "Cedar Ln", "Lake Dr"];

pub const CITIES: &[&str] = &[
    "Austin, TX",
    "Denver, CO",
    "Portland, OR",
    "Columbus, OH",
    "Raleigh, NC",
    "Tampa, FL",
    "Madison, WI",
    "Boise, ID",
    "Omaha, NE",
    "Richmond, VA",
];

pub const LINE_ITEMS: &[&str] = &[
    "Individual tax return (1040)",
    "Business tax return (1120-S)",
    "Monthly bookkeeping",
    "Payroll processing",
    "Sales tax filing",
    "Advisory session",
    "Year-end close",
    "Financial statement review",
    "CFO retainer",
    "1099 preparation",
    "Quarterly estimates",
    "Bank reconciliation",
];
