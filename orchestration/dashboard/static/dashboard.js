"use strict";
// The dashboard's only logic: filter the embedded additive parts of the published marts, sum them,
// then divide. A ratio is never averaged, and an interval is computed again from the summed counts.

const DATA = JSON.parse(document.getElementById("dashboard-data").textContent);
const CURRENCY = DATA.info.currency;
const Z = 1.96;

function rowsOf(name) {
  const dataset = DATA.datasets[name];
  return dataset.rows.map((row) => Object.fromEntries(dataset.columns.map((column, i) => [column, row[i]])));
}

const T = Object.fromEntries(Object.keys(DATA.datasets).map((name) => [name, rowsOf(name)]));
const USERS = Object.fromEntries(T.users.map((user) => [user.user_id, user]));
const state = { from: "", to: "", team: "", rep: "", segment: "" };

// --- arithmetic -------------------------------------------------------------------------------

function sum(rows, key) {
  return rows.reduce((total, row) => total + (row[key] || 0), 0);
}

// a sum with a hole is no sum: NULL forecasts (no snapshot before the period) stay unknown
function sumKnown(rows, key) {
  const known = rows.filter((row) => row[key] !== null && row[key] !== undefined);
  return known.length === 0 ? null : sum(known, key);
}

function ratio(numerator, denominator) {
  return numerator === null || denominator === null || denominator === 0 ? null : numerator / denominator;
}

function wilson(successes, trials) {
  if (!trials) return [null, null];
  const p = successes / trials;
  const centre = (p + (Z * Z) / (2 * trials)) / (1 + (Z * Z) / trials);
  const half = (Z * Math.sqrt((p * (1 - p)) / trials + (Z * Z) / (4 * trials * trials))) / (1 + (Z * Z) / trials);
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

function twoProportionZ(s1, n1, s2, n2) {
  if (!n1 || !n2) return null;
  const pooled = (s1 + s2) / (n1 + n2);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  return se === 0 ? null : (s1 / n1 - s2 / n2) / se;
}

function groupBy(rows, keyOf) {
  const groups = new Map();
  for (const row of rows) {
    const key = keyOf(row);
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(row);
  }
  return groups;
}

// --- formatting -------------------------------------------------------------------------------

const FORMATS = {
  pct: (value) => (value * 100).toFixed(1) + " %",
  money: (value) => Math.round(value).toLocaleString("en-US") + " " + CURRENCY,
  days: (value) => value.toFixed(1) + " days",
  count: (value) => Math.round(value).toLocaleString("en-US"),
  number: (value) => value.toFixed(2),
  signedPct: (value) => (value >= 0 ? "+" : "") + (value * 100).toFixed(1) + " pts",
};

function format(value, kind) {
  return value === null || value === undefined || Number.isNaN(value) ? "n/a" : FORMATS[kind](value);
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

function userName(id) {
  return USERS[id] ? USERS[id].name : id;
}

// --- filters ----------------------------------------------------------------------------------

function inPeriod(month) {
  return month >= state.from && month <= state.to;
}

function ownerSelected(owner) {
  if (state.rep) return owner === state.rep;
  if (state.team) return USERS[owner] !== undefined && USERS[owner].team === state.team;
  return true;
}

function segmentSelected(segment) {
  return !state.segment || segment === state.segment;
}

// what a dataset can be cut by; a filter it cannot honour is named on its card rather than ignored silently
function select(rows, cuts) {
  return rows.filter((row) =>
    (!cuts.period || inPeriod(row[cuts.period])) &&
    (!cuts.owner || ownerSelected(row[cuts.owner])) &&
    (!cuts.team || !state.team || row[cuts.team] === state.team) &&
    (!cuts.segment || segmentSelected(row[cuts.segment])));
}

function ignoredFilters(cuts) {
  const ignored = [];
  if (state.rep && !cuts.owner) ignored.push("rep");
  else if (state.team && !cuts.owner && !cuts.team) ignored.push("team");
  if (state.segment && !cuts.segment) ignored.push("segment");
  return ignored.length ? "not cut by " + ignored.join(" or ") + ": all shown" : "";
}

function optionList(element, values, allLabel, labelOf) {
  const current = element.value;
  element.innerHTML = (allLabel ? `<option value="">${allLabel}</option>` : "") +
    values.map((value) => `<option value="${escapeHtml(value)}">${escapeHtml(labelOf ? labelOf(value) : value)}</option>`).join("");
  if ([...element.options].some((option) => option.value === current)) element.value = current;
}

const MONTHS = [...new Set([...T.win_rate, ...T.activity, ...T.pipeline_created, ...T.lead_conversion].map((row) => row.month))].sort();

function setUpFilters() {
  const from = document.getElementById("filter-from");
  const to = document.getElementById("filter-to");
  const label = (month) => month.slice(0, 7);
  optionList(from, MONTHS, null, label);
  optionList(to, MONTHS, null, label);
  state.to = MONTHS[MONTHS.length - 1] || "";
  state.from = MONTHS[Math.max(0, MONTHS.length - 12)] || "";
  from.value = state.from;
  to.value = state.to;
  optionList(document.getElementById("filter-team"), [...new Set(T.users.map((user) => user.team))].sort(), "All teams");
  const segments = new Set([...T.win_rate, ...T.recurring_revenue].map((row) => row.segment));
  optionList(document.getElementById("filter-segment"), [...segments].sort(), "All segments");
  refreshRepOptions();
  for (const id of ["from", "to", "team", "rep", "segment"]) {
    document.getElementById("filter-" + id).addEventListener("change", (event) => {
      state[id] = event.target.value;
      if (id === "team") {
        // a new team starts from all its reps, not from a rep picked under the old one
        document.getElementById("filter-rep").value = "";
        state.rep = "";
        refreshRepOptions();
      }
      render();
    });
  }
}

function refreshRepOptions() {
  const reps = T.users.filter((user) => !state.team || user.team === state.team).map((user) => user.user_id);
  optionList(document.getElementById("filter-rep"), reps, "All reps", userName);
}

// --- building blocks --------------------------------------------------------------------------

function htmlTable(id, headers, rows) {
  const head = headers.map((h) => `<th class="${h.text ? "text" : ""}">${escapeHtml(h.label)}</th>`).join("");
  const body = rows.map((row) => `<tr${row.className ? ` class="${row.className}"` : ""}>` + row.cells.map((cell, i) =>
    `<td class="${headers[i].text ? "text" : ""}" data-value="${escapeHtml(cell.value === null || cell.value === undefined ? "" : cell.value)}">` +
    `${escapeHtml(cell.text)}</td>`).join("") + "</tr>").join("");
  return `<table data-testid="${id}"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

function cell(value, kind) {
  return { value, text: kind ? format(value, kind) : value };
}

function textCell(text) {
  return { value: text, text };
}

// a rate and its 95 % interval, recomputed from the summed counts: three cells
function rateCells(successes, trials) {
  const [low, high] = wilson(successes, trials);
  return [cell(ratio(successes, trials), "pct"), cell(low, "pct"), cell(high, "pct")];
}

const LAYOUT = { margin: { l: 56, r: 12, t: 8, b: 36 }, font: { size: 11 }, showlegend: false, paper_bgcolor: "#fff",
  plot_bgcolor: "#fff" };

function plot(element, traces, layout) {
  Plotly.react(element, traces, { ...LAYOUT, ...layout }, { displayModeBar: false, responsive: true, staticPlot: false });
}

function yAxis(kind) {
  if (kind === "pct") return { tickformat: ".0%", rangemode: "tozero" };
  return { rangemode: "tozero" };
}

// --- overview tiles ---------------------------------------------------------------------------

function tile(id, label, value, kind, detail) {
  return `<div class="tile" data-testid="tile-${id}" data-value="${value === null ? "" : value}">` +
    `<div class="label">${escapeHtml(label)}</div><div class="value">${escapeHtml(format(value, kind))}</div>` +
    `<div class="detail">${escapeHtml(detail || "")}</div></div>`;
}

function latestSnapshot(rows) {
  return rows.reduce((latest, row) => (row.snapshot > latest ? row.snapshot : latest), "");
}

function renderTiles() {
  const wins = select(T.win_rate, { period: "month", owner: "owner", segment: "segment" });
  const won = sum(wins, "won"), lost = sum(wins, "lost");
  const size = select(T.deal_size, { period: "month", owner: "owner", segment: "segment" });
  const cycle = select(T.sales_cycle, { period: "month", owner: "owner", segment: "segment" });
  const leads = select(T.lead_conversion, { period: "month", owner: "owner" });
  const activity = select(T.activity, { period: "month", owner: "owner" });
  const pipelineNowDate = latestSnapshot(T.pipeline_value);
  const pipeline = select(T.pipeline_value.filter((row) => row.snapshot === pipelineNowDate), { owner: "owner" });
  const calibrated = select(T.calibrated_pipeline, { owner: "owner", segment: "segment" });
  const quota = select(T.quota, { period: "month", owner: "owner" });
  const stalled = select(T.stalled, { owner: "owner", segment: "segment" }).filter((row) => row.is_stalled);
  const mrr = select(T.recurring_revenue.filter((row) => row.month === state.to), { segment: "segment" });
  const forecast = select(T.forecast_accuracy, { period: "month", team: "team" });
  const forecastTotal = sumKnown(forecast.filter((row) => row.forecast !== null), "forecast");
  const forecastActual = sum(forecast.filter((row) => row.forecast !== null), "actual");
  const [low, high] = wilson(won, won + lost);
  document.getElementById("tiles").innerHTML = [
    tile("win-rate", "Win rate", ratio(won, won + lost), "pct", `${won} won of ${won + lost} closed; 95 % ${format(low, "pct")} to ${format(high, "pct")}`),
    tile("bookings", "Bookings (won amount)", sum(wins, "won_amount"), "money", `${won} deals`),
    tile("deal-size", "Average deal size", ratio(sum(size, "won_amount"), sum(size, "won")), "money", "won amount / won deals"),
    tile("sales-cycle", "Sales cycle (won)", ratio(sum(cycle, "cycle_days"), sum(cycle, "won")), "days", "created to close"),
    tile("lead-conversion", "Lead-to-opportunity", ratio(sum(leads, "converted"), sum(leads, "leads")), "pct", `${sum(leads, "leads")} leads created`),
    tile("activities", "Completed activities", sum(activity, "activities"), "count", `${sum(activity, "calls")} calls, ${sum(activity, "meetings")} meetings`),
    tile("pipeline-now", "Open pipeline now", sum(pipeline, "amount"), "money", `weighted ${format(sum(pipeline, "weighted"), "money")} on ${pipelineNowDate}`),
    tile("calibrated-now", "Calibrated pipeline now", sum(calibrated, "calibrated"), "money", "at learned stage probabilities"),
    tile("quota", "Quota attainment", ratio(sum(quota, "bookings"), sum(quota, "quota")), "pct", "quota periods starting in the period"),
    tile("stalled", "Stalled deals now", stalled.length, "count", format(sum(stalled, "amount"), "money")),
    tile("mrr", "MRR at period end", mrr.length ? sum(mrr, "mrr") : null, "money", state.to.slice(0, 7)),
    tile("forecast-accuracy", "Forecast accuracy", forecastTotal === null ? null : 1 - ratio(Math.abs(forecastTotal - forecastActual), forecastActual), "pct", "1 - |forecast - actual| / actual, months summed"),
  ].join("");
}

// --- every KPI as a monthly trend -------------------------------------------------------------

const TRENDS = [
  { id: "win-rate", title: "1. Win rate", dataset: "win_rate", cuts: { owner: "owner", segment: "segment" }, kind: "pct",
    value: (rows) => ratio(sum(rows, "won"), sum(rows, "won") + sum(rows, "lost")) },
  { id: "sales-cycle", title: "2. Sales cycle, won (days)", dataset: "sales_cycle", cuts: { owner: "owner", segment: "segment" }, kind: "days",
    value: (rows) => ratio(sum(rows, "cycle_days"), sum(rows, "won")) },
  { id: "time-in-stage", title: "3. Days per stage visit", dataset: "time_in_stage", cuts: { owner: "owner" }, kind: "days",
    value: (rows) => ratio(sum(rows, "days"), sum(rows, "visits")) },
  { id: "lead-conversion", title: "4. Lead-to-opportunity (cohort)", dataset: "lead_conversion", cuts: { owner: "owner" }, kind: "pct",
    value: (rows) => ratio(sum(rows, "converted"), sum(rows, "leads")) },
  { id: "lead-to-customer", title: "5. Lead-to-customer (cohort)", dataset: "lead_to_customer", cuts: {}, kind: "pct",
    value: (rows) => ratio(sum(rows, "customers"), sum(rows, "leads")) },
  { id: "funnel", title: "6. Created-to-won (cohort)", dataset: "funnel", cuts: { owner: "owner" }, kind: "pct",
    value: (rows) => { const first = rows.filter((row) => row.stage_order === Math.min(...rows.map((r) => r.stage_order)));
      return ratio(sum(first, "won"), sum(first, "cohort")); } },
  { id: "deal-size", title: "7. Average deal size", dataset: "deal_size", cuts: { owner: "owner", segment: "segment" }, kind: "money",
    value: (rows) => ratio(sum(rows, "won_amount"), sum(rows, "won")) },
  { id: "activities", title: "8. Completed activities", dataset: "activity", cuts: { owner: "owner" }, kind: "count",
    value: (rows) => sum(rows, "activities") },
  { id: "pipeline", title: "9. Open pipeline at month end", dataset: "pipeline_value", cuts: { owner: "owner" }, kind: "money",
    value: (rows) => sum(rows, "amount") },
  { id: "pipeline-created", title: "9. Pipeline created", dataset: "pipeline_created", cuts: { owner: "owner" }, kind: "money",
    value: (rows) => sum(rows, "amount") },
  { id: "forecast-accuracy", title: "10. Forecast accuracy", dataset: "forecast_accuracy", cuts: { team: "team" }, kind: "pct",
    value: (rows) => { const f = sumKnown(rows, "forecast"); const a = sum(rows.filter((r) => r.forecast !== null), "actual");
      return f === null ? null : 1 - ratio(Math.abs(f - a), a); } },
  { id: "mrr", title: "11. MRR", dataset: "recurring_revenue", cuts: { segment: "segment" }, kind: "money",
    value: (rows) => sum(rows, "mrr") },
  { id: "retention", title: "12. Customer retention (month)", dataset: "retention", cuts: { segment: "segment" }, kind: "pct",
    value: (rows) => ratio(sum(rows, "end") - sum(rows, "new"), sum(rows, "start")) },
  { id: "quota", title: "13. Quota attainment (quota period)", dataset: "quota", cuts: { owner: "owner" }, kind: "pct",
    value: (rows) => ratio(sum(rows, "bookings"), sum(rows, "quota")) },
  { id: "cac", title: "14. Customer acquisition cost", dataset: "cac", cuts: {}, kind: "money",
    value: (rows) => ratio(sumKnown(rows, "spend"), sum(rows, "new_customers")) },
  { id: "velocity", title: "15. Pipeline velocity (per day)", dataset: "velocity", cuts: { owner: "owner" }, kind: "money",
    value: (rows) => { const open = sum(rows, "open"), won = sum(rows, "won"), lost = sum(rows, "lost");
      const cycle = ratio(sum(rows, "cycle_days"), sum(rows, "cycle_count"));
      return ratio(open * ratio(won, won + lost) * ratio(sum(rows, "won_amount"), won), cycle); } },
];

function monthOf(row) {
  return row.month !== undefined ? row.month : row.snapshot.slice(0, 8) + "01";
}

function trendPoints(trend) {
  const selected = select(T[trend.dataset], trend.cuts).filter((row) => inPeriod(monthOf(row)));
  const groups = groupBy(selected, monthOf);
  const months = [...groups.keys()].sort();
  return { x: months, y: months.map((month) => trend.value(groups.get(month))) };
}

function renderTrends() {
  const grid = document.getElementById("trend-grid");
  if (!grid.childElementCount) {
    grid.innerHTML = TRENDS.map((trend) => `<div class="card"><h3>${escapeHtml(trend.title)}</h3>` +
      `<div class="scope" id="scope-${trend.id}"></div><div class="trend" id="trend-${trend.id}" data-testid="trend-${trend.id}"></div></div>`).join("");
  }
  for (const trend of TRENDS) {
    const points = trendPoints(trend);
    document.getElementById("scope-" + trend.id).textContent = ignoredFilters(trend.cuts);
    plot(document.getElementById("trend-" + trend.id), [{ x: points.x, y: points.y, type: "scatter", mode: "lines+markers",
      hovertemplate: "%{x|%Y-%m}: %{y}<extra></extra>" }], { yaxis: yAxis(trend.kind), xaxis: { type: "date", tickformat: "%Y-%m" } });
  }
}

// --- leaderboard ------------------------------------------------------------------------------

function renderLeaderboard() {
  const activity = select(T.activity, { period: "month", owner: "owner" });
  const wins = groupBy(select(T.win_rate, { period: "month", owner: "owner", segment: "segment" }), (row) => row.owner);
  const byOwner = [...groupBy(activity, (row) => row.owner).entries()].map(([owner, rows]) => {
    const ownerWins = wins.get(owner) || [];
    return { owner, activities: sum(rows, "activities"), calls: sum(rows, "calls"), emails: sum(rows, "emails"),
      meetings: sum(rows, "meetings"), other: sum(rows, "other"), won: sum(ownerWins, "won"),
      bookings: sum(ownerWins, "won_amount") };
  }).sort((a, b) => b.activities - a.activities || a.owner.localeCompare(b.owner));
  let rank = 0;
  byOwner.forEach((row, i) => { if (i === 0 || row.activities !== byOwner[i - 1].activities) rank = i + 1; row.rank = rank; });
  document.getElementById("leaderboard-table").innerHTML = htmlTable("leaderboard", [
    { label: "Rank" }, { label: "Rep", text: true }, { label: "Team", text: true }, { label: "Activities" }, { label: "Calls" },
    { label: "E-mails" }, { label: "Meetings" }, { label: "Other" }, { label: "Deals won" }, { label: "Bookings" },
  ], byOwner.map((row) => ({ cells: [cell(row.rank, "count"), { value: row.owner, text: userName(row.owner) },
    { value: USERS[row.owner] ? USERS[row.owner].team : "unknown", text: USERS[row.owner] ? USERS[row.owner].team : "unknown" },
    cell(row.activities, "count"), cell(row.calls, "count"), cell(row.emails, "count"), cell(row.meetings, "count"),
    cell(row.other, "count"), cell(row.won, "count"), cell(row.bookings, "money")] })));
}

// --- funnel -----------------------------------------------------------------------------------

function renderFunnel() {
  const rows = select(T.funnel, { period: "month", owner: "owner" });
  const stages = [...groupBy(rows, (row) => row.stage).entries()]
    .map(([stage, stageRows]) => ({ stage, order: stageRows[0].stage_order, reached: sum(stageRows, "reached"), won: sum(stageRows, "won") }))
    .sort((a, b) => a.order - b.order);
  plot(document.getElementById("funnel-chart"), [{ type: "funnel", y: stages.map((s) => s.stage), x: stages.map((s) => s.reached),
    textinfo: "value+percent initial" }], { margin: { l: 110, r: 12, t: 8, b: 24 } });
  document.getElementById("funnel-table").innerHTML = htmlTable("funnel-table", [
    { label: "Stage", text: true }, { label: "Reached" }, { label: "To next stage" }, { label: "To won" },
  ], stages.map((s, i) => ({ cells: [textCell(s.stage), cell(s.reached, "count"),
    cell(i + 1 < stages.length ? ratio(stages[i + 1].reached, s.reached) : null, "pct"), cell(ratio(s.won, s.reached), "pct")] })));
}

// --- forecast ---------------------------------------------------------------------------------

function forecastRow(label, rows) {
  // APE and bias only over the owners' periods that had a forecast, as the mart computes them
  const forecasted = rows.filter((row) => row.default !== null);
  const defaultForecast = sumKnown(rows, "default"), calibrated = sumKnown(rows, "calibrated");
  const actual = sum(rows, "actual"), actualForecasted = sum(forecasted, "actual");
  return { label, defaultForecast, calibrated, actual,
    defaultApe: defaultForecast === null ? null : ratio(Math.abs(defaultForecast - actualForecasted), actualForecasted),
    calibratedApe: calibrated === null ? null : ratio(Math.abs(calibrated - actualForecasted), actualForecasted),
    defaultBias: defaultForecast === null ? null : ratio(defaultForecast - actualForecasted, actualForecasted),
    calibratedBias: calibrated === null ? null : ratio(calibrated - actualForecasted, actualForecasted) };
}

function renderForecast() {
  const months = [...groupBy(select(T.backtest.filter((row) => row.grain === "month"), { period: "month", owner: "owner" }),
    (row) => row.month).entries()].sort().map(([month, rows]) => forecastRow(month, rows));
  plot(document.getElementById("forecast-chart"), [
    { type: "bar", name: "actual (won)", x: months.map((m) => m.label), y: months.map((m) => m.actual), marker: { color: "#9fb3c8" } },
    { type: "scatter", mode: "lines+markers", name: "stage-default forecast", x: months.map((m) => m.label), y: months.map((m) => m.defaultForecast) },
    { type: "scatter", mode: "lines+markers", name: "calibrated forecast", x: months.map((m) => m.label), y: months.map((m) => m.calibrated) },
  ], { showlegend: true, legend: { orientation: "h", y: -0.2 }, xaxis: { type: "date", tickformat: "%Y-%m" } });
  const quarters = [...groupBy(select(T.backtest.filter((row) => row.grain === "quarter"), { period: "month", owner: "owner" }),
    (row) => row.month).entries()].sort().map(([quarter, rows]) => forecastRow(quarter, rows));
  document.getElementById("forecast-table").innerHTML = "<h3>Backtest per quarter (quarters starting in the period)</h3>" +
    htmlTable("backtest-table", [{ label: "Quarter", text: true }, { label: "Stage-default forecast" }, { label: "Calibrated forecast" },
      { label: "Actual" }, { label: "APE default" }, { label: "APE calibrated" }, { label: "Bias default" }, { label: "Bias calibrated" }],
    quarters.map((q) => ({ cells: [{ value: q.label, text: q.label.slice(0, 7) }, cell(q.defaultForecast, "money"), cell(q.calibrated, "money"),
      cell(q.actual, "money"), cell(q.defaultApe, "pct"), cell(q.calibratedApe, "pct"), cell(q.defaultBias, "pct"), cell(q.calibratedBias, "pct")] })));
  renderProbabilities();
}

function renderProbabilities() {
  const cut = state.segment ? { cut: "segment", value: state.segment } : { cut: "all", value: "all" };
  const stages = T.stage_probability.filter((row) => row.cut === cut.cut && row.cut_value === cut.value)
    .sort((a, b) => a.stage_order - b.stage_order);
  const empirical = stages.map((s) => ratio(s.won, s.reached));
  const bounds = stages.map((s) => wilson(s.won, s.reached));
  plot(document.getElementById("probability-chart"), [
    { type: "bar", name: "stage default", x: stages.map((s) => s.stage), y: stages.map((s) => s.default) },
    { type: "bar", name: "learned (empirical)", x: stages.map((s) => s.stage), y: empirical,
      error_y: { type: "data", symmetric: false, array: bounds.map((b, i) => (b[1] === null ? null : b[1] - empirical[i])),
        arrayminus: bounds.map((b, i) => (b[0] === null ? null : empirical[i] - b[0])) } },
    { type: "bar", name: "calibrated", x: stages.map((s) => s.stage), y: stages.map((s) => s.calibrated) },
  ], { barmode: "group", showlegend: true, legend: { orientation: "h", y: -0.2 }, yaxis: yAxis("pct") });
  document.getElementById("probability-table").innerHTML = `<h3>Stage-to-win probabilities learned by ${escapeHtml(DATA.info.as_of)}` +
    ` (${cut.cut === "all" ? "all segments" : "segment " + escapeHtml(cut.value)}; period, team and rep filters do not apply)</h3>` +
    htmlTable("probability-table", [{ label: "Stage", text: true }, { label: "Closed deals that sat in it" }, { label: "Won" },
      { label: "Default" }, { label: "Learned" }, { label: "95 % low" }, { label: "95 % high" }, { label: "Calibrated" }],
      stages.map((s) => ({ cells: [textCell(s.stage), cell(s.reached, "count"), cell(s.won, "count"), cell(s.default, "pct"),
      ...rateCells(s.won, s.reached), cell(s.calibrated, "pct")] })));
  const pipeline = [...groupBy(select(T.calibrated_pipeline, { owner: "owner", segment: "segment" }), (row) => row.stage).entries()]
    .map(([stage, rows]) => ({ stage, order: rows[0].stage_order, open: sum(rows, "open"), amount: sum(rows, "amount"),
      weighted: sum(rows, "weighted"), calibrated: sum(rows, "calibrated") })).sort((a, b) => a.order - b.order);
  document.getElementById("calibrated-pipeline").innerHTML = "<h3>Open pipeline now at both weights</h3>" +
    htmlTable("calibrated-pipeline-table", [{ label: "Stage", text: true }, { label: "Deals" }, { label: "Amount" },
      { label: "Weighted (CRM)" }, { label: "Weighted (calibrated)" }],
    pipeline.map((p) => ({ cells: [textCell(p.stage), cell(p.open, "count"), cell(p.amount, "money"),
      cell(p.weighted, "money"), cell(p.calibrated, "money")] })));
}

// --- stalled deals ----------------------------------------------------------------------------

function renderStalled() {
  const open = select(T.stalled, { owner: "owner", segment: "segment" });
  const stages = [...groupBy(open, (row) => row.stage).entries()].map(([stage, rows]) => ({ stage, order: rows[0].stage_order,
    open: rows.length, stalled: rows.filter((r) => r.is_stalled).length, amount: sum(rows.filter((r) => r.is_stalled), "amount"),
    benchmark: rows[0].benchmark_days })).sort((a, b) => a.order - b.order);
  document.getElementById("stalled-summary").innerHTML = `<p class="note">Open deals on ${escapeHtml(DATA.info.as_of)} against the` +
    " 75th percentile of won deals' days in the same stage (the period filter does not apply).</p>" +
    htmlTable("stalled-summary", [{ label: "Stage", text: true }, { label: "Open deals" }, { label: "Stalled" },
      { label: "Stalled amount" }, { label: "Benchmark days" }],
    stages.map((s) => ({ cells: [textCell(s.stage), cell(s.open, "count"), cell(s.stalled, "count"),
      cell(s.amount, "money"), cell(s.benchmark, "number")] })));
  const stalled = open.filter((row) => row.is_stalled).sort((a, b) => b.amount - a.amount || b.days_over - a.days_over).slice(0, 100);
  document.getElementById("stalled-table").innerHTML = htmlTable("stalled-table", [{ label: "Deal", text: true }, { label: "Rep", text: true },
    { label: "Stage", text: true }, { label: "Days in stage" }, { label: "Benchmark" }, { label: "Days over" },
    { label: "Days past expected close" }, { label: "Amount" }],
  stalled.map((row) => ({ className: "stalled", cells: [{ value: row.opportunity_id, text: row.name }, { value: row.owner, text: userName(row.owner) },
    textCell(row.stage), cell(row.days_in_stage, "count"), cell(row.benchmark_days, "number"), cell(row.days_over, "number"),
    cell(row.days_late, "count"), cell(row.amount, "money")] })));
}

// --- insights ---------------------------------------------------------------------------------

const INSIGHTS = [
  { id: "rep-intensity", question: "Reps who make 40 calls a week have a 20 % higher close rate than those who make 20.",
    title: "1. Win rate by the rep's activities per week (rep-months)" },
  { id: "deal-intensity", question: "", title: "1. Win rate by activities logged on the deal before it closed" },
  { id: "bundle", question: "Accounts that buy bundled products bring 25 % more revenue per sale.", title: "4. Deal size by bundle" },
  { id: "cadence", question: "Customers with quarterly check-ins renew 50 % more often.",
    title: "5. Retention by the account's check-ins in the quarter before (quarters starting in the period)" },
  { id: "movers", question: "A falling win rate in one industry.", title: "6. Win-rate movers: the period's last quarter against the one before" },
  { id: "lead-source", question: "Webinar sign-ups convert 30 % better than cold outreach.", title: "7. Lead conversion by source, with 95 % intervals" },
];

function rateChart(element, labels, successes, trials) {
  const rates = labels.map((_, i) => ratio(successes[i], trials[i]));
  const bounds = labels.map((_, i) => wilson(successes[i], trials[i]));
  plot(element, [{ type: "bar", x: labels, y: rates, text: trials.map((n) => `n=${n}`), textposition: "outside",
    error_y: { type: "data", symmetric: false, array: bounds.map((b, i) => (b[1] === null ? null : b[1] - rates[i])),
      arrayminus: bounds.map((b, i) => (b[0] === null ? null : rates[i] - b[0])) } }], { yaxis: { tickformat: ".0%", range: [0, 1.15] } });
  return { rates, bounds };
}

function bucketTable(id, groups, extra) {
  return htmlTable(id, [{ label: "Bucket", text: true }, { label: "Closed" }, { label: "Won" }, { label: "Win rate" }, { label: "95 % low" },
    { label: "95 % high" }, { label: extra.label }, { label: "Won cycle (days)" }],
  groups.map((g) => ({ cells: [textCell(g.key), cell(g.closed, "count"), cell(g.won, "count"), ...rateCells(g.won, g.closed),
    cell(g.extra, extra.kind), cell(ratio(g.cycle_days, g.cycle_count), "days")] })));
}

function renderInsights() {
  const grid = document.getElementById("insight-grid");
  if (!grid.childElementCount) {
    grid.innerHTML = INSIGHTS.map((insight) => `<div class="insight" id="insight-${insight.id}"><h3>${escapeHtml(insight.title)}</h3>` +
      (insight.question ? `<p class="question">"${escapeHtml(insight.question)}"</p>` : "") +
      `<div class="scope" id="scope-${insight.id}"></div><div class="grid two"><div class="chart" id="chart-${insight.id}"></div>` +
      `<div id="table-${insight.id}"></div></div></div>`).join("");
  }
  const byBucket = (rows, closedOf) => [...groupBy(rows, (row) => row.bucket).entries()].map(([key, group]) => ({
    key, order: group[0].bucket_order, closed: closedOf(group), won: sum(group, "won"), activities: sum(group, "activities"),
    days: sum(group, "days"), cycle_days: sum(group, "cycle_days"), cycle_count: sum(group, "cycle_count") })).sort((a, b) => a.order - b.order);

  const repCuts = { period: "month", owner: "owner" };
  const rep = byBucket(select(T.rep_intensity, repCuts), (group) => sum(group, "won") + sum(group, "lost"));
  rep.forEach((g) => { g.extra = ratio(7 * g.activities, g.days); });
  document.getElementById("scope-rep-intensity").textContent = ignoredFilters(repCuts);
  rateChart(document.getElementById("chart-rep-intensity"), rep.map((g) => g.key + "/wk"), rep.map((g) => g.won), rep.map((g) => g.closed));
  document.getElementById("table-rep-intensity").innerHTML = bucketTable("rep-intensity-table", rep, { label: "Activities per week", kind: "number" });

  const dealCuts = { period: "month", owner: "owner", segment: "segment" };
  const deal = byBucket(select(T.deal_intensity, dealCuts), (group) => sum(group, "closed"));
  deal.forEach((g) => { g.extra = ratio(g.activities, g.closed); });
  rateChart(document.getElementById("chart-deal-intensity"), deal.map((g) => g.key), deal.map((g) => g.won), deal.map((g) => g.closed));
  document.getElementById("table-deal-intensity").innerHTML = bucketTable("deal-intensity-table", deal, { label: "Activities per deal", kind: "number" });

  const bundles = [...groupBy(select(T.bundle, dealCuts), (row) => row.bundle).entries()].map(([bundle, rows]) => ({ bundle,
    closed: sum(rows, "closed"), won: sum(rows, "won"), amount: sum(rows, "won_amount"), products: sum(rows, "products") }))
    .sort((a, b) => a.bundle.localeCompare(b.bundle));
  plot(document.getElementById("chart-bundle"), [{ type: "bar", x: bundles.map((b) => b.bundle), y: bundles.map((b) => ratio(b.amount, b.won)),
    text: bundles.map((b) => `${b.won} won`), textposition: "outside" }], {});
  document.getElementById("table-bundle").innerHTML = htmlTable("bundle-table", [{ label: "Bundle", text: true }, { label: "Won" },
    { label: "Won amount" }, { label: "Average deal size" }, { label: "Products per deal" }, { label: "Win rate" }],
  bundles.map((b) => ({ cells: [textCell(b.bundle), cell(b.won, "count"), cell(b.amount, "money"),
    cell(ratio(b.amount, b.won), "money"), cell(ratio(b.products, b.won), "number"), cell(ratio(b.won, b.closed), "pct")] })));

  const cadenceCuts = { period: "month", owner: "owner", segment: "segment" };
  const cadences = [...groupBy(select(T.cadence, cadenceCuts), (row) => row.cadence).entries()].map(([cadence, rows]) => ({ cadence,
    order: rows[0].cadence_order, customers: sum(rows, "customers"), retained: sum(rows, "retained"),
    startMrr: sumKnown(rows, "start_mrr"), endMrr: sumKnown(rows, "end_mrr") })).sort((a, b) => a.order - b.order);
  rateChart(document.getElementById("chart-cadence"), cadences.map((c) => c.cadence), cadences.map((c) => c.retained), cadences.map((c) => c.customers));
  document.getElementById("table-cadence").innerHTML = htmlTable("cadence-table", [{ label: "Cadence", text: true }, { label: "Customers at start" },
    { label: "Retained" }, { label: "Retention" }, { label: "95 % low" }, { label: "95 % high" }, { label: "Net revenue retention" }],
  cadences.map((c) => ({ cells: [textCell(c.cadence), cell(c.customers, "count"), cell(c.retained, "count"),
    ...rateCells(c.retained, c.customers), cell(ratio(c.endMrr, c.startMrr), "pct")] })));

  const moverRows = select(T.movers, { period: "month", owner: "owner", segment: "segment" });
  const lastQuarter = moverRows.reduce((latest, row) => (row.month > latest ? row.month : latest), "");
  const movers = [...groupBy(moverRows.filter((row) => row.month === lastQuarter), (row) => row.dimension + "|" + row.value).entries()]
    .map(([key, rows]) => { const won = sum(rows, "won"), closed = won + sum(rows, "lost");
      const previousWon = sum(rows, "previous_won"), previousClosed = previousWon + sum(rows, "previous_lost");
      const change = ratio(won, closed) === null || ratio(previousWon, previousClosed) === null ? null : ratio(won, closed) - ratio(previousWon, previousClosed);
      return { dimension: rows[0].dimension, value: rows[0].value, won, closed, previousWon, previousClosed, change,
        z: twoProportionZ(won, closed, previousWon, previousClosed) }; })
    .sort((a, b) => Math.abs(b.change === null ? -1 : b.change) - Math.abs(a.change === null ? -1 : a.change) || a.value.localeCompare(b.value));
  const plotted = movers.filter((m) => m.change !== null);
  plot(document.getElementById("chart-movers"), [{ type: "bar", orientation: "h", y: plotted.map((m) => m.value), x: plotted.map((m) => m.change),
    marker: { color: plotted.map((m) => (m.change < 0 ? "#c0392b" : "#2e86de")) } }],
  { xaxis: { tickformat: "+.0%" }, yaxis: { autorange: "reversed" }, margin: { l: 110, r: 12, t: 8, b: 36 } });
  document.getElementById("table-movers").innerHTML = `<p class="note">Quarter starting ${escapeHtml(lastQuarter || "n/a")}</p>` +
    htmlTable("movers-table", [{ label: "By", text: true }, { label: "Value", text: true }, { label: "Closed" }, { label: "Win rate" },
      { label: "Closed before" }, { label: "Win rate before" }, { label: "Change" }, { label: "z" }],
    movers.map((m) => ({ cells: [textCell(m.dimension), textCell(m.value), cell(m.closed, "count"),
      cell(ratio(m.won, m.closed), "pct"), cell(m.previousClosed, "count"), cell(ratio(m.previousWon, m.previousClosed), "pct"),
      cell(m.change, "signedPct"), cell(m.z, "number")] })));

  const sourceCuts = { period: "month", owner: "owner" };
  const sources = [...groupBy(select(T.lead_source, sourceCuts), (row) => row.source).entries()].map(([source, rows]) => ({ source,
    leads: sum(rows, "leads"), converted: sum(rows, "converted"), customers: sum(rows, "customers") }))
    .sort((a, b) => (ratio(b.converted, b.leads) || 0) - (ratio(a.converted, a.leads) || 0) || a.source.localeCompare(b.source));
  document.getElementById("scope-lead-source").textContent = ignoredFilters(sourceCuts);
  rateChart(document.getElementById("chart-lead-source"), sources.map((s) => s.source), sources.map((s) => s.converted), sources.map((s) => s.leads));
  document.getElementById("table-lead-source").innerHTML = htmlTable("lead-source-table", [{ label: "Source", text: true }, { label: "Leads" },
    { label: "Converted" }, { label: "Conversion" }, { label: "95 % low" }, { label: "95 % high" }, { label: "Became customers" }],
  sources.map((s) => ({ cells: [textCell(s.source), cell(s.leads, "count"), cell(s.converted, "count"), ...rateCells(s.converted, s.leads),
    cell(ratio(s.customers, s.leads), "pct")] })));
}

// --- page -------------------------------------------------------------------------------------

function render() {
  renderTiles();
  renderTrends();
  renderLeaderboard();
  renderFunnel();
  renderForecast();
  renderStalled();
  renderInsights();
  document.body.dataset.rendered = String(Number(document.body.dataset.rendered || 0) + 1);
}

const info = DATA.info;
document.getElementById("provenance").textContent = `Published marts of ${info.published_at || "an unpublished warehouse"}` +
  `${info.run_id ? " (run " + info.run_id + ")" : ""}; as of ${info.as_of}; amounts in ${CURRENCY}. ` +
  "Every figure sums the marts' parts for the filters, then divides.";
setUpFilters();
render();
