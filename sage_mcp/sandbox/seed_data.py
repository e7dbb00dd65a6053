"""Names and catalogues the seed data is drawn from (all fictional)."""

from __future__ import annotations

LEAD_CUSTOMERS = (
    "Brightwater Consulting Ltd",
    "Kestrel Engineering Ltd",
    "Acorn & Oak Interiors",
    "Bluebell Bakery",
    "Thistle Logistics Ltd",
    "Harbourside Dental Practice",
    "Northgate Property Management",
    "Riverside Veterinary Clinic",
    "Pennine Outdoor Gear Ltd",
    "Copperfield Architects LLP",
    "Silverbirch Software Ltd",
    "Marlow & Daughters Solicitors",
    "Greenfield Garden Centre",
    "Redbrick Brewing Co",
    "Oakwood Primary School PTA",
    "Lighthouse Marketing Ltd",
    "Ashdown Physiotherapy",
    "Castlegate Hotels Ltd",
    "Willow Tree Nursery",
    "Foxglove Florists",
    "Meridian Travel Ltd",
    "Hawthorn Care Homes Ltd",
    "Granite Construction Ltd",
    "Blackwood Print Studio",
    "Saffron Kitchen Ltd",
    "Elmstead Golf Club",
    "Portobello Antiques",
    "Larkspur Events Ltd",
    "Quayside Fitness Ltd",
    "Ravenscroft Accountants",
    "Sterling Cycles Ltd",
    "Tidewater Yacht Services",
    "Orchard House Dental",
    "Wexford & Lane Estate Agents",
    "Yew Tree Veterinary Group",
)
LEAD_SUPPLIERS = (
    "Northern Paper Supplies Ltd",
    "Cityline Telecom Ltd",
    "Apex Office Furniture",
    "Brightspark Electrical Ltd",
    "Clearview Window Cleaning",
    "Dales Courier Services",
    "Evergreen Facilities Management",
    "Fastnet IT Hardware Ltd",
    "Greystone Commercial Properties",
    "Hilltop Legal Services LLP",
    "Ironbridge Insurance Brokers",
    "Jubilee Catering Supplies",
    "Kingfisher Cleaning Co",
    "Lowther Vehicle Leasing",
    "Metro Stationery Wholesale",
)
SECOND_CUSTOMERS = (
    "Moss & Pebble Candles",
    "Little Owl Bookshop",
    "Harrow Hill Cafe",
    "Juniper Yoga Studio",
    "Bramble Lane Weddings",
    "Cobble Street Coffee",
)
SECOND_SUPPLIERS = ("Paperworks Art Supplies", "Pixel Cloud Hosting")
THIRD_CUSTOMERS = (
    "Dalesway Cycling Club",
    "Ilkley Bike Hire",
    "Wharfe Valley Couriers",
    "Otley Scouts Group",
    "Bramhope Primary School",
)
THIRD_SUPPLIERS = ("Northern Cycle Distribution", "Chainline Parts Wholesale")
FOREIGN_CUSTOMERS = ("Granary Wharf Developments",)
FOREIGN_SUPPLIERS = ("Oakridge Plant Hire",)

FIRST_NAMES = (
    "Amelia", "Oliver", "Isla", "George", "Ava", "Harry", "Mia", "Jack", "Sophie", "Noah",
    "Grace", "Charlie", "Freya", "Thomas", "Emily", "James", "Lily", "William", "Ruby", "Alfie",
)  # fmt: skip
LAST_NAMES = (
    "Patel", "Walker", "Hughes", "Evans", "Thompson", "Wright", "Robinson", "Clarke", "Khan", "Lewis",
    "Harris", "Price", "Morgan", "Bennett", "Shaw", "Collins", "Murphy", "Turner", "Ward", "Fletcher",
)  # fmt: skip
STREETS = (
    "High Street", "Station Road", "Church Lane", "Mill Road", "Victoria Street", "King Street",
    "Park Avenue", "Queen's Road", "Market Place", "Bridge Street", "The Green", "Castle Street",
)  # fmt: skip
#: (city, region, postcode district)
TOWNS = (
    ("Leeds", "West Yorkshire", "LS1"),
    ("Manchester", "Greater Manchester", "M1"),
    ("Bristol", "Bristol", "BS1"),
    ("York", "North Yorkshire", "YO1"),
    ("Sheffield", "South Yorkshire", "S1"),
    ("Bath", "Somerset", "BA1"),
    ("Norwich", "Norfolk", "NR1"),
    ("Exeter", "Devon", "EX1"),
    ("Chester", "Cheshire", "CH1"),
    ("Cambridge", "Cambridgeshire", "CB1"),
    ("Harrogate", "North Yorkshire", "HG1"),
    ("Nottingham", "Nottinghamshire", "NG1"),
    ("Durham", "County Durham", "DH1"),
    ("Reading", "Berkshire", "RG1"),
    ("Brighton", "East Sussex", "BN1"),
)
VOID_REASONS = (
    "Raised in error",
    "Duplicate of another invoice",
    "Customer cancelled the order",
    "Issued to the wrong customer",
)

# (description, nominal code, tax rate id, (min qty, max qty), unit prices to pick from)
LEAD_CATALOGUE = (
    ("Design consultation (per hour)", 4000, "GB_STANDARD", (1, 8), ("85.00",)),
    ("Joinery labour (per hour)", 4000, "GB_STANDARD", (2, 40), ("45.00", "47.50")),
    ("Site survey", 4000, "GB_STANDARD", (1, 1), ("150.00", "175.00")),
    ("Bespoke shelving unit", 4001, "GB_STANDARD", (1, 3), ("325.00", "489.99", "750.00", "1250.00")),
    ("Oak worktop (per metre)", 4001, "GB_STANDARD", (1, 6), ("189.99",)),
    ("Energy-saving loft insulation", 4001, "GB_LOWER", (1, 3), ("420.00", "612.50")),
    ("Printed product catalogue", 4002, "GB_ZERO", (10, 200), ("3.335", "2.495")),
    ("Health and safety training (per delegate)", 4900, "GB_EXEMPT", (1, 12), ("95.00",)),
    ("Delivery and carriage", 4905, "GB_STANDARD", (1, 1), ("45.00", "65.00")),
)
SECOND_CATALOGUE = (
    ("Logo design", 4000, "GB_STANDARD", (1, 1), ("450.00", "600.00")),
    ("Brand guidelines document", 4000, "GB_STANDARD", (1, 1), ("350.00",)),
    ("Illustration (per hour)", 4000, "GB_STANDARD", (2, 12), ("40.00",)),
    ("Social media artwork pack", 4001, "GB_STANDARD", (1, 2), ("120.00",)),
)
THIRD_CATALOGUE = (
    ("Full bicycle service", 4000, "GB_STANDARD", (1, 4), ("85.00", "110.00")),
    ("Puncture repair", 4000, "GB_STANDARD", (1, 6), ("15.00",)),
    ("Replacement chain and cassette", 4001, "GB_STANDARD", (1, 2), ("64.99",)),
    ("Cycle helmet", 4001, "GB_ZERO", (1, 5), ("39.99", "54.99")),
)

# Purchases: (supplier, description, nominal code, tax rate id, unit prices, invoices over the year,
# supplier's invoice number prefix).  The lead business gets 40 purchase invoices a year.
LEAD_PURCHASES = (
    ("Cityline Telecom Ltd", "Broadband and telephone lines", 7502, "GB_STANDARD", ("89.50", "94.75"), 12, "CTL"),
    ("Greystone Commercial Properties", "Quarterly rent, Unit 4", 7100, "GB_STANDARD", ("4500.00",), 4, "GCP"),
    ("Lowther Vehicle Leasing", "Van lease", 7300, "GB_STANDARD", ("389.00",), 5, "LVL"),
    ("Northern Paper Supplies Ltd", "Printer paper and envelopes", 7504, "GB_STANDARD", ("64.20", "86.00"), 4, "NPS"),
    ("Metro Stationery Wholesale", "Office stationery", 7504, "GB_STANDARD", ("42.99", "57.30"), 3, "MSW"),
    ("Brightspark Electrical Ltd", "Electrical fittings for site work", 5001, "GB_STANDARD", ("312.00",), 2, "BSE"),
    ("Evergreen Facilities Management", "Workshop maintenance visit", 7800, "GB_STANDARD", ("220.00",), 3, "EFM"),
    ("Fastnet IT Hardware Ltd", "Laptop and docking station", 30, "GB_STANDARD", ("1149.00", "899.00"), 2, "FIT"),
    ("Hilltop Legal Services LLP", "Contract review", 7600, "GB_STANDARD", ("750.00",), 1, "HLS"),
    ("Ironbridge Insurance Brokers", "Business insurance premium", 7500, "GB_EXEMPT", ("1860.00",), 1, "IIB"),
    ("Dales Courier Services", "Courier deliveries", 7501, "GB_STANDARD", ("36.50", "48.00"), 2, "DCS"),
    ("Apex Office Furniture", "Office desks and chairs", 40, "GB_STANDARD", ("1420.00",), 1, "AOF"),
)
SECOND_PURCHASES = (
    ("Pixel Cloud Hosting", "Website hosting", 7502, "GB_STANDARD", ("18.00",), 3, "PCH"),
    ("Paperworks Art Supplies", "Art materials", 5001, "GB_STANDARD", ("46.80", "73.25"), 2, "PAS"),
)
THIRD_PURCHASES = (
    ("Northern Cycle Distribution", "Workshop parts", 5000, "GB_STANDARD", ("212.40", "186.75"), 4, "NCD"),
    ("Chainline Parts Wholesale", "Tyres and tubes", 5000, "GB_STANDARD", ("96.00",), 2, "CPW"),
)
CREDIT_REASONS = (
    "Returned goods",
    "Pricing error on invoice",
    "Goodwill credit for late delivery",
    "Cancelled part of the order",
)
SUPPLIER_CREDIT_REASONS = ("Credit for service outage", "Returned faulty item")
