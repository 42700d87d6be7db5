//! `fence report FILE.csv --html OUT.html`: a verified export rendered as one self-contained
//! HTML page (inline CSS and SVG, no script, no network) that an auditor can read and hand
//! on: the verification result and anchor, a timeline of decisions, the risky migrations
//! with who approved or exempted them under which policy version, and every denial.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::process::ExitCode;

use fence_core::chain::{Anchor, Verification};

use crate::verify_csv::{self, Row};

/// What the page shows, computed from the rows and their verification.
pub struct Report<'a> {
    pub source: String,
    pub rows: &'a [Row],
    pub verification: Verification,
    pub gaps: Vec<(i64, i64)>,
    pub anchor: Option<Anchor>,
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn cell(row: &Row, name: &str) -> String {
    escape(row.column(name).unwrap_or(""))
}

fn is_decision(row: &Row) -> bool {
    matches!(row.event.decision.as_deref(), Some("allow" | "warn" | "deny"))
}

fn is_risky(row: &Row) -> bool {
    is_decision(row)
        && row.event.decision.as_deref() != Some("deny")
        && matches!(row.event.risk.as_deref(), Some("medium" | "high" | "critical"))
}

fn is_denial(row: &Row) -> bool {
    row.event.decision.as_deref() == Some("deny")
}

impl Report<'_> {
    pub fn denials(&self) -> usize {
        self.rows.iter().filter(|r| is_denial(r)).count()
    }

    pub fn risky(&self) -> usize {
        self.rows.iter().filter(|r| is_risky(r)).count()
    }

    /// Decisions per day; per hour when the export spans less than two days, per minute
    /// when it spans less than two hours. Labels keep only the part that varies.
    fn timeline(&self) -> BTreeMap<String, [usize; 3]> {
        let times: Vec<&str> =
            self.rows.iter().filter(|r| is_decision(r)).filter_map(|r| r.column("recorded_at")).collect();
        let distinct = |width: usize| {
            times.iter().map(|t| &t[..t.len().min(width)]).collect::<std::collections::BTreeSet<_>>().len()
        };
        let width = if distinct(10) >= 2 {
            10
        } else if distinct(13) >= 2 {
            13
        } else {
            16
        };
        let label_from = if width == 16 { 11 } else { 0 };
        let mut buckets: BTreeMap<String, [usize; 3]> = BTreeMap::new();
        for row in self.rows.iter().filter(|r| is_decision(r)) {
            let Some(time) = row.column("recorded_at") else { continue };
            let slot = match row.event.decision.as_deref() {
                Some("allow") => 0,
                Some("warn") => 1,
                _ => 2,
            };
            let key = time.get(label_from..time.len().min(width)).unwrap_or(time);
            buckets.entry(key.to_string()).or_default()[slot] += 1;
        }
        buckets
    }

    fn chart(&self) -> String {
        let buckets = self.timeline();
        if buckets.is_empty() {
            return "<p>No decisions in this export.</p>".into();
        }
        let max = buckets.values().map(|b| b.iter().sum::<usize>()).max().unwrap_or(1).max(1);
        let (bar, gap, height) = (28usize, 10usize, 160usize);
        let width = buckets.len() * (bar + gap) + 60;
        let mut svg = format!(
            r#"<svg id="timeline" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{}" role="img" aria-label="decisions over time">"#,
            height + 100
        );
        for (i, (label, counts)) in buckets.iter().enumerate() {
            let x = 40 + i * (bar + gap);
            let mut y = height + 10;
            for (count, class) in counts.iter().zip(["allow", "warn", "deny"]) {
                let h = count * height / max;
                if *count > 0 {
                    y -= h.max(1);
                    let _ = write!(
                        svg,
                        r#"<rect class="{class}" x="{x}" y="{y}" width="{bar}" height="{}"><title>{label}: {count} {class}</title></rect>"#,
                        h.max(1)
                    );
                }
            }
            let total: usize = counts.iter().sum();
            let _ = write!(svg, r#"<text x="{}" y="{}" class="n">{total}</text>"#, x + bar / 2, y.saturating_sub(4));
            let _ = write!(
                svg,
                r#"<text x="{}" y="{}" class="label" transform="rotate(45 {} {})">{}</text>"#,
                x + 4,
                height + 24,
                x + 4,
                height + 24,
                escape(label)
            );
        }
        svg.push_str("</svg>");
        svg
    }

    fn verification_block(&self) -> String {
        let v = &self.verification;
        let anchor = self.anchor.as_ref().map_or("none given".to_string(), |a| escape(&a.to_string()));
        let gaps = if self.gaps.is_empty() {
            String::new()
        } else {
            let ranges: Vec<String> = self.gaps.iter().map(|(a, b)| format!("{a}–{b}")).collect();
            format!("<p>Filtered export: events {} are not in it; every event's hash and the links between consecutive events were checked.</p>", ranges.join(", "))
        };
        let status = if v.ok {
            format!(
                r#"<p class="ok" id="verification">Chain verified: {} events, every hash recomputed.</p>"#,
                v.checked
            )
        } else {
            format!(
                r#"<p class="bad" id="verification">Chain verification FAILED at event {}: {} ({} events verified before it).</p>"#,
                v.first_bad_seq.unwrap_or_default(),
                escape(v.reason.as_deref().unwrap_or("")),
                v.checked
            )
        };
        format!("{status}{gaps}<dl><dt>Head hash</dt><dd><code>{}</code></dd><dt>Anchor</dt><dd><code>{anchor}</code></dd><dt>Source</dt><dd>{}</dd></dl>", escape(&v.head_hash), escape(&self.source))
    }

    fn risky_table(&self) -> String {
        let mut out = String::from("<table id=\"risky\"><tr><th>seq</th><th>time</th><th>role</th><th>command</th><th>relation</th><th>risk</th><th>decision</th><th>covered by</th><th>policy</th><th>repository / PR</th></tr>");
        for row in self.rows.iter().filter(|r| is_risky(r)) {
            let covered = match (row.column("approver"), row.column("exemption_reason")) {
                (Some(approver), _) => format!("approved by {}", escape(approver)),
                (None, Some(reason)) => format!("exempted: {}", escape(reason)),
                _ => escape(row.event.reason.as_deref().unwrap_or("")),
            };
            let repo = [row.column("repository"), row.column("pull_request").map(|p| p.trim_start_matches('#'))]
                .iter()
                .flatten()
                .map(|s| escape(s))
                .collect::<Vec<_>>()
                .join(" #");
            let _ = write!(
                out,
                "<tr class=\"risk-{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{covered}</td><td>v{}</td><td>{repo}</td></tr>",
                cell(row, "highest_risk"),
                row.event.seq,
                cell(row, "recorded_at"),
                cell(row, "session_role"),
                cell(row, "command_tag"),
                cell(row, "relation"),
                cell(row, "risk"),
                cell(row, "decision"),
                cell(row, "policy_version"),
            );
        }
        out.push_str("</table>");
        out
    }

    fn denial_table(&self) -> String {
        let mut out = String::from("<table id=\"denials\"><tr><th>seq</th><th>time</th><th>role</th><th>command</th><th>relation</th><th>risk</th><th>why</th><th>statement</th></tr>");
        for row in self.rows.iter().filter(|r| is_denial(r)) {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
                row.event.seq,
                cell(row, "recorded_at"),
                cell(row, "session_role"),
                cell(row, "command_tag"),
                cell(row, "relation"),
                cell(row, "risk"),
                cell(row, "reason"),
                cell(row, "statement"),
            );
        }
        out.push_str("</table>");
        out
    }

    pub fn html(&self) -> String {
        let decisions = self.rows.iter().filter(|r| is_decision(r)).count();
        format!(
            r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>fence evidence report</title>
<style>
body {{ font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #1d2330; }}
h1 {{ font-size: 1.6em; margin-bottom: .2em; }} h2 {{ margin-top: 1.6em; border-bottom: 1px solid #d8dce4; }}
.ok {{ background: #e5f6ea; border-left: 5px solid #2f9e55; padding: .6em 1em; font-weight: 600; }}
.bad {{ background: #fbe7e7; border-left: 5px solid #c73737; padding: .6em 1em; font-weight: 600; }}
.counts span {{ display: inline-block; margin-right: 1.5em; }} .counts b {{ font-size: 1.4em; }}
dl {{ display: grid; grid-template-columns: 7em 1fr; gap: .2em 1em; }} dt {{ color: #5a6275; }}
code {{ font-size: 12px; word-break: break-all; }}
table {{ border-collapse: collapse; width: 100%; font-size: 13px; }}
th, td {{ text-align: left; padding: .3em .5em; border-bottom: 1px solid #e6e8ee; vertical-align: top; }}
th {{ background: #f3f4f7; }} tr.risk-critical td:first-child {{ border-left: 4px solid #c73737; }}
rect.allow {{ fill: #2f9e55; }} rect.warn {{ fill: #e0a21b; }} rect.deny {{ fill: #c73737; }}
text.n {{ font-size: 11px; text-anchor: middle; fill: #1d2330; }} text.label {{ font-size: 10px; fill: #5a6275; }}
.legend span {{ margin-right: 1em; }} .legend i {{ display: inline-block; width: .8em; height: .8em; margin-right: .3em; }}
</style></head>
<body data-verified="{verified}" data-events="{events}" data-decisions="{decisions}" data-denials="{denials}" data-risky="{risky}">
<h1>fence evidence report</h1>
{verification}
<p class="counts"><span><b id="event-count">{events}</b> events</span><span><b id="decision-count">{decisions}</b> decisions</span><span><b id="risky-count">{risky}</b> risky migrations allowed</span><span><b id="denial-count">{denials}</b> denials</span></p>
<h2>Decisions over time</h2>
<p class="legend"><span><i style="background:#2f9e55"></i>allowed</span><span><i style="background:#e0a21b"></i>warned</span><span><i style="background:#c73737"></i>denied</span></p>
{chart}
<h2>Risky migrations (medium risk and above) that ran</h2>
{risky_table}
<h2>Denials</h2>
{denial_table}
<p><small>Generated by <code>fence report</code> from the CSV export alone; the hashes were recomputed with the same code as the extension's <code>fence.verify_chain()</code>.</small></p>
</body></html>
"#,
            verified = self.verification.ok,
            events = self.rows.len(),
            denials = self.denials(),
            risky = self.risky(),
            verification = self.verification_block(),
            chart = self.chart(),
            risky_table = self.risky_table(),
            denial_table = self.denial_table(),
        )
    }
}

pub fn run(file: &str, html: &str, anchor: Option<Anchor>) -> Result<ExitCode, String> {
    let data = std::fs::File::open(file).map_err(|e| format!("{file}: {e}"))?;
    let rows = verify_csv::read(data).map_err(|e| format!("{file}: {e}"))?;
    let (verification, gaps) = verify_csv::verify(&rows, anchor.clone(), true);
    let report = Report { source: file.to_string(), rows: &rows, verification, gaps, anchor };
    std::fs::write(html, report.html()).map_err(|e| format!("{html}: {e}"))?;
    crate::exit_on_closed_pipe(if report.verification.ok { 0 } else { 1 });
    println!(
        "{html}: {} events, {} risky migrations, {} denials; chain {}",
        rows.len(),
        report.risky(),
        report.denials(),
        if report.verification.ok { "verified" } else { "verification FAILED" }
    );
    Ok(if report.verification.ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
