"""SQL that builds the synthetic CRM inside DuckDB, vectorised and deterministic.

Randomness is `hash(key, salt, seed)` mapped to [0, 1): the same seed and size give the
same rows on every machine and thread count, with no Python loop over rows. Tables whose
rows are generated from others (history, activities, line items) are queries, streamed
straight to files by the writer; the few that later steps join to are materialised.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .reference_data import (
    CHANNELS,
    COMPANY_KINDS,
    COMPANY_STEMS,
    COUNTRY_CURRENCY,
    COUNTRY_LEGAL_SUFFIX,
    EUR_PER_UNIT,
    FIRST_NAMES,
    INDUSTRIES,
    LAST_NAMES,
    LOST_REASONS,
    OPEN_STAGES,
    PRODUCTS,
    REGIONS,
    SEGMENTS,
    STAGE_DEFAULT_PROBABILITY,
    STAGE_FORECAST_CATEGORY,
)


@dataclass(frozen=True)
class GeneratorSettings:
    opportunities: int
    seed: int
    as_of: date
    months: int = 36
    messy: bool = False

    @property
    def reps(self) -> int:
        return max(10, min(5000, self.opportunities // 400))

    @property
    def accounts(self) -> int:
        return max(30, self.opportunities // 3)

    @property
    def defects_per_kind(self) -> int:
        return max(3, self.opportunities // 2000)


def _literal(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _list(values: list) -> str:
    return "[" + ", ".join(_literal(value) for value in values) + "]"


def _map_case(expression: str, mapping: dict, default: str = "null") -> str:
    whens = " ".join(f"when {_literal(key)} then {_literal(value)}" for key, value in mapping.items())
    return f"(case {expression} {whens} else {default} end)"


def macros_sql(settings: GeneratorSettings) -> list[str]:
    seed = int(settings.seed)
    return [
        f"create or replace macro rnd(k, salt) as ((hash(k, salt, {seed}) % 1000000007)::double / 1000000007.0)",
        # Box-Muller: a standard normal from two uniforms
        "create or replace macro rnorm(k, salt) as "
        "(sqrt(-2 * ln(greatest(rnd(k, salt || '.a'), 1e-12))) * cos(2 * pi() * rnd(k, salt || '.b')))",
        f"create or replace macro pick(options, k, salt) as (options[1 + (hash(k, salt, {seed}) % len(options))::integer])",
        "create or replace macro ascii_name(s) as (lower(replace(replace(replace(replace(replace(replace(replace(replace("
        "replace(replace(s, 'æ', 'ae'), 'ø', 'oe'), 'å', 'aa'), 'ä', 'ae'), 'ö', 'oe'), 'ü', 'ue'), 'é', 'e'), ' ', ''), "
        "'''', ''), 'Å', 'aa')))",
    ]


def tables_sql(settings: GeneratorSettings) -> list[str]:
    """Statements that materialise the shared tables (users, accounts, opportunities, ...)."""
    as_of = settings.as_of.isoformat()
    period_start = f"(date '{as_of}' - interval {settings.months} month + interval 1 day)"
    span_days = f"date_diff('day', {period_start}, date '{as_of}')"
    regions = list(REGIONS)
    channels = list(CHANNELS)
    # cumulative channel share for picking a converted lead's channel
    channel_edges, running = [], 0.0
    for name in channels:
        running += CHANNELS[name][0]
        channel_edges.append((name, running))
    channel_case = "case " + " ".join(
        f"when rnd(i, 'channel') < {edge} then {_literal(name)}" for name, edge in channel_edges[:-1]
    ) + f" else {_literal(channel_edges[-1][0])} end"
    segment_case = "case when rnd(i, 'segment') < 0.6 then 'SMB' when rnd(i, 'segment') < 0.9 then 'Mid-Market' else 'Enterprise' end"
    n_teams = max(len(REGIONS), (settings.reps + 7) // 8)

    return [
        f"create or replace table gen_settings as select date '{as_of}' as as_of, {period_start}::date as period_start",
        # --- users: a VP, one manager per team of up to eight reps -------------------------------------------
        f"""create or replace table gen_users as
        with reps as (
            select i, 'U' || lpad((i + 1 + {n_teams})::varchar, 6, '0') as user_id, i % {n_teams} as team_index
            from range({settings.reps}) t(i)
        ), managers as (
            select i, 'U' || lpad((i + 1)::varchar, 6, '0') as user_id, i as team_index from range({n_teams}) t(i)
        ), everyone as (
            select i + 1000000 as k, user_id, team_index, 'U000000' as manager_id, true as is_manager from managers
            union all
            select i as k, user_id, team_index, 'U' || lpad((team_index + 1)::varchar, 6, '0'), false from reps
            union all
            select -1, 'U000000', null, null, true
        )
        select
            user_id,
            pick({_list(FIRST_NAMES)}, k, 'first') || ' ' || pick({_list(LAST_NAMES)}, k, 'last') as full_name,
            k, team_index, manager_id, is_manager,
            {_list(regions)}[1 + coalesce(team_index, 0) % {len(regions)}] as region,
            case when team_index is null then 'Leadership'
                 else {_list(regions)}[1 + team_index % {len(regions)}] || ' ' || (1 + team_index // {len(regions)})::varchar end as team,
            ({period_start} - interval (30 + (rnd(k, 'hired') * 900)::integer) day
                + interval ((rnd(k, 'hired_late') < 0.25)::integer * (rnd(k, 'hired_when') * {span_days} * 0.8)::integer) day)::date as hired_at,
            rnd(k, 'active') >= 0.05 or is_manager as is_active,
            -- rep skill scales win rates between 0.65 and 1.35
            0.65 + 0.7 * rnd(k, 'skill') as skill
        from everyone""",
        """create or replace table gen_reps as
        select row_number() over (order by user_id) - 1 as rep_index, user_id, region, skill
        from gen_users where not is_manager""",
        # --- accounts -------------------------------------------------------------------------------------------
        f"""create or replace table gen_accounts as
        with base as (
            select i, 'A' || lpad((i + 1)::varchar, 7, '0') as account_id,
                (hash(i, 'owner', {settings.seed}) % {settings.reps})::bigint as rep_index,
                {segment_case} as segment
            from range({settings.accounts}) t(i)
        )
        select b.i, b.account_id, b.segment, r.user_id as owner_id, r.region,
            pick({_list(INDUSTRIES)}, b.i, 'industry') as industry,
            country,
            {_map_case('country', COUNTRY_CURRENCY, "'EUR'")} as currency,
            pick({_list(COMPANY_STEMS)}, b.i, 'stem') || ' ' || pick({_list(COMPANY_KINDS)}, b.i, 'kind') || ' '
                || {_map_case('country', COUNTRY_LEGAL_SUFFIX, "''")} as account_name,
            ({period_start} - interval 400 day + interval ((rnd(b.i, 'acc_created') * ({span_days} + 300))::integer) day
                + interval ((rnd(b.i, 'acc_sec') * 86400)::integer) second)::timestamp as created_at
        from base b
        join gen_reps r using (rep_index)
        cross join lateral (
            select case r.region {' '.join(f"when {_literal(region)} then pick({_list(countries)}, b.i, 'country')" for region, countries in REGIONS.items())} end as country
        )""",
        # --- opportunities: the deal's whole life is decided here, history is derived from it ----------------
        f"""create or replace table gen_opportunities as
        with base as (
            select i,
                'O' || lpad((i + 1)::varchar, 8, '0') as opportunity_id,
                -- a few accounts get many deals
                least({settings.accounts} - 1, floor(pow(rnd(i, 'account'), 1.6) * {settings.accounts}))::bigint as account_i,
                case when rnd(i, 'type') < 0.6 then 'new_business' when rnd(i, 'type') < 0.85 then 'upsell' else 'renewal' end as opportunity_type,
                case when rnd(i, 'line') < 0.45 then 'Platform' when rnd(i, 'line') < 0.75 then 'Analytics' else 'Services' end as product_line,
                {channel_case} as channel,
                ({period_start} + interval ((rnd(i, 'created') * ({span_days} - 1))::integer) day
                    + interval ((8 * 3600 + rnd(i, 'created_s') * 36000)::integer) second)::timestamp as created_at
            from range({settings.opportunities}) t(i)
        ), shaped as (
            select b.*, a.account_id, a.segment, a.currency, a.account_name, a.country,
                case when rnd(b.i, 'foreign_owner') < 0.1 then (hash(b.i, 'owner2', {settings.seed}) % {settings.reps})::bigint
                     else (select rep_index from gen_reps r where r.user_id = a.owner_id) end as rep_index,
                {_map_case('a.segment', {k: v[1] for k, v in SEGMENTS.items()})} * exp(0.6 * rnorm(b.i, 'amount')) as amount_eur,
                {_map_case('a.segment', {k: v[3] for k, v in SEGMENTS.items()})} * exp(0.5 * rnorm(b.i, 'cycle')) as planned_cycle_days,
                {_map_case('a.segment', {k: v[2] for k, v in SEGMENTS.items()})}
                    * case when b.opportunity_type = 'new_business' then {_map_case('b.channel', {k: v[2] for k, v in CHANNELS.items()})}
                           when b.opportunity_type = 'renewal' then 2.6 else 1.5 end as base_win_rate
            from base b join gen_accounts a on a.i = b.account_i
        ), decided as (
            select s.*, r.user_id as owner_id, least(0.92, s.base_win_rate * r.skill) as win_rate,
                rnd(i, 'won') < least(0.92, s.base_win_rate * r.skill) as would_win
            from shaped s join gen_reps r using (rep_index)
        ), timed as (
            select d.*,
                -- lost deals die sooner than won ones close
                greatest(1, round(planned_cycle_days * case when would_win then 1.0 else 0.7 end))::integer as cycle_days
            from decided d
        ), closed as (
            select t.*,
                (created_at + interval (cycle_days) day + interval ((rnd(i, 'close_s') * 20000)::integer) second)::timestamp as close_ts
            from timed t
        )
        select c.*,
            close_ts <= (select as_of from gen_settings)::timestamp as is_closed,
            (close_ts <= (select as_of from gen_settings)::timestamp) and would_win as is_won,
            case when close_ts > (select as_of from gen_settings)::timestamp then
                    -- open: how far the deal has come along its planned path
                    greatest(1, least(5, 1 + floor(5 * date_diff('second', created_at, (select as_of from gen_settings)::timestamp)
                                        / (86400.0 * cycle_days))))::integer
                 when would_win then 5
                 else 1 + floor(5 * pow(rnd(i, 'lost_at'), 1.4))::integer end as last_open_stage,
            round(amount_eur / {_map_case('currency', EUR_PER_UNIT)}, -1)::decimal(18,2) as amount,
            case when rnd(i, 'amount_change') < 0.15 then 0.7 + 0.6 * rnd(i, 'amount_factor') end as earlier_amount_factor,
            rnd(i, 'regression') < 0.06 as has_regression,
            rnd(i, 'probability_override') < 0.3 as has_probability_override,
            rnd(i, 'omitted') < 0.03 as is_omitted,
            rnd(i, 'deleted') < 0.003 as is_deleted,
            (created_at + interval (round(cycle_days * (0.6 + 0.3 * rnd(i, 'expected')))::integer) day)::date as initial_expected_close
        from closed c""",
        # one row per stage change; regressions revisit the previous stage once, skips drop a middle stage
        f"""create or replace table gen_stage_steps as
        with steps as (
            select o.i, o.opportunity_id, o.created_at, o.close_ts, o.is_closed, o.is_won,
                o.last_open_stage as l, o.has_regression and o.last_open_stage >= 3 as regress,
                1 + (hash(o.i, 'regress_at', {settings.seed}) % greatest(1, o.last_open_stage - 2))::integer as r,
                s.position
            from gen_opportunities o,
                unnest(range(1, o.last_open_stage + case when o.has_regression and o.last_open_stage >= 3 then 2 else 0 end
                                + o.is_closed::integer + 1)) as s(position)
        ), staged as (
            select *,
                case when is_closed and position = l + case when regress then 2 else 0 end + 1
                        then case when is_won then 6 else 7 end
                     when not regress then position
                     when position <= r + 1 then position
                     when position = r + 2 then r
                     else position - 2 end as stage_index
            from steps
        ), kept as (
            -- skip a middle stage now and then (never the first, the last open one, or around a regression)
            select * from staged
            where not (not regress and stage_index between 2 and l - 1 and rnd(i || '-' || stage_index, 'skip') < 0.08)
        )
        select i, opportunity_id, created_at, close_ts, is_closed, stage_index,
            row_number() over (partition by i order by position) as seq,
            count(*) over (partition by i) as steps
        from kept""",
        f"""create or replace table gen_history as
        with timed as (
            select s.*, o.amount, o.earlier_amount_factor, o.initial_expected_close, o.currency,
                o.has_probability_override, o.is_omitted,
                case when s.is_closed then o.close_ts else (select as_of from gen_settings)::timestamp end as end_ts,
                o.is_closed as opp_closed
            from gen_stage_steps s join gen_opportunities o using (i)
        ), stamped as (
            select *,
                case when seq = 1 then created_at
                     when opp_closed and seq = steps then close_ts
                     else created_at + to_seconds((date_diff('second', created_at, end_ts)
                          * (seq - 1 + 0.1 + 0.8 * rnd(i || '-' || seq, 'step_time'))
                          / (steps - opp_closed::integer + case when opp_closed then 0 else 1 end))::bigint)
                end as changed_at
            from timed
        )
        select *, {_list(OPEN_STAGES + ['Closed Won', 'Closed Lost'])}[stage_index] as stage,
            -- the amount change (if any) lands halfway through the recorded history, before its last step
            created_at + to_seconds((date_diff('second', created_at, max(changed_at) over (partition by i)) * 0.5)::bigint) as midpoint
        from stamped""",
    ]


def opportunities_query(settings: GeneratorSettings) -> str:
    """Current state: exactly the values of each deal's last history row."""
    stage_probability = _map_case("h.stage", STAGE_DEFAULT_PROBABILITY)
    return f"""
        with last_step as (
            select * from gen_history where seq = steps
        )
        select o.opportunity_id, o.account_id, o.owner_id,
            case when o.opportunity_type = 'new_business' then 'L' || lpad((o.i + 1)::varchar, 8, '0') end as lead_id,
            o.account_name || ' - ' || o.product_line || ' ' || replace(o.opportunity_type, '_', ' ') as opportunity_name,
            o.opportunity_type, o.product_line, h.stage, o.amount, o.currency,
            case when o.has_probability_override and not o.is_closed
                 then least(95, greatest(5, {stage_probability} + round(20 * rnd(o.i, 'prob') - 10)))::double
                 when o.is_closed then {stage_probability}::double end as probability,
            case when o.is_closed then o.close_ts::date
                 else greatest(o.initial_expected_close, (select as_of from gen_settings) + interval 7 day)::date end as expected_close_date,
            o.created_at, case when o.is_closed then o.close_ts end as closed_at, o.is_closed, o.is_won,
            case when o.is_closed and not o.is_won then pick({_list(LOST_REASONS)}, o.i, 'lost_reason') end as lost_reason,
            case when o.is_closed then 'closed' when o.is_omitted then 'omitted'
                 else {_map_case('h.stage', STAGE_FORECAST_CATEGORY)} end as forecast_category,
            h.changed_at as updated_at, o.is_deleted
        from gen_opportunities o join last_step h using (i)
    """


def history_query() -> str:
    """Each row holds the values after the change; the last row equals the current state."""
    return f"""
        with current_state as (select * from opportunities_current)
        select h.opportunity_id, h.changed_at, h.stage,
            case when h.earlier_amount_factor is not null and h.changed_at < h.midpoint and h.seq < h.steps
                 then round(h.amount * h.earlier_amount_factor, -1)::decimal(18,2) else h.amount end as amount,
            h.currency,
            case when h.seq = h.steps then c.expected_close_date
                 when h.changed_at < h.midpoint then h.initial_expected_close
                 else c.expected_close_date end as expected_close_date,
            case when h.seq = h.steps then c.probability end as probability,
            case when h.seq = h.steps then c.forecast_category
                 else {_map_case('h.stage', STAGE_FORECAST_CATEGORY)} end as forecast_category
        from gen_history h join current_state c using (opportunity_id)
    """


def amount_change_rows_query() -> str:
    """Pure amount changes: a row in the middle of the deal holding the new amount, same stage."""
    return f"""
        with changed as (
            select h.*, row_number() over (partition by h.i order by h.seq desc) as back
            from gen_history h
            where h.earlier_amount_factor is not null and h.changed_at < h.midpoint and h.seq < h.steps
        )
        select c.opportunity_id, c.midpoint as changed_at, c.stage, c.amount, c.currency,
            cs.expected_close_date, null::double as probability,
            {_map_case('c.stage', STAGE_FORECAST_CATEGORY)} as forecast_category
        from changed c join opportunities_current cs using (opportunity_id)
        where c.back = 1
    """


def users_query() -> str:
    return """
        select user_id, full_name,
            ascii_name(split_part(full_name, ' ', 1)) || '.' || ascii_name(split_part(full_name, ' ', 2))
                || '.' || lower(user_id) || '@example.com' as email,
            team, region, manager_id, hired_at, is_active,
            (hired_at + interval 1 day)::timestamp as updated_at
        from gen_users
    """


def accounts_query() -> str:
    return """
        select account_id, account_name, industry, segment, country, owner_id, created_at,
            created_at + interval 2 hour as updated_at, rnd(i, 'acc_deleted') < 0.002 as is_deleted
        from gen_accounts
    """


def leads_query(settings: GeneratorSettings) -> str:
    """Converted leads (one per new-business deal) and, per channel, the unconverted ones
    needed for that channel's conversion rate."""
    conversion = _map_case("o.channel", {k: v[1] for k, v in CHANNELS.items()})
    return f"""
        with converted as (
            select o.i, 'L' || lpad((o.i + 1)::varchar, 8, '0') as lead_id,
                o.created_at - interval ((1 + rnd(o.i, 'lead_age') * 45 * 86400)::integer) second as created_at,
                o.channel as source, 'converted' as status, o.owner_id, o.account_name as company_name,
                o.created_at as converted_at, o.account_id as converted_account_id,
                o.opportunity_id as converted_opportunity_id, {conversion} as rate
            from gen_opportunities o where o.opportunity_type = 'new_business'
        ), unconverted as (
            select c.i * 100 + k.n as k, 'L' || lpad((c.i + 1)::varchar, 8, '0') || '-' || k.n as lead_id,
                c.created_at + interval (((rnd(c.i * 100 + k.n, 'lead_shift') * 120 - 60) * 86400)::integer) second as created_at,
                c.source, c.owner_id
            from converted c,
                unnest(range(1, 1 + floor((1 - c.rate) / c.rate + rnd(c.i, 'siblings'))::integer)) as k(n)
        )
        select lead_id, created_at, source, status, owner_id, company_name, converted_at, converted_account_id,
            converted_opportunity_id, converted_at as updated_at, false as is_deleted
        from converted
        union all
        select lead_id, least(created_at, (select as_of from gen_settings)::timestamp - interval 1 hour), source,
            case when created_at > (select as_of from gen_settings) - interval 60 day then 'open'
                 when rnd(k, 'lead_status') < 0.6 then 'disqualified' else 'nurturing' end,
            owner_id,
            pick({_list(COMPANY_STEMS)}, k, 'lead_stem') || ' ' || pick({_list(COMPANY_KINDS)}, k, 'lead_kind'),
            null::timestamp, null, null,
            least(created_at, (select as_of from gen_settings)::timestamp - interval 1 hour) + interval 1 day,
            rnd(k, 'lead_deleted') < 0.002
        from unconverted
    """


def products_query() -> str:
    rows = ", ".join(f"({_literal(p[0])}, {_literal(p[1])}, {_literal(p[2])}, {_literal(p[3])})" for p in PRODUCTS)
    return f"select * from (values {rows}) as products(product_id, product_name, product_line, is_recurring)"


def line_items_query(settings: GeneratorSettings) -> str:
    lines: dict[str, list[str]] = {}
    for product_id, _, line, _ in PRODUCTS:
        lines.setdefault(line, []).append(product_id)
    product_pick = "case o.product_line " + " ".join(
        f"when {_literal(line)} then pick({_list(ids)}, o.i || '-' || n, 'product')" for line, ids in lines.items()
    ) + " end"
    return f"""
        with items as (
            select o.i, o.opportunity_id, o.amount, o.currency, n,
                1 + (rnd(o.i, 'items2') < 0.4)::integer + (rnd(o.i, 'items3') < 0.15)::integer as item_count,
                {product_pick} as product_id,
                1 + rnd(o.i || '-' || n, 'weight') as weight
            from gen_opportunities o, unnest(range(1, 4)) as t(n)
        ), shares as (
            select *, sum(weight) over (partition by i) as total_weight,
                sum(weight) over (partition by i order by n rows between unbounded preceding and current row) as weight_so_far
            from items where n <= item_count
        ), priced as (
            select *, round(amount * weight_so_far / total_weight, 2)
                      - coalesce(round(amount * (weight_so_far - weight) / total_weight, 2), 0) as total_price
            from shares
        )
        select opportunity_id || '-' || n as line_item_id, opportunity_id, product_id,
            (1 + hash(i, n, 'qty', {settings.seed}) % 5)::double as quantity,
            round(total_price / (1 + hash(i, n, 'qty', {settings.seed}) % 5), 2)::decimal(18,2) as unit_price,
            total_price::decimal(18,2) as total_price, currency
        from priced
    """


def activities_query(settings: GeneratorSettings) -> str:
    """About five per deal: more for won deals, more meetings on deals that go well."""
    return """
        with per_deal as (
            select o.i, o.opportunity_id, o.owner_id, o.account_id, o.created_at, o.is_won, o.is_closed,
                case when o.is_closed then o.close_ts else (select as_of from gen_settings)::timestamp end as end_ts,
                floor((case when o.is_won then 8 when o.is_closed then 4 else 3.5 end) * (0.5 + rnd(o.i, 'act_n')))::integer as n
            from gen_opportunities o
        ), expanded as (
            select d.*, k, d.i * 64 + k as ak from per_deal d, unnest(range(d.n)) as t(k)
        )
        select 'ACT' || lpad(i::varchar, 8, '0') || '-' || k as activity_id,
            case when rnd(ak, 'act_type') < case when is_won then 0.30 else 0.12 end then 'meeting'
                 when rnd(ak, 'act_type2') < 0.45 then 'call'
                 when rnd(ak, 'act_type3') < 0.75 then 'email'
                 when rnd(ak, 'act_type4') < 0.7 then 'task' else 'other' end as activity_type,
            created_at + to_seconds((date_diff('second', created_at, end_ts) * rnd(ak, 'act_when'))::bigint) as occurred_at,
            rnd(ak, 'act_done') < 0.96 as completed, owner_id, account_id, opportunity_id, null::varchar as lead_id,
            (5 + 85 * rnd(ak, 'act_minutes'))::bigint as duration_minutes,
            created_at + to_seconds((date_diff('second', created_at, end_ts) * rnd(ak, 'act_when'))::bigint) + interval 10 minute as updated_at,
            rnd(ak, 'act_deleted') < 0.002 as is_deleted
        from expanded
    """


def quotas_query(settings: GeneratorSettings) -> str:
    """Quarterly quotas near each rep's typical bookings, so attainment spreads around 100 %."""
    eur = _map_case("o.currency", EUR_PER_UNIT)
    return f"""
        with quarters as (
            select (date_trunc('quarter', (select period_start from gen_settings)) + interval (3 * q) month)::date as period_start
            from range(0, {settings.months // 3 + 2}) t(q)
        ), bookings as (
            select owner_id, sum(o.amount * {eur}) / {settings.months / 3.0} as per_quarter
            from gen_opportunities o where o.is_won group by owner_id
        ), company as (select coalesce(avg(per_quarter), 50000) as per_quarter from bookings)
        select r.user_id, q.period_start, (q.period_start + interval 3 month - interval 1 day)::date as period_end,
            (round(coalesce(b.per_quarter, (select per_quarter from company)) * (0.8 + 0.45 * rnd(r.user_id || q.period_start, 'quota')), -3))::decimal(18,2) as quota_amount,
            'EUR' as currency
        from gen_reps r cross join quarters q left join bookings b on b.owner_id = r.user_id
        where q.period_start <= (select as_of from gen_settings)
    """


def subscriptions_query(settings: GeneratorSettings) -> str:
    """A subscription per won recurring deal; some churn, contract, or come back."""
    return """
        with won as (
            select o.i, o.account_id, o.currency, o.close_ts::date as start_date,
                round(o.amount / 12, 2) as mrr,
                (select min(product_id) from line_items_current li where li.opportunity_id = o.opportunity_id
                    and li.product_id in ('P01', 'P02', 'P03', 'P04', 'P05')) as product_id
            from gen_opportunities o
            where o.is_won and o.product_line in ('Platform', 'Analytics')
        ), shaped as (
            select *,
                case when rnd(i, 'churn') < 0.22 then (start_date + interval (6 + floor(rnd(i, 'churn_m') * 24)::integer) month - interval 1 day)::date end as churn_end,
                case when rnd(i, 'contract') < 0.08 then (start_date + interval (3 + floor(rnd(i, 'contract_m') * 9)::integer) month - interval 1 day)::date end as contract_end,
                rnd(i, 'reactivate') < 0.3 as reactivates
            from won where product_id is not null
        ), rows as (
            -- the original, ending at the contraction or the churn
            select 'S' || lpad((i + 1)::varchar, 8, '0') as subscription_id, account_id, product_id, start_date,
                coalesce(contract_end, churn_end) as end_date, mrr, currency, i
            from shaped
            union all
            -- the smaller replacement after a contraction, itself ending at the churn
            select 'S' || lpad((i + 1)::varchar, 8, '0') || '-c', account_id, product_id, (contract_end + interval 1 day)::date,
                case when churn_end > contract_end then churn_end end, round(mrr * 0.6, 2), currency, i
            from shaped where contract_end is not null and (churn_end is null or churn_end > contract_end)
            union all
            -- a churned customer that comes back a few months later
            select 'S' || lpad((i + 1)::varchar, 8, '0') || '-r', account_id, product_id,
                (churn_end + interval (2 + floor(rnd(i, 'back_m') * 5)::integer) month)::date, null, mrr, currency, i
            from shaped where churn_end is not null and reactivates
        )
        select subscription_id, account_id, product_id, start_date,
            case when end_date <= (select as_of from gen_settings) then end_date end as end_date,
            mrr::decimal(18,2) as mrr_amount, currency,
            (least(coalesce(end_date, start_date), (select as_of from gen_settings)) + interval 1 day)::timestamp as updated_at
        from rows
        where start_date <= (select as_of from gen_settings)
    """


def acquisition_spend_query(settings: GeneratorSettings) -> str:
    cost = _map_case("l.source", {k: v[3] for k, v in CHANNELS.items()})
    return f"""
        with months as (
            select (date_trunc('month', (select period_start from gen_settings)) + interval (m) month)::date as spend_month
            from range({settings.months + 1}) t(m)
        ), leads_per_month as (
            select date_trunc('month', l.created_at)::date as spend_month, l.source as channel, count(*) * max({cost}) as base
            from leads_current l group by all
        )
        select m.spend_month, 'marketing' as cost_type, c.channel,
            round(coalesce(lpm.base, 0) * (0.85 + 0.3 * rnd(m.spend_month || c.channel, 'spend')), 2)::decimal(18,2) as amount,
            'EUR' as currency
        from months m cross join (select unnest({_list(list(CHANNELS))}) as channel) c
        left join leads_per_month lpm on lpm.spend_month = m.spend_month and lpm.channel = c.channel
        where m.spend_month <= (select as_of from gen_settings)
        union all
        select m.spend_month, 'sales', null, round({settings.reps} * 7000 * (0.95 + 0.1 * rnd(m.spend_month, 'sales_cost')), 2)::decimal(18,2), 'EUR'
        from months m where m.spend_month <= (select as_of from gen_settings)
    """


def forecast_submissions_query(settings: GeneratorSettings) -> str:
    return """
        with submissions as (
            select q.user_id, q.period_start, q.period_end, q.quota_amount, n
            from quotas_current q, unnest(range(1, 1 + 1 + (rnd(q.user_id || q.period_start, 'two_calls') < 0.5)::integer)) as t(n)
        )
        select user_id, period_start, period_end,
            (period_start - interval (3 + 10 * (n - 1)) day + interval 16 hour)::timestamp as submitted_at,
            round(quota_amount * (0.6 + 0.5 * rnd(user_id || period_start || n, 'forecast')), -2)::decimal(18,2) as forecast_amount,
            'EUR' as currency, 'commit' as forecast_category
        from submissions
    """

