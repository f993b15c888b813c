//! Charts as SVG drawn on the server: no script, readable without colour (values are printed), and
//! described for screen readers with a title and a table-like text alternative.

use std::fmt::Write;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// At most `max` characters, cut at a word boundary, with an ellipsis when cut.
fn shorten(label: &str, max: usize) -> String {
    if label.chars().count() <= max {
        return label.to_string();
    }
    let head: String = label.chars().take(max - 1).collect();
    let cut = head.rfind(' ').filter(|&i| i > max / 2).unwrap_or(head.len());
    format!("{}…", head[..cut].trim_end())
}

/// A horizontal bar chart of labelled counts, largest first as given.
pub fn bars(title: &str, rows: &[(String, i64)]) -> String {
    let bar_h = 22;
    let gap = 6;
    let label_w = 300;
    let bar_w = 320;
    let value_w = 60;
    let width = label_w + bar_w + value_w;
    let height = rows.len() as i32 * (bar_h + gap) + gap;
    let max = rows.iter().map(|r| r.1).max().unwrap_or(1).max(1);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" role="img" aria-label="{t}" viewBox="0 0 {width} {height}" width="100%" xmlns="http://www.w3.org/2000/svg"><title>{t}</title>"#,
        t = esc(title)
    );
    for (i, (label, n)) in rows.iter().enumerate() {
        let y = gap + i as i32 * (bar_h + gap);
        let w = ((*n as f64 / max as f64) * bar_w as f64).round().max(1.0) as i32;
        let ty = y + bar_h / 2 + 5;
        // Long labels are shortened on the chart; the full text stays in the row's tooltip.
        let short = shorten(label, 40);
        let _ = write!(
            svg,
            r##"<g><title>{full}: {n}</title><text x="{lx}" y="{ty}" text-anchor="end" font-size="13" fill="#1f2933">{label}</text><rect x="{bx}" y="{y}" width="{w}" height="{bar_h}" rx="3" fill="#0b6e4f"/><text x="{vx}" y="{ty}" font-size="13" fill="#1f2933">{n}</text></g>"##,
            lx = label_w - 8,
            full = esc(label),
            label = esc(&short),
            bx = label_w,
            vx = label_w + w + 6,
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_and_escape_labels() {
        let svg = bars("Entidades", &[("<b>Energía</b>".into(), 10), ("Agua".into(), 5)]);
        assert!(svg.contains(r#"width="320""#), "largest bar spans the full width");
        assert!(svg.contains(r#"width="160""#), "half the largest, half the width");
        assert!(svg.contains("&lt;b&gt;Energía&lt;/b&gt;"));
        assert!(!svg.contains("<b>"));
        let long = bars(
            "x",
            &[("Telecomunicaciones e infraestructura digital crítica".into(), 1)],
        );
        assert!(long.contains(">Telecomunicaciones e infraestructura…<"), "{long}");
        assert!(long.contains("<title>Telecomunicaciones e infraestructura digital crítica: 1</title>"));
    }
}
