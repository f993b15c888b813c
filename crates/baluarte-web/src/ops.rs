//! Operations: liveness, readiness and Prometheus metrics.

use crate::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Instant;

/// Latency buckets in seconds.
const BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1.0, 2.5, 5.0];

#[derive(Debug, Default)]
struct Series {
    count: u64,
    sum: f64,
    buckets: [u64; BUCKETS.len()],
}

/// Request counts and latencies per (method, route, status), kept in memory.
#[derive(Debug, Default)]
pub struct Metrics {
    series: Mutex<BTreeMap<(String, String, u16), Series>>,
}

impl Metrics {
    fn observe(&self, method: &str, route: &str, status: u16, secs: f64) {
        let Ok(mut map) = self.series.lock() else { return };
        let s = map.entry((method.to_string(), route.to_string(), status)).or_default();
        s.count += 1;
        s.sum += secs;
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                s.buckets[i] += 1;
            }
        }
    }

    fn render(&self, out: &mut String) {
        let Ok(map) = self.series.lock() else { return };
        out.push_str("# HELP baluarte_http_requests_total HTTP requests by method, route and status.\n# TYPE baluarte_http_requests_total counter\n");
        for ((m, r, s), v) in map.iter() {
            let _ = writeln!(
                out,
                "baluarte_http_requests_total{{method=\"{m}\",route=\"{r}\",status=\"{s}\"}} {}",
                v.count
            );
        }
        out.push_str("# HELP baluarte_http_request_duration_seconds Request latency.\n# TYPE baluarte_http_request_duration_seconds histogram\n");
        let mut per_route: BTreeMap<(&str, &str), Series> = BTreeMap::new();
        for ((m, r, _), v) in map.iter() {
            let agg = per_route.entry((m, r)).or_default();
            agg.count += v.count;
            agg.sum += v.sum;
            for i in 0..BUCKETS.len() {
                agg.buckets[i] += v.buckets[i];
            }
        }
        for ((m, r), v) in per_route {
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "baluarte_http_request_duration_seconds_bucket{{method=\"{m}\",route=\"{r}\",le=\"{b}\"}} {}",
                    v.buckets[i]
                );
            }
            let _ = writeln!(
                out,
                "baluarte_http_request_duration_seconds_bucket{{method=\"{m}\",route=\"{r}\",le=\"+Inf\"}} {}",
                v.count
            );
            let _ = writeln!(
                out,
                "baluarte_http_request_duration_seconds_sum{{method=\"{m}\",route=\"{r}\"}} {}",
                v.sum
            );
            let _ = writeln!(
                out,
                "baluarte_http_request_duration_seconds_count{{method=\"{m}\",route=\"{r}\"}} {}",
                v.count
            );
        }
    }
}

/// Middleware: time every request under its route pattern (never the raw path, which has ids).
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let start = Instant::now();
    let res = next.run(req).await;
    state
        .metrics
        .observe(&method, &route, res.status().as_u16(), start.elapsed().as_secs_f64());
    res
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

/// The process is up.
async fn healthz() -> &'static str {
    "ok"
}

/// The process can serve: the database answers.
async fn readyz(State(state): State<AppState>) -> Response {
    match state.services.db().ping().await {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(e) => {
            tracing::warn!(error = %e.chain(), "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    let mut out = String::new();
    state.metrics.render(&mut out);
    // Registry sizes, read at scrape time.
    match state.services.registry().platform_gauges().await {
        Ok(gauges) => {
            for (name, help, n) in gauges {
                let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {n}");
            }
        }
        Err(e) => tracing::warn!(error = %e.chain(), "metrics: gauges unavailable"),
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}
