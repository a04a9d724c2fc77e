//! Draws the plot of `docs/BENCHMARKS.md` from the results `bench/run.sh` stored: time per
//! posting against length, one line per (run, text) — ordinary and trigger-dense text, for
//! every stored run (before, after). Log–log axes: a straight line of slope 1 is a cost
//! linear in the length.
//!
//!     cargo run --example bench_plot -- bench/results docs/bench-time-per-posting.svg

use std::path::Path;

use plotters::prelude::*;
use serde_json::Value;

type Series = (String, Vec<(f64, f64)>);

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (dir, out) = match args.as_slice() {
        [_, dir, out] => (Path::new(dir), Path::new(out)),
        _ => return Err("usage: bench_plot RESULTS_DIR OUT.svg".into()),
    };
    let mut runs: Vec<Value> = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "json") {
            runs.push(serde_json::from_str(&std::fs::read_to_string(&path)?)?);
        }
    }
    runs.sort_by_key(|r| {
        (
            r["label"] != "before",
            r["label"].as_str().map(str::to_owned),
        )
    });

    let mut series: Vec<Series> = Vec::new();
    for run in &runs {
        for kind in ["ordinary", "dense"] {
            let Some(points) = run["anshin"]["per_posting_us"][kind].as_object() else {
                continue;
            };
            let mut line: Vec<(f64, f64)> = points
                .iter()
                .filter_map(|(length, us)| Some((length.parse::<f64>().ok()?, us.as_f64()?)))
                .filter(|&(_, us)| us > 0.0)
                .collect();
            line.sort_by(|a, b| a.0.total_cmp(&b.0));
            let label = format!("{} — {kind}", run["label"].as_str().unwrap_or("?"));
            series.push((label, line));
        }
    }
    let all = series.iter().flat_map(|(_, s)| s.iter());
    let (x_min, x_max) = all
        .clone()
        .fold((f64::MAX, 0f64), |(a, b), p| (a.min(p.0), b.max(p.0)));
    let (y_min, y_max) = all.fold((f64::MAX, 0f64), |(a, b), p| (a.min(p.1), b.max(p.1)));
    if series.is_empty() || x_min >= x_max {
        return Err("no results to plot".into());
    }

    let root = SVGBackend::new(out, (900, 560)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "anshin screen: time per posting against length (one core)",
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(
            (x_min * 0.8..x_max * 1.25).log_scale(),
            (y_min * 0.7..y_max * 1.5).log_scale(),
        )?;
    chart
        .configure_mesh()
        .x_desc("posting length (characters)")
        .y_desc("µs per posting")
        .draw()?;
    let colours = [
        RGBColor(214, 39, 40),
        RGBColor(255, 127, 14),
        RGBColor(31, 119, 180),
        RGBColor(44, 160, 44),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
    ];
    for (i, (label, points)) in series.iter().enumerate() {
        let colour = colours[i % colours.len()];
        chart
            .draw_series(LineSeries::new(
                points.iter().copied(),
                colour.stroke_width(2),
            ))?
            .label(label.as_str())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2))
            });
        chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, colour.filled())))?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperLeft)
        .draw()?;
    root.present()?;
    Ok(())
}
