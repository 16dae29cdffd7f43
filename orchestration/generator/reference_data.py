"""Fixed reference values of the synthetic CRM: names, funnels, channels, currencies."""

from __future__ import annotations

# Units of EUR per unit of currency; the dbt `fx_rates` seed holds monthly rates around these.
EUR_PER_UNIT = {"EUR": 1.0, "DKK": 0.134, "SEK": 0.088, "NOK": 0.086, "USD": 0.92}

OPEN_STAGES = ["Prospecting", "Qualification", "Discovery", "Proposal", "Negotiation"]
STAGE_DEFAULT_PROBABILITY = {
    "Prospecting": 10, "Qualification": 20, "Discovery": 40, "Proposal": 60, "Negotiation": 80,
    "Closed Won": 100, "Closed Lost": 0,
}
STAGE_FORECAST_CATEGORY = {
    "Prospecting": "pipeline", "Qualification": "pipeline", "Discovery": "best_case",
    "Proposal": "best_case", "Negotiation": "commit", "Closed Won": "closed", "Closed Lost": "closed",
}

# channel: (share of converted leads' volume, lead->opportunity conversion rate, win-rate factor, EUR per lead)
CHANNELS = {
    "referral": (0.10, 0.35, 1.40, 25.0),
    "partner": (0.10, 0.25, 1.20, 150.0),
    "event": (0.15, 0.15, 1.00, 300.0),
    "webinar": (0.15, 0.12, 0.90, 80.0),
    "inbound": (0.20, 0.18, 1.10, 60.0),
    "outbound": (0.15, 0.06, 0.70, 45.0),
    "paid_search": (0.15, 0.08, 0.80, 120.0),
}

REGIONS = {
    "Nordics": ["DK", "DK", "SE", "SE", "NO", "FI"],
    "DACH": ["DE", "DE", "AT", "CH"],
    "UK & Ireland": ["GB", "GB", "IE"],
    "Benelux": ["NL", "BE"],
    "North America": ["US", "US", "CA"],
}
COUNTRY_CURRENCY = {"DK": "DKK", "SE": "SEK", "NO": "NOK", "US": "USD", "CA": "USD"}
COUNTRY_LEGAL_SUFFIX = {
    "DK": "ApS", "SE": "AB", "NO": "AS", "FI": "Oy", "DE": "GmbH", "AT": "GmbH", "CH": "AG",
    "GB": "Ltd", "IE": "Ltd", "NL": "B.V.", "BE": "NV", "US": "Inc.", "CA": "Inc.",
}

FIRST_NAMES = [
    "Søren", "Mette", "Jørgen", "Åse", "Bjørn", "Sofie", "Mads", "Freja", "Anders", "Ida",
    "Åsa", "Björn", "Märta", "Göran", "Sölve", "Linnéa", "Ingrid", "Øystein", "Kari", "Ole",
    "Jukka", "Aino", "Lukas", "Anna", "Jörg", "Emma", "Oliver", "Charlotte", "Daan", "Sanne",
    "James", "Olivia", "Liam", "Ava", "Noah", "Mia",
]
LAST_NAMES = [
    "Jørgensen", "Nielsen", "Sørensen", "Præstø", "Kjær", "Ærø", "Mølgaard", "Hansen",
    "Åkesson", "Öberg", "Lindqvist", "Ström", "Bäckström", "Hägg", "Nordström", "Solberg",
    "Håland", "Virtanen", "Müller", "Schäfer", "Gruber", "de Vries", "Janssens", "Murphy",
    "Smith", "Johnson", "Brown", "O'Brien",
]
COMPANY_STEMS = [
    "Nordlys", "Fjordkraft", "Skærgård", "Bjørkvik", "Sølvtind", "Åbyhøj", "Älvsjö", "Göta",
    "Strömsund", "Hav & Land", "Vestjysk", "Østbane", "Mälarö", "Kiruna", "Alpenblick",
    "Rheinwerk", "Donau", "Thames", "Liffey", "Delta", "Polder", "Maple", "Hudson", "Prairie",
]
COMPANY_KINDS = ["Logistik", "Data", "Energi", "Byg", "Systems", "Health", "Foods", "Retail", "Finans", "Robotics"]
INDUSTRIES = ["Software", "Manufacturing", "Retail", "Financial Services", "Healthcare", "Energy", "Logistics", "Public Sector"]
SEGMENTS = {"SMB": (0.60, 6_000.0, 0.30, 25.0), "Mid-Market": (0.30, 30_000.0, 0.25, 55.0), "Enterprise": (0.10, 120_000.0, 0.20, 110.0)}
# segment: (share of accounts, median deal EUR, base win rate, median cycle days)

PRODUCTS = [
    ("P01", "Nordlys Platform Core", "Platform", True),
    ("P02", "Platform Plus", "Platform", True),
    ("P03", "Premium Support", "Platform", True),
    ("P04", "Analytics Insight", "Analytics", True),
    ("P05", "Analytics Pro", "Analytics", True),
    ("P06", "Onboarding", "Services", False),
    ("P07", "Training Day", "Services", False),
    ("P08", "Integration Pack", "Services", False),
]
LOST_REASONS = ["Price", "Competitor", "No decision", "Timing", "Missing feature", "Budget"]
