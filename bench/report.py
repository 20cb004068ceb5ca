"""One markdown table (and the same numbers as JSON) from every stage's results."""

from __future__ import annotations

from collections import defaultdict


def _n(value) -> str:
    return f"{value:,}" if isinstance(value, int) else "—"


def _ms(value) -> str:
    return f"{value:,.1f} ms" if isinstance(value, int | float) else "—"


def _result(row: dict) -> str:
    if "error" in row:
        return f"ERROR: {row['error']}"
    if "unavailable" in row:
        return row["unavailable"]
    if "seconds" in row and "added" in row:
        return (
            f"+{row['added']:,} appointments in {row['seconds']:.1f} s (total {row['total_seconds']:.1f} s)"
        )
    if "rps" in row:
        return (
            f"{row['rps']:,.1f} req/s · p50 {_ms(row['median_ms'])} · p95 {_ms(row['p95_ms'])} · "
            f"{row['errors']} errors ({row['rows']:,} requests in {row['seconds']} s)"
        )
    if "per_minute" in row:
        return (
            f"{row['per_minute']:,} messages/min ({row['sent']:,} of {row['rows']:,} in {row['seconds']} s)"
        )
    text = f"{_ms(row.get('median_ms'))} (p95 {_ms(row.get('p95_ms'))})"
    if row.get("rows") is not None:
        text += f" · {row['rows']:,} rows"
    return text


def _baseline(row: dict) -> str:
    if row.get("bare_median_ms") is None:
        return "—"
    return f"{_ms(row['bare_median_ms'])} ({row['bare_queries']} q)"


def _met(row: dict) -> str:
    return {True: "yes", False: "**no**"}.get(row.get("met"), "—")


def table(results: list[dict]) -> str:
    lines = [
        "| Benchmark | DB | N | Result: median (p95) | Queries | Bare baseline | Ratio | Goal | Met |",
        "|---|---|--:|---|--:|---|--:|---|---|",
    ]
    for row in results:
        if row.get("http"):
            continue
        ratio = f"{row['ratio']:.2f}×" if row.get("ratio") is not None else "—"
        queries = str(row["queries"]) if row.get("queries") is not None else "—"
        lines.append(
            f"| {row['benchmark']} | {row['db']} | {_n(row['n'])} | {_result(row)} | {queries} | "
            f"{_baseline(row)} | {ratio} | {row.get('goal', '—')} | {_met(row)} |"
        )
    return "\n".join(lines)


def _x(value) -> str:
    return f"{value:,.1f}×" if isinstance(value, int | float) else "—"


def http_table(results: list[dict]) -> list[str]:
    """The pages over HTTP: each against /healthz and its raw SQL, same run."""
    rows = [row for row in results if row.get("http")]
    if not rows:
        return []
    lines = [
        f"## Over HTTP (gunicorn {rows[0].get('workers', '')}, production settings, logged-in session)",
        "",
        "| Page | DB | N | Rows | p50 | p95 | Size | Queries | /healthz p50 | Raw SQL p50 | ÷ /healthz"
        " | ÷ raw SQL | Goal | Met |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|---|",
    ]
    for row in rows:
        if "error" in row:
            lines.append(f"| {row['benchmark']} | {row['db']} | {_n(row['n'])} | ERROR: {row['error']} |")
            continue
        lines.append(
            f"| {row['benchmark'].removeprefix('HTTP ')} | {row['db']} | {_n(row['n'])} | "
            f"{_n(row.get('rows'))} | {_ms(row['median_ms'])} | {_ms(row['p95_ms'])} | "
            f"{row['kb']:,.1f} KB | {row['queries'] if row.get('queries') is not None else '—'} | "
            f"{_ms(row['healthz_median_ms'])} | {_ms(row['floor_median_ms'])} | "
            f"{_x(row['ratio_healthz'])} | {_x(row['ratio_floor'])} | {row['goal']} | {_met(row)} |"
        )
    lines += [
        "",
        "Each page, `/healthz` (the HTTP floor: routing, middleware, session, one query) and the raw SQL"
        " of the page's rows (the database floor, psycopg through Django's connection, no ORM) are timed"
        f" in the same loop, in rotating order, {rows[0].get('samples', '?')} times each. The machine is"
        " shared, so absolute times are noisy: the ratios, measured side by side, are what compare runs.",
    ]
    return lines


def flatness(results: list[dict]) -> list[str]:
    """Does cost stay flat as the history grows? Ratio and queries per size."""
    series: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for row in results:
        if row.get("ratio") is not None and not row.get("http"):
            series[(row["benchmark"], row["db"])].append(row)
    lines = []
    for (benchmark, db), rows in series.items():
        ratios = " → ".join(f"{r['ratio']:.2f}×" for r in rows)
        queries = " → ".join(str(r["queries"]) for r in rows)
        sizes = " → ".join(_n(r["n"]) for r in rows)
        same_queries = len({r["queries"] for r in rows}) == 1
        lines.append(
            f"- {benchmark} ({db}), N {sizes}: ratio {ratios}; queries {queries}"
            f" ({'constant' if same_queries else 'NOT constant'})"
        )
    return lines


def markdown(results: list[dict], meta: dict) -> str:
    out = [
        "# Phoresis benchmarks",
        "",
        f"Run {meta['generated']} · {meta['mode']} · commit {meta['commit']} · {meta['machine']} · "
        f"took {meta['seconds']:.0f} s",
        "",
        table(results),
        "",
        "Ratio = our median ÷ the bare view's median, measured in the same run, interleaved"
        " (Django's test client, in-process).",
        "",
        *http_table(results),
        "",
        "## As the data grows",
        "",
        *flatness(results),
    ]
    profiles = [
        f"- {row['benchmark']} ({row['db']}, N {_n(row['n'])}): `{row['profile']}`"
        for row in results
        if row.get("profile")
    ]
    if profiles:
        out += ["", "## Profiles (pyinstrument)", "", *profiles]
    http = [row for row in results if row.get("http") and row.get("p95_ms") is not None]
    sizes = sorted({row["n"] for row in http})
    if len(sizes) > 1:
        out += ["", "## Over HTTP as the data grows (p95; ÷ raw SQL)", ""]
        for name in dict.fromkeys(row["benchmark"] for row in http):
            series = [row for row in http if row["benchmark"] == name]
            out.append(
                f"- {name.removeprefix('HTTP ')}: "
                + " → ".join(f"{_n(r['n'])}: {_ms(r['p95_ms'])}, {_x(r['ratio_floor'])}" for r in series)
            )
    load = [row for row in results if "endpoints" in row]
    for row in load:
        out += ["", f"## HTTP load per endpoint ({row['db']}, N {_n(row['n'])})", ""]
        out += ["| Endpoint | Requests | p50 | p95 |", "|---|--:|--:|--:|"]
        for name, stats in row["endpoints"].items():
            out.append(
                f"| {name} | {stats['requests']:,} | {_ms(stats['p50_ms'])} | {_ms(stats['p95_ms'])} |"
            )
        outcomes = ", ".join(f"{k}: {v}" for k, v in sorted(row.get("outcomes", {}).items()))
        out += [
            "",
            f"{row['users']} users, think time {row['think_s'][0]}–{row['think_s'][1]} s, "
            f"{row['seconds']} s; "
            f"logins before the clock (p95 {_ms(row['login_p95_ms'])} each). Bookings: {outcomes or 'none'}.",
        ]
    return "\n".join(out) + "\n"
