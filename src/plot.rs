//! Precision-recall plots for `anshin eval --plot-dir`: one SVG per category, one curve
//! per column (rules, model, combined), each with its operating point marked.

use std::path::Path;

use anshin_core::offline::eval::{precision_recall_curve, Column, LabelledItem};
use anshin_core::screening::{Screener, Screening};
use anshin_core::taxonomy::Category;
use plotters::prelude::*;

/// (recall, precision)
type Point = (f64, f64);

const COLOURS: [RGBColor; 3] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
];

/// Writes `pr-<category>.svg` for every category with labelled items; returns how many.
/// An error carries the file and the reason.
pub fn write_precision_recall(
    dir: &Path,
    items: &[LabelledItem],
    screenings: &[Screening],
    screener: &Screener,
) -> Result<usize, (String, String)> {
    std::fs::create_dir_all(dir).map_err(|e| (dir.display().to_string(), e.to_string()))?;
    let columns: Vec<Column> = Column::ALL
        .into_iter()
        .filter(|c| *c != Column::Model || screener.model_version().is_some())
        .collect();
    let mut written = 0;
    for category in Category::ALL {
        let curves: Vec<(Column, Vec<Point>, Option<Point>)> = columns
            .iter()
            .map(|&column| {
                let curve = precision_recall_curve(items, screenings, category, column);
                let review = screener.policy().category(category).review_threshold;
                // The operating point: the lowest threshold still at or above review.
                let operating = curve
                    .iter()
                    .rev()
                    .find(|p| p.threshold >= review)
                    .map(|p| (p.recall, p.precision));
                (
                    column,
                    curve
                        .iter()
                        .map(|p| (p.recall, p.precision))
                        .collect::<Vec<_>>(),
                    operating,
                )
            })
            .filter(|(_, curve, _)| !curve.is_empty())
            .collect();
        if curves.is_empty() {
            continue;
        }
        let path = dir.join(format!("pr-{}.svg", category.id()));
        let fail = |e: &dyn std::fmt::Display| (path.display().to_string(), e.to_string());
        let root = SVGBackend::new(&path, (480, 400)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| fail(&e))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!("{category}: precision / recall"),
                ("sans-serif", 18),
            )
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(44)
            .build_cartesian_2d(0f64..1.02f64, 0f64..1.02f64)
            .map_err(|e| fail(&e))?;
        chart
            .configure_mesh()
            .x_desc("recall")
            .y_desc("precision")
            .draw()
            .map_err(|e| fail(&e))?;
        for (column, curve, operating) in curves {
            let colour = COLOURS[Column::ALL.iter().position(|c| *c == column).unwrap_or(0)];
            chart
                .draw_series(LineSeries::new(curve, colour.stroke_width(2)))
                .map_err(|e| fail(&e))?
                .label(column.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2))
                });
            if let Some(point) = operating {
                chart
                    .draw_series([Circle::new(point, 5, colour.filled())])
                    .map_err(|e| fail(&e))?;
            }
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerLeft)
            .border_style(BLACK)
            .background_style(WHITE.mix(0.8))
            .draw()
            .map_err(|e| fail(&e))?;
        root.present().map_err(|e| fail(&e))?;
        written += 1;
    }
    Ok(written)
}
