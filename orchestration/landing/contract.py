"""The landing contract, as data: the one home of every raw table's columns, types, key, version column,
required columns and value ranges. The landing reads it; `make docs` renders it into the files source of
dbt (models/staging/files/_files__sources.yml) and the contract page (docs/landing_contract.md).

One `TableContract` per raw table: its typed columns, the key that upserts are matched
on, the column that decides which version of a row is newest, and the columns a file
must carry to be landed at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field

TEXT = "varchar"
INT = "bigint"
MONEY = "decimal(18,2)"
DATE = "date"
TIMESTAMP = "timestamp"
BOOL = "boolean"
NUMBER = "double"


@dataclass(frozen=True)
class TableContract:
    name: str
    columns: dict[str, str]
    key: tuple[str, ...]
    required: tuple[str, ...]
    # Column ordering versions of the same key; None means "the later load wins".
    version_column: str | None = "updated_at"
    optional_table: bool = False
    description: str = ""
    # Key columns that may be null (then matched as null = null), e.g. channel for sales cost.
    nullable_key: tuple[str, ...] = field(default_factory=tuple)
    # Closed ranges a value must lie in, else the row is rejected (probability 0-100).
    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)
    # What a column holds, where its name and type do not say it all
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def identifier_columns(self) -> frozenset[str]:
        """Text keys and references (`*_id`): matched and joined on, so trimmed, and empty when blank."""
        return frozenset(name for name, sql_type in self.columns.items()
                         if sql_type == TEXT and (name in self.key or name.endswith("_id")))


CONTRACTS: dict[str, TableContract] = {
    contract.name: contract
    for contract in [
        TableContract(
            name="users",
            columns={
                "user_id": TEXT, "full_name": TEXT, "email": TEXT, "team": TEXT, "region": TEXT,
                "manager_id": TEXT, "hired_at": DATE, "is_active": BOOL, "updated_at": TIMESTAMP,
            },
            key=("user_id",),
            required=("user_id", "full_name", "updated_at"),
            description="CRM users (sales reps and their managers).",
        ),
        TableContract(
            name="accounts",
            columns={
                "account_id": TEXT, "account_name": TEXT, "industry": TEXT, "segment": TEXT,
                "country": TEXT, "owner_id": TEXT, "created_at": TIMESTAMP,
                "updated_at": TIMESTAMP, "is_deleted": BOOL,
            },
            key=("account_id",),
            required=("account_id", "account_name", "created_at", "updated_at"),
            notes={"segment": "SMB, Mid-Market or Enterprise", "country": "ISO-3166 alpha-2", "owner_id": "a users.user_id"},
            description="Companies that are prospects or customers.",
        ),
        TableContract(
            name="leads",
            columns={
                "lead_id": TEXT, "created_at": TIMESTAMP, "source": TEXT, "status": TEXT,
                "owner_id": TEXT, "company_name": TEXT, "converted_at": TIMESTAMP,
                "converted_account_id": TEXT, "converted_opportunity_id": TEXT,
                "updated_at": TIMESTAMP, "is_deleted": BOOL,
            },
            key=("lead_id",),
            required=("lead_id", "created_at", "source", "updated_at"),
            notes={"source": "the channel: webinar, referral, inbound, outbound, event, paid_search, partner, ... (seed lead_source_map)",
                   "converted_opportunity_id": "the opportunity the lead became (else an opportunity naming it in lead_id)"},
            description="Leads with their originating channel and conversion.",
        ),
        TableContract(
            name="opportunities",
            columns={
                "opportunity_id": TEXT, "account_id": TEXT, "owner_id": TEXT, "lead_id": TEXT,
                "opportunity_name": TEXT, "opportunity_type": TEXT, "product_line": TEXT,
                "stage": TEXT, "amount": MONEY, "currency": TEXT, "probability": NUMBER,
                "expected_close_date": DATE, "created_at": TIMESTAMP, "closed_at": TIMESTAMP,
                "is_closed": BOOL, "is_won": BOOL, "lost_reason": TEXT,
                "forecast_category": TEXT, "updated_at": TIMESTAMP, "is_deleted": BOOL,
            },
            key=("opportunity_id",),
            required=(
                "opportunity_id", "account_id", "owner_id", "stage", "amount", "currency",
                "created_at", "updated_at",
            ),
            ranges={"probability": (0, 100)},
            notes={"opportunity_type": "new_business, upsell or renewal", "probability": "0-100; empty = the stage's default",
                   "closed_at": "empty while open",
                   "forecast_category": "pipeline, best_case, commit, omitted or closed", "stage": "a stage of seed opportunity_stages (or stage_map)"},
            description="Sales opportunities (deals), current state.",
        ),
        TableContract(
            name="opportunity_history",
            columns={
                "opportunity_id": TEXT, "changed_at": TIMESTAMP, "stage": TEXT, "amount": MONEY,
                "currency": TEXT, "expected_close_date": DATE, "probability": NUMBER,
                "forecast_category": TEXT,
            },
            key=("opportunity_id", "changed_at"),
            required=("opportunity_id", "changed_at", "stage"),
            version_column=None,
            ranges={"probability": (0, 100)},
            notes={"changed_at": "when the change happened; the row holds the values after it"},
            description="One row per change of an opportunity, holding the values after it.",
        ),
        TableContract(
            name="products",
            columns={
                "product_id": TEXT, "product_name": TEXT, "product_line": TEXT,
                "is_recurring": BOOL,
            },
            key=("product_id",),
            required=("product_id", "product_name"),
            version_column=None,
            description="Product catalogue.",
        ),
        TableContract(
            name="opportunity_line_items",
            columns={
                "line_item_id": TEXT, "opportunity_id": TEXT, "product_id": TEXT,
                "quantity": NUMBER, "unit_price": MONEY, "total_price": MONEY, "currency": TEXT,
            },
            key=("line_item_id",),
            required=("line_item_id", "opportunity_id", "product_id", "total_price"),
            version_column=None,
            description="Products on an opportunity.",
        ),
        TableContract(
            name="activities",
            columns={
                "activity_id": TEXT, "activity_type": TEXT, "occurred_at": TIMESTAMP,
                "completed": BOOL, "owner_id": TEXT, "account_id": TEXT, "opportunity_id": TEXT,
                "lead_id": TEXT, "duration_minutes": INT, "updated_at": TIMESTAMP,
                "is_deleted": BOOL,
            },
            key=("activity_id",),
            required=("activity_id", "activity_type", "occurred_at", "owner_id", "updated_at"),
            notes={"activity_type": "call, email, meeting, task or other (seed activity_type_map)"},
            description="Calls, emails, meetings and tasks logged by users.",
        ),
        TableContract(
            name="quotas",
            columns={
                "user_id": TEXT, "period_start": DATE, "period_end": DATE,
                "quota_amount": MONEY, "currency": TEXT,
            },
            key=("user_id", "period_start"),
            required=("user_id", "period_start", "period_end", "quota_amount", "currency"),
            version_column=None,
            description="Sales quota per user and quota period.",
        ),
        TableContract(
            name="subscriptions",
            columns={
                "subscription_id": TEXT, "account_id": TEXT, "product_id": TEXT,
                "start_date": DATE, "end_date": DATE, "mrr_amount": MONEY, "currency": TEXT,
                "updated_at": TIMESTAMP,
            },
            key=("subscription_id",),
            required=("subscription_id", "account_id", "start_date", "mrr_amount", "currency"),
            notes={"end_date": "the last day served; empty while running"},
            description="Recurring-revenue subscriptions (end_date null = running).",
        ),
        TableContract(
            name="acquisition_spend",
            columns={
                "spend_month": DATE, "cost_type": TEXT, "channel": TEXT, "amount": MONEY,
                "currency": TEXT,
            },
            key=("spend_month", "cost_type", "channel"),
            nullable_key=("channel",),
            required=("spend_month", "cost_type", "amount", "currency"),
            version_column=None,
            notes={"spend_month": "the first day of the month", "cost_type": "marketing or sales",
                   "channel": "a lead source; empty for sales cost"},
            description="Monthly marketing and sales spend by channel.",
        ),
        TableContract(
            name="forecast_submissions",
            columns={
                "user_id": TEXT, "period_start": DATE, "period_end": DATE,
                "submitted_at": TIMESTAMP, "forecast_amount": MONEY, "currency": TEXT,
                "forecast_category": TEXT,
            },
            key=("user_id", "period_start", "submitted_at"),
            required=("user_id", "period_start", "period_end", "submitted_at", "forecast_amount"),
            version_column=None,
            optional_table=True,
            description="Forecasts submitted by reps (optional).",
        ),
        TableContract(
            name="fx_rates",
            columns={"currency": TEXT, "rate_month": DATE, "rate": "decimal(18,8)"},
            key=("currency", "rate_month"),
            required=("currency", "rate_month", "rate"),
            version_column=None,
            optional_table=True,
            notes={"rate": "units of the reporting currency's base (EUR in the seed) per unit", "rate_month": "the first day of the month"},
            description="Finance team's FX rates; override the fx_rates seed (optional).",
        ),
    ]
}

LINEAGE_COLUMNS: dict[str, str] = {
    "_source_file": TEXT,
    "_source_line": INT,
    "_load_id": TEXT,
    "_loaded_at": TIMESTAMP,
}
